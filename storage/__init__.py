"""The warehouse engine seam: how raw partitions land, how checks read tables and how the
published copy is exported. Assets and checks talk to :class:`Engine`; only this package knows
which engine is underneath (``LEVSTRESS_WAREHOUSE``: DuckDB, the default, or Spark)."""

from storage.duckdb_engine import DuckDBEngine, DuckDBSession, WarehouseLocked
from storage.engine import Engine, Paths
from storage.run_lock import WarehouseBusy, hold_run_lock
from storage.spark_engine import SparkEngine

__all__ = [
    "DuckDBEngine",
    "DuckDBSession",
    "Engine",
    "Paths",
    "SparkEngine",
    "WarehouseBusy",
    "WarehouseLocked",
    "hold_run_lock",
]
