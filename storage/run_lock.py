"""One pipeline run at a time per ``$LEVSTRESS_HOME``.

Dagster's ``warehouse`` pool keeps the runs Dagster launches from writing together, but a second
``make run``, a CLI backfill or a replay is outside its control. Every run therefore holds an
inter-process lock for its whole length; the kernel releases it when the process dies, even by
SIGKILL, so a crashed run never leaves the warehouse locked. Who holds it is written beside it, so
a waiting or refused run can say what it is waiting for.
"""

from __future__ import annotations

import json
import os
import socket
import sys
import time
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

from filelock import FileLock, Timeout

from storage.engine import Paths


class WarehouseBusy(RuntimeError):
    pass


def describe_holder(holder_file: Path) -> str:
    holder = _read_holder(holder_file)
    if holder is None:
        return "another levstress run (it has not written its holder file yet)"
    return (
        f"run {holder.get('run_id', '?')} (pid {holder.get('pid', '?')} on {holder.get('host', '?')}, "
        f"since {holder.get('since', '?')}: {holder.get('command', '?')})"
    )


@contextmanager
def hold_run_lock(
    paths: Paths, run_id: str, wait_s: float, on_wait: Callable[[str], None] = lambda _: None
) -> Iterator[dict[str, Any] | None]:
    """Hold ``$LEVSTRESS_HOME/.run.lock`` for the block. If another run holds it, call ``on_wait``
    with its description and wait up to ``wait_s`` seconds (0: refuse at once), then raise
    ``WarehouseBusy`` naming the holder.

    Yields the record of a previous holder that died holding the lock (its holder file is still
    there: a run that ends removes it), or None, so that its leftovers can be cleared."""
    paths.home.mkdir(parents=True, exist_ok=True)
    lock = FileLock(str(paths.run_lock))
    started = time.monotonic()
    try:
        lock.acquire(timeout=0)
    except Timeout:
        on_wait(describe_holder(paths.run_lock_holder))
        try:
            lock.acquire(timeout=wait_s)
        except Timeout as exc:
            raise WarehouseBusy(
                f"{paths.home} is being written by {describe_holder(paths.run_lock_holder)}; "
                f"gave up after {time.monotonic() - started:.0f}s (LEVSTRESS_RUN_LOCK_WAIT_S). "
                f"The lock is {paths.run_lock}; it is released when that process ends."
            ) from exc
    try:
        crashed = _read_holder(paths.run_lock_holder)
        _write_holder(paths.run_lock_holder, run_id)
        yield crashed
        paths.run_lock_holder.unlink(missing_ok=True)
    finally:
        lock.release()


def _read_holder(holder_file: Path) -> dict[str, Any] | None:
    try:
        return json.loads(holder_file.read_text())
    except (OSError, ValueError):
        return None


def _write_holder(holder_file: Path, run_id: str) -> None:
    holder = {
        "run_id": run_id,
        "pid": os.getpid(),
        "host": socket.gethostname(),
        "since": datetime.now(UTC).isoformat(timespec="seconds"),
        "command": " ".join(os.path.basename(a) if i == 0 else a for i, a in enumerate(sys.argv))[:300],
    }
    tmp = holder_file.with_name(f"{holder_file.name}.{os.getpid()}.tmp")
    tmp.write_text(json.dumps(holder))
    os.replace(tmp, holder_file)
