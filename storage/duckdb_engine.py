"""DuckDB implementation of the engine seam.

DuckDB allows one writing process per file, so every write goes through an inter-process file
lock: a second pipeline process waits for the first instead of failing on DuckDB's lock, and
readers only ever open the published snapshot, never this file.
"""

from __future__ import annotations

import json
import os
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass
from datetime import UTC, date, datetime
from typing import TYPE_CHECKING

import duckdb
import pyarrow as pa
from filelock import FileLock, Timeout

from storage.engine import Paths

if TYPE_CHECKING:  # pandas costs ~1 s to import; DuckDB's .df() imports it when needed
    import pandas as pd

SERVING_STORAGE_VERSION = "v1.0.0"  # readable by the DuckDB 1.x builds that BI drivers embed
REJECTS_TABLE = "rejected_rows"


class WarehouseLocked(RuntimeError):
    pass


def _quote(name: str) -> str:
    return '"' + name.replace('"', '""') + '"'


@dataclass
class DuckDBEngine:
    paths: Paths
    lock_timeout_s: float = 900.0

    @contextmanager
    def connect(self) -> Iterator[duckdb.DuckDBPyConnection]:
        self.paths.home.mkdir(parents=True, exist_ok=True)
        lock = FileLock(str(self.paths.lock), timeout=self.lock_timeout_s)
        try:
            lock.acquire()
        except Timeout as exc:
            raise WarehouseLocked(
                f"another levstress process has held {self.paths.lock} for {self.lock_timeout_s:.0f}s; "
                f"it is writing {self.paths.warehouse}"
            ) from exc
        try:
            con = duckdb.connect(str(self.paths.warehouse))
            try:
                yield con
            finally:
                con.close()
        finally:
            lock.release()

    def replace_partitions(self, table: str, rows: pa.Table, rejects: pa.Table, days: list[date]) -> None:
        target = f"raw.{_quote(table)}"
        with self.connect() as con:
            con.register("incoming_rows", rows)
            con.register("incoming_rejects", rejects)
            con.execute("BEGIN TRANSACTION")
            try:
                con.execute("CREATE SCHEMA IF NOT EXISTS raw")
                con.execute(f"CREATE TABLE IF NOT EXISTS {target} AS SELECT * FROM incoming_rows LIMIT 0")
                con.execute(f"CREATE TABLE IF NOT EXISTS raw.{REJECTS_TABLE} AS SELECT * FROM incoming_rejects LIMIT 0")
                con.execute(f"DELETE FROM {target} WHERE partition_date = ANY(?::DATE[])", [days])
                con.execute(f"INSERT INTO {target} BY NAME SELECT * FROM incoming_rows")
                con.execute(
                    f"DELETE FROM raw.{REJECTS_TABLE} WHERE source_table = ? AND partition_date = ANY(?::DATE[])",
                    [table, days],
                )
                con.execute(f"INSERT INTO raw.{REJECTS_TABLE} BY NAME SELECT * FROM incoming_rejects")
                con.execute("COMMIT")
            except Exception:
                con.execute("ROLLBACK")
                raise

    def read_days(self, schema: str, table: str, date_column: str, days: list[date] | None) -> pd.DataFrame:
        with self.connect() as con:
            sql = f"SELECT * FROM {_quote(schema)}.{_quote(table)}"
            if days is None:
                return con.execute(sql).df()
            return con.execute(f"{sql} WHERE {_quote(date_column)} = ANY(?::DATE[])", [days]).df()

    def publish(self, marts: list[str]) -> dict[str, int]:
        """Write-audit-publish, last step: build the snapshot and Parquet files under temporary
        names, then rename them over the old ones, so readers see the old or the new copy only."""
        serving_tmp = self.paths.serving.with_name(f".{self.paths.serving.name}.{os.getpid()}.tmp")
        serving_tmp.unlink(missing_ok=True)
        self.paths.export.mkdir(parents=True, exist_ok=True)
        counts: dict[str, int] = {}
        renames: list[tuple[str, str]] = []
        with self.connect() as con:
            con.execute(f"ATTACH '{serving_tmp}' AS serving (STORAGE_VERSION '{SERVING_STORAGE_VERSION}')")
            try:
                con.execute("CREATE SCHEMA serving.marts")
                for mart in marts:
                    con.execute(f"CREATE TABLE serving.marts.{_quote(mart)} AS SELECT * FROM marts.{_quote(mart)}")
                    counts[mart] = con.execute(f"SELECT count(*) FROM serving.marts.{_quote(mart)}").fetchone()[0]
                    parquet_tmp = self.paths.export / f".{mart}.parquet.tmp"
                    con.execute(f"COPY marts.{_quote(mart)} TO '{parquet_tmp}' (FORMAT parquet, COMPRESSION zstd)")
                    renames.append((str(parquet_tmp), str(self.paths.export / f"{mart}.parquet")))
            finally:
                con.execute("DETACH serving")
        _fsync(serving_tmp)
        os.replace(serving_tmp, self.paths.serving)
        for tmp, final in renames:
            _fsync(tmp)
            os.replace(tmp, final)
        manifest = {"published_at": datetime.now(UTC).isoformat(), "row_counts": counts}
        manifest_tmp = self.paths.export / ".manifest.json.tmp"
        manifest_tmp.write_text(json.dumps(manifest, indent=2))
        os.replace(manifest_tmp, self.paths.export / "manifest.json")
        return counts


def _fsync(path: object) -> None:
    with open(str(path), "rb") as handle:
        os.fsync(handle.fileno())
