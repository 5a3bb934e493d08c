"""The warehouse engine seam: how raw partitions land, how checks read tables and how the
published copy is exported. Assets and checks talk to :class:`Engine`; only this package knows
which database is underneath (DuckDB today; a Spark implementation is the planned second one)."""

from storage.duckdb_engine import DuckDBEngine, WarehouseLocked
from storage.engine import Engine, Paths
from storage.run_lock import WarehouseBusy, hold_run_lock

__all__ = ["DuckDBEngine", "Engine", "Paths", "WarehouseBusy", "WarehouseLocked", "hold_run_lock"]
