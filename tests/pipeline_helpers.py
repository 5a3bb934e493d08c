"""Run the real job in-process over a partition range, and read what it published."""

from __future__ import annotations

from pathlib import Path

import dagster as dg
import duckdb

from orchestration.publish import MARTS


def run_range(first: str, last: str, instance: dg.DagsterInstance | None = None) -> dg.ExecuteInProcessResult:
    from orchestration.definitions import defs

    job = defs.resolve_job_def("levstress_daily")
    tags = {"dagster/asset_partition_range_start": first, "dagster/asset_partition_range_end": last}
    return job.execute_in_process(tags=tags, instance=instance or dg.DagsterInstance.ephemeral(), raise_on_error=False)


def snapshot_counts(home: Path) -> dict[str, int]:
    with duckdb.connect(str(home / "serving.duckdb"), read_only=True) as con:
        return {m: con.execute(f"SELECT count(*) FROM marts.{m}").fetchone()[0] for m in MARTS}


def _stable(column: str, data_type: str) -> str:
    """Doubles to 9 significant digits: DuckDB's parallel aggregation may sum floats in another
    order from one run to the next, which moves the last bits and nothing else."""
    if data_type not in ("DOUBLE", "FLOAT"):
        return f'"{column}"'
    return (
        f'CASE WHEN "{column}" IS NULL OR "{column}" = 0 THEN "{column}" '
        f'ELSE round("{column}", 9 - ceil(log10(abs("{column}")))::INT) END'
    )


def mart_checksums(database: Path) -> dict[str, str]:
    """Row count and an order-independent hash of every row, per mart."""
    sums = {}
    with duckdb.connect(str(database), read_only=True) as con:
        for mart in MARTS:
            columns = con.execute(
                "SELECT column_name, data_type FROM information_schema.columns "
                "WHERE table_schema = 'marts' AND table_name = ? ORDER BY ordinal_position",
                [mart],
            ).fetchall()
            row = ", ".join(_stable(name, data_type) for name, data_type in columns)
            sums[mart] = str(con.execute(f"SELECT count(*), sum(hash(row({row}))) FROM marts.{mart}").fetchone())
    return sums
