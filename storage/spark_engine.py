"""Spark implementation of the engine seam.

Raw partitions land as Parquet in a hive-style lake (``<lake>/raw/<table>/partition_date=YYYY-MM-DD/``),
dbt-spark builds the same models into Spark tables under ``<lake>/warehouse/<schema>.db/``, and
the pipeline's own process reads those Parquet files with DuckDB (quality checks, row counts,
publish): no JVM runs beside Dagster, and the published snapshot and exports are the same files
whichever engine built the marts.

A day is replaced by writing it into a hidden folder (Spark and the readers below skip names
starting with ``.``) and exchanging it with the live folder in one ``renameat2(RENAME_EXCHANGE)``,
so a reader sees the old day or the new one, never neither.
"""

from __future__ import annotations

import ctypes
import os
import shutil
import uuid
from collections.abc import Iterator, Mapping, Sequence
from contextlib import contextmanager
from dataclasses import dataclass
from datetime import date
from pathlib import Path
from typing import TYPE_CHECKING

import duckdb
import pyarrow as pa
import pyarrow.compute as pc
import pyarrow.parquet as pq

from storage.engine import Paths, outcome_days
from storage.publishing import fsync, fsync_dir, publish_marts, quote

if TYPE_CHECKING:
    import pandas as pd

RAW = "raw"
REJECTS_TABLE = "rejected_rows"
OUTCOMES_TABLE = "fetch_outcomes"
PARTITION_KEY = "partition_date"
DATA_FILE = "part-00000.parquet"
EMPTY_TABLE_DAY = date(1970, 1, 1)


@dataclass
class SparkEngine:
    paths: Paths
    lake: Path

    def table_dir(self, schema: str, table: str) -> Path:
        """Raw tables are the lake's own folders; everything dbt builds is a Spark table in the
        lake's Spark warehouse (``spark.sql.warehouse.dir`` in dbt_project/profiles.yml)."""
        if schema == RAW:
            return self.lake / RAW / table
        return self.lake / "warehouse" / f"{schema}.db" / table

    def replace_partitions(
        self, table: str, rows: pa.Table, rejects: pa.Table, days: list[date], outcomes: pa.Table | None = None
    ) -> None:
        folder = self.table_dir(RAW, table)
        for day in days:
            _replace_day(folder, day, _rows_of_day(rows, day).drop_columns([PARTITION_KEY]))
        self._replace_keyed(REJECTS_TABLE, table, rejects, days)
        if outcomes is not None:
            self._replace_keyed(OUTCOMES_TABLE, table, outcomes, outcome_days(outcomes))
        _ensure_table(folder, rows.schema)

    def ensure_tables(self, schemas: Mapping[str, pa.Schema]) -> None:
        for table, schema in schemas.items():
            _ensure_table(self.table_dir(RAW, table), schema)

    def _replace_keyed(self, name: str, source_table: str, rows: pa.Table, days: list[date]) -> None:
        """The days of one source table in a table shared by all (rejects, fetch outcomes):
        ``<name>/source_table=<table>/partition_date=<day>/``."""
        folder = self.table_dir(RAW, name) / f"source_table={source_table}"
        for day in days:
            _replace_day(folder, day, _rows_of_day(rows, day).drop_columns([PARTITION_KEY, "source_table"]))

    def read_days(self, schema: str, table: str, date_column: str, days: list[date] | None) -> pd.DataFrame:
        with self._reader([(schema, table)]) as (con, _):
            sql = f"SELECT * FROM {quote(schema)}.{quote(table)}"
            if days is None:
                return con.execute(sql).df()
            return con.execute(f"{sql} WHERE {quote(date_column)} = ANY(?::DATE[])", [days]).df()

    def last_day(self, schema: str, table: str, date_column: str) -> date | None:
        with self._reader([(schema, table)]) as (con, tables):
            if not tables:
                return None
            return con.execute(f"SELECT max({quote(date_column)}) FROM {quote(schema)}.{quote(table)}").fetchone()[0]

    def row_counts(self, relations: list[tuple[str, str]]) -> dict[tuple[str, str], int]:
        with self._reader(relations) as (con, tables):  # views have no files, so no entry
            return {
                (schema, name): con.execute(f"SELECT count(*) FROM {quote(schema)}.{quote(name)}").fetchone()[0]
                for schema, name in tables
            }

    def table_columns(self, schema: str) -> dict[str, set[str]]:
        root = self.table_dir(schema, "_").parent
        folders = [(schema, d.name) for d in sorted(root.iterdir()) if d.is_dir()] if root.is_dir() else []
        with self._reader(folders) as (con, tables):
            return {name: set(con.table(f"{quote(schema)}.{quote(name)}").columns) for _, name in tables}

    def publish(self, marts: Mapping[str, Sequence[str]]) -> dict[str, int]:
        with self._reader([("marts", m) for m in marts]) as (con, _):
            return publish_marts(con, self.paths, marts)

    @contextmanager
    def _reader(
        self, relations: Sequence[tuple[str, str]]
    ) -> Iterator[tuple[duckdb.DuckDBPyConnection, list[tuple[str, str]]]]:
        """An in-memory DuckDB with one view per relation over its Parquet files (hive partition
        folders become columns), and the relations it holds: one without files is left out, as
        a missing table."""
        con = duckdb.connect()
        present = []
        try:
            for schema, name in relations:
                files = _data_files(self.table_dir(schema, name))
                if not files:
                    continue
                con.execute(f"CREATE SCHEMA IF NOT EXISTS {quote(schema)}")
                listed = ", ".join(f"'{f}'" for f in files)
                con.execute(
                    f"CREATE VIEW {quote(schema)}.{quote(name)} AS SELECT * FROM read_parquet([{listed}], "
                    "hive_partitioning = true, union_by_name = true)"
                )
                present.append((schema, name))
            yield con, present
        finally:
            con.close()


def _ensure_table(folder: Path, schema: pa.Schema) -> None:
    """A source with nothing fetched yet (skipped: no API key, or never selected) still has a
    table, with no rows, as on DuckDB: Spark cannot register a table over a folder without a file."""
    if not _data_files(folder):
        _replace_day(folder, EMPTY_TABLE_DAY, schema.empty_table().drop_columns([PARTITION_KEY]))


def _data_files(folder: Path) -> list[str]:
    """The table's Parquet files, without hidden or underscore paths (a day being replaced,
    Spark's ``_temporary`` folders of an unfinished write)."""
    if not folder.is_dir():
        return []
    return sorted(
        str(p)
        for p in folder.rglob("*.parquet")
        if not any(part.startswith((".", "_")) for part in p.relative_to(folder).parts)
    )


def _rows_of_day(rows: pa.Table, day: date) -> pa.Table:
    return rows.filter(pc.equal(rows[PARTITION_KEY], pa.scalar(day, pa.date32())))


def _replace_day(folder: Path, day: date, rows: pa.Table) -> None:
    """Write the day (an empty file when it has no rows, so the day still reads as replaced)
    and swap it in atomically."""
    live = folder / f"{PARTITION_KEY}={day.isoformat()}"
    staged = folder / f".{live.name}.{uuid.uuid4().hex}"
    staged.mkdir(parents=True)
    pq.write_table(rows, staged / DATA_FILE, compression="zstd")
    fsync(staged / DATA_FILE)
    fsync_dir(staged)
    if live.exists():
        _exchange(staged, live)
        shutil.rmtree(staged)
    else:
        os.rename(staged, live)
    fsync_dir(folder)


_libc = ctypes.CDLL(None, use_errno=True)
_AT_FDCWD = -100
_RENAME_EXCHANGE = 2


def _exchange(a: Path, b: Path) -> None:
    """Swap two paths in one step (Linux renameat2); elsewhere two renames, with a moment in
    which ``b`` is missing."""
    renameat2 = getattr(_libc, "renameat2", None)
    if renameat2 is None:
        aside = a.with_name(a.name + ".old")
        os.rename(b, aside)
        os.rename(a, b)
        os.rename(aside, a)
        return
    if renameat2(_AT_FDCWD, os.fsencode(a), _AT_FDCWD, os.fsencode(b), _RENAME_EXCHANGE) != 0:
        errno = ctypes.get_errno()
        raise OSError(errno, f"renameat2(RENAME_EXCHANGE): {os.strerror(errno)}", str(b))
