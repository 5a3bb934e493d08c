"""Publishing, shared by every engine: whatever engine built the marts, readers get the same
read-only DuckDB snapshot and the same monthly Parquet exports, written from a DuckDB connection
in which ``marts.<mart>`` can be read (the warehouse file itself, or views over another engine's
Parquet tables)."""

from __future__ import annotations

import hashlib
import json
import os
import shutil
from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from datetime import UTC, datetime
from pathlib import Path

import duckdb

from storage.engine import Paths

EXPORT_VERSIONS = ".exports"  # $LEVSTRESS_HOME/.exports/<version>/; export -> one of them
SERVING_STORAGE_VERSION = "v1.0.0"  # readable by the DuckDB 1.x builds that BI drivers embed
TIME_COLUMNS = ("date", "hour_start", "episode_date")  # a mart's time column: exports are split by its month


def quote(name: str) -> str:
    return '"' + name.replace('"', '""') + '"'


def publish_marts(con: duckdb.DuckDBPyConnection, paths: Paths, marts: Mapping[str, Sequence[str]]) -> dict[str, int]:
    """Write-audit-publish, last step, for ``marts`` (name -> the contract's columns, in order).
    The snapshot is built under a temporary name and renamed over the old one; the Parquet files
    and their manifest are written into a new version folder and ``export`` (a symlink) is
    switched to it in one rename. Readers see the old or the new copy of each, never a mix or a
    torn file; the previous version stays on disk for readers still holding it. Both carry the
    same version id (``meta.publication`` in the snapshot, ``version`` in the manifest).

    A month whose rows did not change since the last publication (same content fingerprint) is
    hard-linked from the previous version instead of written again, so a daily run writes the
    months it touched, not all history; the fingerprint is of the rows, not of the run's window,
    so a rebuild that changed a month outside the window still rewrites it."""
    serving_tmp = paths.serving.with_name(f".{paths.serving.name}.{os.getpid()}.tmp")
    serving_tmp.unlink(missing_ok=True)
    published_at = datetime.now(UTC)
    version = published_at.strftime("%Y%m%dT%H%M%S%fZ")
    versions = paths.home / EXPORT_VERSIONS
    version_dir = versions / version
    counts: dict[str, int] = {}
    files: dict[str, list[str]] = {}
    fingerprints: dict[str, dict[str, str]] = {}
    reusable = _previous_export(paths.export)
    con.execute(f"ATTACH '{serving_tmp}' AS serving (STORAGE_VERSION '{SERVING_STORAGE_VERSION}')")
    try:
        con.execute("CREATE SCHEMA serving.marts")
        for mart, columns in marts.items():
            published = f"serving.marts.{quote(mart)}"
            select = ", ".join(quote(c) for c in columns)
            con.execute(f"CREATE TABLE {published} AS SELECT {select} FROM marts.{quote(mart)}")
            counts[mart] = con.execute(f"SELECT count(*) FROM {published}").fetchone()[0]
            export = MartExport(mart, published, _time_column(columns), version_dir / mart)
            fingerprints[mart] = export.fingerprints(con)
            files[mart] = export.write(con, fingerprints[mart], reusable)
        con.execute("CREATE SCHEMA serving.meta")
        con.execute(
            "CREATE TABLE serving.meta.publication AS SELECT ?::VARCHAR AS version, ?::TIMESTAMPTZ AS published_at",
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
        "fingerprints": fingerprints,
    }
    (version_dir / "manifest.json").write_text(json.dumps(manifest, indent=2))
    fsync(version_dir / "manifest.json")
    fsync_dir(version_dir)
    fsync(serving_tmp)
    os.replace(serving_tmp, paths.serving)
    _retire_unversioned_export(paths.export, versions)
    previous = os.readlink(paths.export) if paths.export.is_symlink() else None
    _switch_link(paths.export, Path(EXPORT_VERSIONS) / version)
    fsync_dir(paths.home)
    _prune_versions(versions, keep={version, Path(previous).name if previous else version})
    return counts


def _time_column(columns: Sequence[str]) -> str:
    return next(c for c in TIME_COLUMNS if c in columns)


def month_file(mart: str, month: str) -> str:
    return f"{mart}_{month}.parquet"


@dataclass(frozen=True)
class PreviousExport:
    """The published export version a new one can reuse unchanged month files from."""

    directory: Path
    fingerprints: Mapping[str, Mapping[str, str]]

    def reusable(self, mart: str, month: str, fingerprint: str) -> Path | None:
        path = self.directory / mart / month_file(mart, month)
        if self.fingerprints.get(mart, {}).get(month) == fingerprint and path.is_file():
            return path
        return None


def _previous_export(export: Path) -> PreviousExport | None:
    """None when nothing was published yet, or when the last publication predates fingerprints
    (or its manifest cannot be read): then every month is written."""
    try:
        manifest = json.loads((export / "manifest.json").read_text())
    except (OSError, ValueError):
        return None
    if not isinstance(manifest.get("fingerprints"), dict):
        return None
    return PreviousExport(export.resolve(), manifest["fingerprints"])


@dataclass(frozen=True)
class MartExport:
    """One zstd Parquet file per calendar month of a mart, rows in time order, so engines skip
    whole files by name or by their min/max statistics; column types are the table's."""

    mart: str
    relation: str
    time_column: str
    directory: Path

    @property
    def month_expr(self) -> str:
        return f"strftime({quote(self.time_column)}, '%Y-%m')"

    def fingerprints(self, con: duckdb.DuckDBPyConnection) -> dict[str, str]:
        """month -> a fingerprint of its rows (count, order-independent sum of row hashes) and of
        the table's column names and types, so a schema change rewrites every month."""
        schema = con.execute(f"SELECT column_name, column_type FROM (DESCRIBE {self.relation})").fetchall()
        columns = ", ".join(quote(name) for name, _ in schema)
        rows = con.execute(
            f"SELECT {self.month_expr} AS month, count(*), sum(hash({columns})::HUGEINT)::VARCHAR "
            f"FROM {self.relation} GROUP BY ALL ORDER BY month"
        ).fetchall()
        table_hash = hashlib.sha256(repr(schema).encode()).hexdigest()[:16]
        return {month: f"{table_hash}:{count}:{row_hash}" for month, count, row_hash in rows}

    def write(
        self, con: duckdb.DuckDBPyConnection, fingerprints: Mapping[str, str], previous: PreviousExport | None
    ) -> list[str]:
        self.directory.mkdir(parents=True, exist_ok=True)
        names = []
        for month, fingerprint in fingerprints.items():
            path = self.directory / month_file(self.mart, month)
            unchanged = previous.reusable(self.mart, month, fingerprint) if previous else None
            if unchanged is None or not _hard_link(unchanged, path):
                rows = (
                    f"SELECT * FROM {self.relation} WHERE {self.month_expr} = '{month}' "
                    f"ORDER BY {quote(self.time_column)}"
                )
                con.execute(f"COPY ({rows}) TO '{path}' (FORMAT parquet, COMPRESSION zstd)")
                fsync(path)
            names.append(path.name)
        return names


def _hard_link(source: Path, link: Path) -> bool:
    """False where the file system has no hard links (the month is then written again)."""
    try:
        os.link(source, link)
    except OSError:
        return False
    return True


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


def fsync_dir(path: Path) -> None:
    """Make renames and new entries in ``path`` durable (a rename is only durable once its folder is)."""
    fd = os.open(str(path), os.O_RDONLY)
    try:
        os.fsync(fd)
    finally:
        os.close(fd)


def fsync(path: object) -> None:
    with open(str(path), "rb") as handle:
        os.fsync(handle.fileno())
