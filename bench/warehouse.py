"""A throw-away pipeline home (``$LEVSTRESS_HOME`` with its own ``DAGSTER_HOME``) and the Dagster
command a user runs against it, timed as a subprocess (process start included)."""

from __future__ import annotations

import os
import shutil
import sys
from datetime import date
from pathlib import Path

from bench.procmon import Measured, measure

REPO = Path(__file__).resolve().parent.parent
BIN = Path(sys.executable).parent
# What the Makefile exports for every target (see its header).
MAKE_ENV = {
    "GX_ANALYTICS_ENABLED": "false",
    "DO_NOT_TRACK": "1",
    "DAGSTER_EMIT_PARTITION_SUBSET_IN_PLANNED_EVENTS": "1",
}


def pipeline_env(home: Path) -> dict[str, str]:
    """This process's environment minus any levstress/Dagster settings, pointed at ``home`` in
    demo mode."""
    env = {k: v for k, v in os.environ.items() if not k.startswith(("LEVSTRESS_", "DAGSTER_"))}
    env.update(MAKE_ENV)
    env["LEVSTRESS_HOME"] = str(home)
    env["DAGSTER_HOME"] = str(home / "dagster")
    env["LEVSTRESS_SOURCE_MODE"] = "demo"
    env["PATH"] = f"{BIN}{os.pathsep}{env.get('PATH', '')}"
    return env


class PipelineHome:
    def __init__(self, home: Path, logs: Path) -> None:
        self.home, self.logs = home, logs
        if home.exists():
            shutil.rmtree(home)
        (home / "dagster").mkdir(parents=True)
        shutil.copyfile(REPO / "orchestration" / "dagster.yaml", home / "dagster" / "dagster.yaml")

    @property
    def serving(self) -> Path:
        return self.home / "serving.duckdb"

    def materialize(self, first: date, last: date, label: str, select: str = "*") -> Measured:
        """``dagster asset materialize --select`` for one day or one range (one Dagster run)."""
        window = ["--partition", first.isoformat()] if first == last else ["--partition-range", f"{first}...{last}"]
        cmd = [str(BIN / "dagster"), "asset", "materialize", "-m", "orchestration.definitions", "--select", select]
        return measure(cmd + window, env=pipeline_env(self.home), cwd=REPO, log=self.logs / f"{label}.log")

    def remove(self) -> None:
        shutil.rmtree(self.home, ignore_errors=True)
