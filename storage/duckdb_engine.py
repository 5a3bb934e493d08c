"""DuckDB implementation of the engine seam.

DuckDB allows one writing process per file, so every write goes through an inter-process file
lock: a second pipeline process waits for the first instead of failing on DuckDB's lock, and
readers only ever open the published snapshot, never this file.
"""

from __future__ import annotations

import json
import os
import shutil
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass
from datetime import UTC, date, datetime
from pathlib import Path
from typing import TYPE_CHECKING

import duckdb
import pyarrow as pa
from filelock import FileLock, Timeout

from storage.engine import Paths

if TYPE_CHECKING:  # pandas costs ~1 s to import; DuckDB's .df() imports it when needed
    import pandas as pd

EXPORT_VERSIONS = ".exports"  # $LEVSTRESS_HOME/.exports/<version>/; export -> one of them
SERVING_STORAGE_VERSION = "v1.0.0"  # readable by the DuckDB 1.x builds that BI drivers embed
REJECTS_TABLE = "rejected_rows"
TIME_COLUMNS = ("date", "hour_start", "episode_date")  # a mart's time column: exports are split by its month


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

    def row_counts(self, relations: list[tuple[str, str]]) -> dict[tuple[str, str], int]:
        # Tables only: counting a view runs its query over all history, which would make a daily
        # run's cost grow with the warehouse.
        with self.connect() as con:
            existing = set(con.execute("SELECT schema_name, table_name FROM duckdb_tables()").fetchall())
            return {
                (schema, name): con.execute(f"SELECT count(*) FROM {_quote(schema)}.{_quote(name)}").fetchone()[0]
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

    def publish(self, marts: list[str]) -> dict[str, int]:
        """Write-audit-publish, last step. The snapshot is built under a temporary name and renamed
        over the old one; the Parquet files and their manifest are written into a new version folder
        and ``export`` (a symlink) is switched to it in one rename. Readers see the old or the new
        copy of each, never a mix or a torn file; the previous version stays on disk for readers
        still holding it. Both carry the same version id (``meta.publication`` in the snapshot,
        ``version`` in the manifest)."""
        serving_tmp = self.paths.serving.with_name(f".{self.paths.serving.name}.{os.getpid()}.tmp")
        serving_tmp.unlink(missing_ok=True)
        published_at = datetime.now(UTC)
        version = published_at.strftime("%Y%m%dT%H%M%S%fZ")
        versions = self.paths.home / EXPORT_VERSIONS
        version_dir = versions / version
        counts: dict[str, int] = {}
        files: dict[str, list[str]] = {}
        with self.connect() as con:
            con.execute(f"ATTACH '{serving_tmp}' AS serving (STORAGE_VERSION '{SERVING_STORAGE_VERSION}')")
            try:
                con.execute("CREATE SCHEMA serving.marts")
                for mart in marts:
                    con.execute(f"CREATE TABLE serving.marts.{_quote(mart)} AS SELECT * FROM marts.{_quote(mart)}")
                    counts[mart] = con.execute(f"SELECT count(*) FROM serving.marts.{_quote(mart)}").fetchone()[0]
                    files[mart] = _export_by_month(con, mart, version_dir / mart)
                con.execute("CREATE SCHEMA serving.meta")
                con.execute(
                    "CREATE TABLE serving.meta.publication AS "
                    "SELECT ?::VARCHAR AS version, ?::TIMESTAMPTZ AS published_at",
                    [version, published_at],
                )
            finally:
                con.execute("DETACH serving")
        manifest = {
            "published_at": published_at.isoformat(),
            "version": version,
            "layout": "export/<mart>/<mart>_<YYYY-MM>.parquet: one file per calendar month of the mart's time column",
            "row_counts": counts,
            "files": files,
        }
        (version_dir / "manifest.json").write_text(json.dumps(manifest, indent=2))
        _fsync(version_dir / "manifest.json")
        _fsync_dir(version_dir)
        _fsync(serving_tmp)
        os.replace(serving_tmp, self.paths.serving)
        _retire_unversioned_export(self.paths.export, versions)
        previous = os.readlink(self.paths.export) if self.paths.export.is_symlink() else None
        _switch_link(self.paths.export, Path(EXPORT_VERSIONS) / version)
        _fsync_dir(self.paths.home)
        _prune_versions(versions, keep={version, Path(previous).name if previous else version})
        return counts


def _time_column(con: duckdb.DuckDBPyConnection, mart: str) -> str:
    columns = {
        r[0]
        for r in con.execute(
            "SELECT column_name FROM information_schema.columns WHERE table_schema = 'marts' AND table_name = ?", [mart]
        ).fetchall()
    }
    return next(c for c in TIME_COLUMNS if c in columns)


def _export_by_month(con: duckdb.DuckDBPyConnection, mart: str, directory: Path) -> list[str]:
    """One zstd Parquet file per calendar month, rows in time order, so engines skip whole files
    by name or by their min/max statistics; column types are the table's."""
    directory.mkdir(parents=True, exist_ok=True)
    column = _quote(_time_column(con, mart))
    months = [
        m
        for (m,) in con.execute(
            f"SELECT DISTINCT strftime({column}, '%Y-%m') FROM marts.{_quote(mart)} ORDER BY 1"
        ).fetchall()
    ]
    names = []
    for month in months:
        path = directory / f"{mart}_{month}.parquet"
        rows = f"SELECT * FROM marts.{_quote(mart)} WHERE strftime({column}, '%Y-%m') = '{month}' ORDER BY {column}"
        con.execute(f"COPY ({rows}) TO '{path}' (FORMAT parquet, COMPRESSION zstd)")
        _fsync(path)
        names.append(path.name)
    return names


def _retire_unversioned_export(export: Path, versions: Path) -> None:
    """Homes published before 2026-11-26 have ``export`` as a real folder (one symlink per mart);
    it is moved aside so the link can take its place, and pruned with the old versions."""
    if export.is_dir() and not export.is_symlink():
        os.replace(export, versions / "00000000-unversioned")


def _switch_link(link: Path, target: Path) -> None:
    """Point ``link`` at ``target`` (relative) with one atomic rename."""
    tmp = link.with_name(f".{link.name}.{os.getpid()}.link")
    tmp.unlink(missing_ok=True)
    tmp.symlink_to(target)
    os.replace(tmp, link)


def _prune_versions(root: Path, keep: set[str]) -> None:
    """Everything but the published version and the one before it (readers may still hold it),
    including versions a killed publish wrote but never switched to."""
    for old in root.iterdir():
        if old.name not in keep:
            shutil.rmtree(old, ignore_errors=True)


def _fsync_dir(path: Path) -> None:
    """Make renames and new entries in ``path`` durable (a rename is only durable once its folder is)."""
    fd = os.open(str(path), os.O_RDONLY)
    try:
        os.fsync(fd)
    finally:
        os.close(fd)


def _fsync(path: object) -> None:
    with open(str(path), "rb") as handle:
        os.fsync(handle.fileno())
