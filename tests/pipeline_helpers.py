"""Run the real job in-process over a partition range, and read what it published."""

from __future__ import annotations

import math
import shutil
from pathlib import Path

import dagster as dg
import duckdb

from orchestration.publish import MARTS


def run_range(
    first: str, last: str, instance: dg.DagsterInstance | None = None, only: list[dg.AssetKey] | None = None
) -> dg.ExecuteInProcessResult:
    """The daily job over [first, last]; ``only`` runs just those assets of it."""
    from orchestration.definitions import defs

    job = defs.resolve_job_def("levstress_daily")
    tags = {"dagster/asset_partition_range_start": first, "dagster/asset_partition_range_end": last}
    return job.execute_in_process(
        tags=tags, instance=instance or dg.DagsterInstance.ephemeral(), raise_on_error=False, asset_selection=only
    )


def snapshot_counts(home: Path) -> dict[str, int]:
    with duckdb.connect(str(home / "serving.duckdb"), read_only=True) as con:
        return {m: con.execute(f"SELECT count(*) FROM marts.{m}").fetchone()[0] for m in MARTS}


def mart_rows(database: Path) -> dict[str, list[tuple]]:
    """Every mart's rows, sorted: to compare two builds."""
    with duckdb.connect(str(database), read_only=True) as con:
        return {m: con.execute(f"SELECT * FROM marts.{m} ORDER BY ALL").fetchall() for m in MARTS}


def export_rows(home: Path) -> dict[str, list[tuple]]:
    """Every mart's rows as the Parquet exports hold them, sorted: to compare with the snapshot."""
    with duckdb.connect() as con:
        return {
            m: con.execute(f"SELECT * FROM read_parquet('{home / 'export' / m}/*.parquet') ORDER BY ALL").fetchall()
            for m in MARTS
        }


def export_files(home: Path) -> dict[str, int]:
    """Each published Parquet file (mart/file name) and its inode: which files a publication wrote."""
    return {f"{p.parent.name}/{p.name}": p.stat().st_ino for p in (home / "export").resolve().glob("*/*.parquet")}


def _same(a: object, b: object) -> bool:
    # DuckDB's parallel aggregation may add floats in another order from one run to the next,
    # which moves the last bits and nothing else.
    if isinstance(a, float) and isinstance(b, float):
        return math.isclose(a, b, rel_tol=1e-9, abs_tol=1e-15)
    return a == b


def assert_marts_equal(left: dict[str, list[tuple]], right: dict[str, list[tuple]]) -> None:
    assert left.keys() == right.keys()
    for mart in left:
        assert len(left[mart]) == len(right[mart]), f"{mart}: {len(left[mart])} != {len(right[mart])} rows"
        for row_a, row_b in zip(left[mart], right[mart], strict=True):
            assert all(_same(x, y) for x, y in zip(row_a, row_b, strict=True)), f"{mart}: {row_a} != {row_b}"


def copy_home(source: Path, target: Path) -> Path:
    """A private copy of a built ``$LEVSTRESS_HOME`` (export links are relative, so they follow)."""
    shutil.copytree(source, target, symlinks=True)
    return target
