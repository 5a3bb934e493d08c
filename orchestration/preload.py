"""Imports made in the background while a step waits on something else."""

import importlib
import threading


def preload(*modules: str) -> None:
    """Import ``modules`` in a background thread: a step that waits on a subprocess (dbt) or the
    network leaves this process idle, and a later step then finds its heavy imports done."""
    threading.Thread(target=lambda: [importlib.import_module(m) for m in modules], daemon=True).start()
