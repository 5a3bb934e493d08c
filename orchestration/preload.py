"""Imports made in the background while a step waits on something else."""

import gc
import importlib
import sys
import threading


def preload(*modules: str) -> None:
    """Import ``modules`` in a background thread: a step that waits on a subprocess (dbt) or the
    network leaves this process idle, and a later step then finds its heavy imports done."""
    threading.Thread(target=lambda: _import_for_good(modules), daemon=True).start()


def _import_for_good(modules: tuple[str, ...]) -> None:
    new = [module for module in modules if module not in sys.modules]
    for module in new:
        importlib.import_module(module)
    if new:  # once: a run's own garbage alive now must stay collectable
        keep_out_of_collections()


def keep_out_of_collections() -> None:
    """Move every object alive now out of the cyclic garbage collector's reach (``gc.freeze``).
    Made after the heavy imports (dagster, dbt, GX, matplotlib: ~540,000 objects that live as
    long as the process), it spares each full collection of a run ~0.4 s, and the interpreter's
    exit ~2 s of tearing them down one by one. Reference counting still frees them. Garbage is
    collected first: a cycle frozen unreachable would keep whatever it holds (a file, a lock)."""
    gc.collect()
    gc.freeze()
