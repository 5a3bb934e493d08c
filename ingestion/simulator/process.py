"""The simulator in its own process, so that serving (JSON encoding) and the pipeline's parsing
run on separate cores instead of sharing one interpreter lock."""

from __future__ import annotations

import subprocess
import sys
from types import TracebackType

from ingestion.simulator.scenarios import RefusedPort, Scenario
from ingestion.simulator.server import VENUES


class SimulatorProcess:
    def __init__(self, seed: int = 7) -> None:
        self.seed = seed
        self.scenario = Scenario.from_env()  # the child reads the same environment
        self._refused: RefusedPort | None = None
        self._process: subprocess.Popen[str] | None = None
        self._root_url: str | None = None

    def start(self) -> SimulatorProcess:
        process = subprocess.Popen(
            [sys.executable, "-m", "ingestion.simulator", "--seed", str(self.seed)],
            stdin=subprocess.PIPE,
            stdout=subprocess.PIPE,
            text=True,
        )
        line = process.stdout.readline().strip() if process.stdout else ""
        if not line.startswith("http://"):
            process.kill()
            raise RuntimeError(f"the market simulator did not start (exit code {process.poll()})")
        self._process, self._root_url = process, line
        self._refused = RefusedPort() if self.scenario.down else None
        return self

    @property
    def root_url(self) -> str:
        if self._root_url is None:
            raise RuntimeError("the simulator is not running: call start() first")
        return self._root_url

    def base_url(self, source: str) -> str:
        if source not in VENUES or source.startswith("_"):
            raise KeyError(f"unknown source {source!r}")
        if self._refused is not None and source in self.scenario.down:
            return self._refused.url + VENUES[source][0]
        return self.root_url + VENUES[source][0]

    def stop(self) -> None:
        if self._process is None:
            return
        if self._process.stdin:
            self._process.stdin.close()
        try:
            self._process.wait(timeout=10)
        except subprocess.TimeoutExpired:
            self._process.kill()
            self._process.wait()
        self._process, self._root_url = None, None
        if self._refused is not None:
            self._refused.close()
            self._refused = None

    def __enter__(self) -> SimulatorProcess:
        return self.start()

    def __exit__(self, kind: type[BaseException] | None, error: BaseException | None, tb: TracebackType | None) -> None:
        self.stop()
