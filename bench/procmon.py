"""Wall time and peak memory of a command and every process it starts.

psutil is not in the lock file, so the tree is read from ``/proc`` directly: a thread samples the
summed resident set of the process and all its descendants every ``interval`` seconds (RSS of
each process, so pages shared between them are counted once per process). Independently,
``wait4`` returns the kernel's exact peak RSS of the largest single process in the tree (the
command itself or any descendant it waited for).
"""

from __future__ import annotations

import contextlib
import os
import signal
import subprocess
import threading
import time
from collections import defaultdict
from dataclasses import dataclass
from pathlib import Path

PAGE_BYTES = os.sysconf("SC_PAGE_SIZE")
MB = 1024 * 1024
HAVE_PROC = Path("/proc/self/stat").exists()

RSS_METHOD = (
    "peak of the summed RSS of the whole process tree, sampled from /proc every 0.1 s "
    "(shared pages counted once per process); *_max_process_rss_mb = wait4 ru_maxrss of the largest single process"
    if HAVE_PROC
    else "wait4 ru_maxrss of the largest single process in the tree (no /proc to sample the tree)"
)


def _processes() -> dict[int, list[tuple[int, int]]]:
    """parent pid -> [(pid, rss pages)] for every process visible in /proc."""
    children: dict[int, list[tuple[int, int]]] = defaultdict(list)
    for entry in os.scandir("/proc"):
        if not entry.name.isdigit():
            continue
        try:
            with open(f"/proc/{entry.name}/stat", "rb") as handle:
                data = handle.read()
        except OSError:  # exited meanwhile
            continue
        fields = data[data.rfind(b")") + 2 :].split()  # fields[0] is field 3 (state) of proc(5)
        children[int(fields[1])].append((int(entry.name), int(fields[21])))
    return children


def tree_rss_bytes(root: int) -> int:
    children = _processes()
    total, stack, seen = 0, [root], {root}
    rss_of = {pid: rss for kids in children.values() for pid, rss in kids}
    while stack:
        pid = stack.pop()
        total += rss_of.get(pid, 0) * PAGE_BYTES
        for kid, _ in children.get(pid, ()):
            if kid not in seen:
                seen.add(kid)
                stack.append(kid)
    return total


class TreeSampler(threading.Thread):
    def __init__(self, root: int, interval_s: float = 0.1) -> None:
        super().__init__(daemon=True)
        self.root, self.interval_s = root, interval_s
        self.peak_bytes = 0
        self._stop_event = threading.Event()

    def run(self) -> None:
        while True:
            with contextlib.suppress(OSError, ValueError, IndexError):  # a process exited mid-read
                self.peak_bytes = max(self.peak_bytes, tree_rss_bytes(self.root))
            if self._stop_event.wait(self.interval_s):
                return

    def stop(self) -> None:
        self._stop_event.set()
        self.join()


@dataclass
class Measured:
    wall_s: float
    peak_tree_rss_mb: float | None  # None without /proc
    max_process_rss_mb: float
    returncode: int
    log: Path

    @property
    def ok(self) -> bool:
        return self.returncode == 0

    @property
    def peak_rss_mb(self) -> float:
        return self.peak_tree_rss_mb if self.peak_tree_rss_mb is not None else self.max_process_rss_mb


def measure(cmd: list[str], *, env: dict[str, str], cwd: Path, log: Path) -> Measured:
    """Run ``cmd`` (output to ``log``), timing from just before process start to its exit."""
    log.parent.mkdir(parents=True, exist_ok=True)
    with open(log, "wb") as out:
        start = time.perf_counter()
        proc = subprocess.Popen(cmd, env=env, cwd=cwd, stdout=out, stderr=subprocess.STDOUT, start_new_session=True)
        sampler = TreeSampler(proc.pid) if HAVE_PROC else None
        if sampler:
            sampler.start()
        try:
            _, status, usage = os.wait4(proc.pid, 0)
        except BaseException:  # Ctrl-C: stop the run we started (its own process group), then re-raise
            os.killpg(proc.pid, signal.SIGTERM)
            proc.wait()
            raise
        finally:
            if sampler:
                sampler.stop()
        wall = time.perf_counter() - start
    proc.returncode = os.waitstatus_to_exitcode(status)
    return Measured(
        wall_s=wall,
        peak_tree_rss_mb=sampler.peak_bytes / MB if sampler else None,
        max_process_rss_mb=usage.ru_maxrss / 1024,  # KiB on Linux
        returncode=proc.returncode,
        log=log,
    )
