"""Handing memory a step no longer needs back to the system before a subprocess needs it."""

import ctypes
import ctypes.util
import gc
from pathlib import Path

import pyarrow as pa


def resident_mb() -> float:
    """This process's resident set (Linux; 0 elsewhere)."""
    status = Path("/proc/self/status")
    if not status.exists():
        return 0.0
    line = next((ln for ln in status.read_text().splitlines() if ln.startswith("VmRSS:")), "VmRSS: 0 kB")
    return int(line.split()[1]) / 1024


def release_memory() -> None:
    """A backfill's raw steps leave this process holding a year of parsed payloads' worth of freed
    memory (Arrow's mimalloc pool and glibc's arenas keep freed pages for reuse); dbt's own process
    then needs as much again. Freed pages go back to the system here, so the two do not add up."""
    gc.collect()
    pa.default_memory_pool().release_unused()
    libc = ctypes.util.find_library("c")
    if libc:
        trim = getattr(ctypes.CDLL(libc), "malloc_trim", None)
        if trim is not None:
            trim(0)
