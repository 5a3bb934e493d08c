"""DuckDB implementation of the engine seam.

DuckDB allows one writing process per file, so every write goes through an inter-process file
lock: a second pipeline process waits for the first instead of failing on DuckDB's lock, and
readers only ever open the published snapshot, never this file.
"""

from __future__ import annotations

from collections.abc import Iterator, Mapping, Sequence
from contextlib import contextmanager
from dataclasses import dataclass
from datetime import date
from typing import TYPE_CHECKING

import duckdb
import pyarrow as pa
from filelock import FileLock, Timeout

from storage.engine import Paths, outcome_days
from storage.publishing import publish_marts, quote

if TYPE_CHECKING:  # pandas costs ~1 s to import; DuckDB's .df() imports it when needed
    import pandas as pd

REJECTS_TABLE = "rejected_rows"
OUTCOMES_TABLE = "fetch_outcomes"


class WarehouseLocked(RuntimeError):
    pass


LOCK_TIMEOUT_S = 900.0  # a run waits this long for another process's writes before it fails


class DuckDBSession:
    """One connection to the warehouse kept across a run's steps, with the writer lock. Opening
    the file costs 15-30 ms (more as its catalog grows) and a daily run's steps open it ~200
    times. :meth:`release` closes it before another process (dbt) opens the file; the next use
    opens it again."""

    def __init__(self, paths: Paths, lock_timeout_s: float = LOCK_TIMEOUT_S) -> None:
        self.paths = paths
        self.lock_timeout_s = lock_timeout_s
        # The run's lock, not a thread's: a step may open the session on a thread other than the one that releases it.
        self._lock = FileLock(str(paths.lock), timeout=lock_timeout_s, thread_local=False)
        self._connection: duckdb.DuckDBPyConnection | None = None

    def cursor(self) -> duckdb.DuckDBPyConnection:
        """A connection of its own (transactions, registered tables) to the kept database."""
        if self._connection is None:
            self.paths.home.mkdir(parents=True, exist_ok=True)
            try:
                self._lock.acquire()
            except Timeout as exc:
                raise WarehouseLocked(
                    f"another levstress process has held {self.paths.lock} for {self.lock_timeout_s:.0f}s; "
                    f"it is writing {self.paths.warehouse}"
                ) from exc
            try:
                self._connection = duckdb.connect(str(self.paths.warehouse))
            except BaseException:
                self._lock.release()
                raise
        return self._connection.cursor()

    def release(self) -> None:
        if self._connection is not None:
            try:
                self._connection.close()
            finally:
                self._connection = None
                self._lock.release()


@dataclass
class DuckDBEngine:
    paths: Paths
    lock_timeout_s: float = LOCK_TIMEOUT_S
    session: DuckDBSession | None = None

    @contextmanager
    def connect(self) -> Iterator[duckdb.DuckDBPyConnection]:
        """A cursor on the run's session, or, outside a run, on a session of this call only."""
        session = self.session or DuckDBSession(self.paths, self.lock_timeout_s)
        cursor = session.cursor()
        try:
            yield cursor
        finally:
            cursor.close()
            if session is not self.session:
                session.release()

    def replace_partitions(
        self, table: str, rows: pa.Table, rejects: pa.Table, days: list[date], outcomes: pa.Table | None = None
    ) -> None:
        target = f"raw.{quote(table)}"
        with self.connect() as con:
            con.register("incoming_rows", rows)
            con.execute("BEGIN TRANSACTION")
            try:
                con.execute("CREATE SCHEMA IF NOT EXISTS raw")
                con.execute(f"CREATE TABLE IF NOT EXISTS {target} AS SELECT * FROM incoming_rows LIMIT 0")
                con.execute(f"DELETE FROM {target} WHERE partition_date = ANY(?::DATE[])", [days])
                con.execute(f"INSERT INTO {target} BY NAME SELECT * FROM incoming_rows")
                _replace_keyed(con, REJECTS_TABLE, table, rejects, days)
                if outcomes is not None:
                    _replace_keyed(con, OUTCOMES_TABLE, table, outcomes, outcome_days(outcomes))
                con.execute("COMMIT")
            except Exception:
                con.execute("ROLLBACK")
                raise

    def ensure_tables(self, schemas: Mapping[str, pa.Schema]) -> None:
        with self.connect() as con:
            existing = {
                name
                for (name,) in con.execute(
                    "SELECT table_name FROM duckdb_tables() WHERE schema_name = 'raw'"
                ).fetchall()
            }
            missing = {table: schema for table, schema in schemas.items() if table not in existing}
            if not missing:
                return
            con.execute("CREATE SCHEMA IF NOT EXISTS raw")
            for table, schema in missing.items():
                con.register("empty_rows", schema.empty_table())
                con.execute(f"CREATE TABLE IF NOT EXISTS raw.{quote(table)} AS SELECT * FROM empty_rows")
                con.unregister("empty_rows")

    def read_days(self, schema: str, table: str, date_column: str, days: list[date] | None) -> pd.DataFrame:
        with self.connect() as con:
            sql = f"SELECT * FROM {quote(schema)}.{quote(table)}"
            if days is None:
                return con.execute(sql).df()
            return con.execute(f"{sql} WHERE {quote(date_column)} = ANY(?::DATE[])", [days]).df()

    def last_day(self, schema: str, table: str, date_column: str) -> date | None:
        with self.connect() as con:
            if not con.execute(
                "SELECT count(*) FROM duckdb_tables() WHERE schema_name = ? AND table_name = ?", [schema, table]
            ).fetchone()[0]:
                return None
            return con.execute(f"SELECT max({quote(date_column)}) FROM {quote(schema)}.{quote(table)}").fetchone()[0]

    def row_counts(self, relations: list[tuple[str, str]]) -> dict[tuple[str, str], int]:
        # Tables only: counting a view runs its query over all history, which would make a daily
        # run's cost grow with the warehouse.
        with self.connect() as con:
            existing = set(con.execute("SELECT schema_name, table_name FROM duckdb_tables()").fetchall())
            return {
                (schema, name): con.execute(f"SELECT count(*) FROM {quote(schema)}.{quote(name)}").fetchone()[0]
                for schema, name in relations
                if (schema, name) in existing
            }

    def table_columns(self, schema: str) -> dict[str, set[str]]:
        with self.connect() as con:
            rows = con.execute(
                "SELECT table_name, column_name FROM duckdb_columns() WHERE schema_name = ? AND NOT internal", [schema]
            ).fetchall()
        columns: dict[str, set[str]] = {}
        for table, column in rows:
            columns.setdefault(table, set()).add(column)
        return columns

    def publish(self, marts: Mapping[str, Sequence[str]]) -> dict[str, int]:
        with self.connect() as con:
            return publish_marts(con, self.paths, marts)


def _replace_keyed(
    con: duckdb.DuckDBPyConnection, name: str, source_table: str, rows: pa.Table, days: list[date]
) -> None:
    """The days of one source table in a table shared by all of them (rejects, fetch outcomes)."""
    con.register("incoming_keyed", rows)
    con.execute(f"CREATE TABLE IF NOT EXISTS raw.{name} AS SELECT * FROM incoming_keyed LIMIT 0")
    con.execute(
        f"DELETE FROM raw.{name} WHERE source_table = ? AND partition_date = ANY(?::DATE[])", [source_table, days]
    )
    con.execute(f"INSERT INTO raw.{name} BY NAME SELECT * FROM incoming_keyed")
    con.unregister("incoming_keyed")
