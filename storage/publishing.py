"""Publishing, shared by every engine: whatever engine built the marts, readers get the same
read-only DuckDB snapshot and the same monthly Parquet exports, written from a DuckDB connection
in which ``marts.<mart>`` can be read (the warehouse file itself, or views over another engine's
Parquet tables)."""

from __future__ import annotations

import json
import os
import shutil
from collections.abc import Mapping, Sequence
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
    same version id (``meta.publication`` in the snapshot, ``version`` in the manifest)."""
    serving_tmp = paths.serving.with_name(f".{paths.serving.name}.{os.getpid()}.tmp")
    serving_tmp.unlink(missing_ok=True)
    published_at = datetime.now(UTC)
    version = published_at.strftime("%Y%m%dT%H%M%S%fZ")
    versions = paths.home / EXPORT_VERSIONS
    version_dir = versions / version
    counts: dict[str, int] = {}
    files: dict[str, list[str]] = {}
    con.execute(f"ATTACH '{serving_tmp}' AS serving (STORAGE_VERSION '{SERVING_STORAGE_VERSION}')")
    try:
        con.execute("CREATE SCHEMA serving.marts")
        for mart, columns in marts.items():
            published = f"serving.marts.{quote(mart)}"
            select = ", ".join(quote(c) for c in columns)
            con.execute(f"CREATE TABLE {published} AS SELECT {select} FROM marts.{quote(mart)}")
            counts[mart] = con.execute(f"SELECT count(*) FROM {published}").fetchone()[0]
            files[mart] = _export_by_month(con, mart, published, _time_column(columns), version_dir / mart)
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


def _export_by_month(
    con: duckdb.DuckDBPyConnection, mart: str, relation: str, time_column: str, directory: Path
) -> list[str]:
    """One zstd Parquet file per calendar month, rows in time order, so engines skip whole files
    by name or by their min/max statistics; column types are the table's."""
    directory.mkdir(parents=True, exist_ok=True)
    column = quote(time_column)
    months = [
        m for (m,) in con.execute(f"SELECT DISTINCT strftime({column}, '%Y-%m') FROM {relation} ORDER BY 1").fetchall()
    ]
    names = []
    for month in months:
        path = directory / f"{mart}_{month}.parquet"
        rows = f"SELECT * FROM {relation} WHERE strftime({column}, '%Y-%m') = '{month}' ORDER BY {column}"
        con.execute(f"COPY ({rows}) TO '{path}' (FORMAT parquet, COMPRESSION zstd)")
        fsync(path)
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
