"""The seed's market, built once: kept in the process and on disk.

Building the market takes seconds (five years of 5-minute steps and a position book), and the
demo starts a simulator process for every pipeline run. The arrays are saved, one ``.npy`` file
each, under a directory named by the seed and a digest of the code that builds them, and later
processes map them read-only. A directory that cannot be written just means building every time.
"""

from __future__ import annotations

import contextlib
import hashlib
import os
import shutil
import tempfile
from functools import cache
from pathlib import Path

import numpy as np

from ingestion.simulator import book, catalog, market, story, streams, timegrid

CACHE_ENV = "LEVSTRESS_SIMULATOR_CACHE"
BUILT_FROM = (market, story, book, streams, timegrid, catalog)  # the modules the arrays depend on


def cache_root() -> Path:
    configured = os.environ.get(CACHE_ENV)
    if configured:
        return Path(configured)
    return Path(os.environ.get("XDG_CACHE_HOME") or Path.home() / ".cache") / "levstress" / "simulator"


def _digest() -> str:
    source = hashlib.sha256(np.__version__.encode())
    for module in BUILT_FROM:
        source.update(Path(module.__file__ or "").read_bytes())
    return source.hexdigest()[:16]


@cache
def load_market(seed: int) -> market.Market:
    folder = cache_root() / f"market-{seed}-{_digest()}"
    try:
        return read_market(seed, folder)
    except OSError:
        pass  # not built yet, or pruned by a process running other code
    built = market.Market(seed)
    with contextlib.suppress(OSError):  # a read-only or full disk: the next process builds again
        write_market(built, folder)
    return built


def read_market(seed: int, folder: Path) -> market.Market:
    if not (folder / "complete").exists():
        raise FileNotFoundError(folder / "complete")
    loaded = market.Market.__new__(market.Market)
    loaded.seed = seed
    for array in folder.glob("*.npy"):
        setattr(loaded, array.stem, np.load(array, mmap_mode="r").view(np.ndarray))
    return loaded


def write_market(built: market.Market, folder: Path) -> None:
    """Written beside the final name and renamed into place, so a reader never sees half."""
    folder.parent.mkdir(parents=True, exist_ok=True)
    partial = Path(tempfile.mkdtemp(prefix=folder.name + ".", dir=folder.parent))
    try:
        for name, value in vars(built).items():  # every series the market holds
            if isinstance(value, np.ndarray):
                np.save(partial / f"{name}.npy", value)
        (partial / "complete").touch()
        os.rename(partial, folder)
    except OSError:
        shutil.rmtree(partial, ignore_errors=True)
        if not (folder / "complete").exists():
            raise
    for stale in folder.parent.glob(f"market-{built.seed}-*"):  # built by older code: ~180 MB each
        if stale.name != folder.name and "." not in stale.name:
            shutil.rmtree(stale, ignore_errors=True)
