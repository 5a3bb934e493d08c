"""Run the real job in-process over a partition range, and read what it published."""

from __future__ import annotations

from pathlib import Path

import dagster as dg
import duckdb

MARTS = [
    "fct_liquidations_hourly",
    "fct_liquidation_imbalance_daily",
    "fct_funding_daily",
    "fct_open_interest_daily",
    "fct_market_cap_daily",
    "fct_market_breadth_daily",
    "fct_leverage_stress_daily",
]


def run_range(first: str, last: str, instance: dg.DagsterInstance | None = None) -> dg.ExecuteInProcessResult:
    from orchestration.definitions import defs

    job = defs.resolve_job_def("levstress_daily")
    tags = {"dagster/asset_partition_range_start": first, "dagster/asset_partition_range_end": last}
    return job.execute_in_process(tags=tags, instance=instance or dg.DagsterInstance.ephemeral(), raise_on_error=False)


def snapshot_counts(home: Path) -> dict[str, int]:
    with duckdb.connect(str(home / "serving.duckdb"), read_only=True) as con:
        return {m: con.execute(f"SELECT count(*) FROM marts.{m}").fetchone()[0] for m in MARTS}


def mart_checksums(database: Path) -> dict[str, str]:
    with duckdb.connect(str(database), read_only=True) as con:
        return {m: str(con.execute(f"SELECT count(*), sum(hash(COLUMNS(*))) FROM marts.{m}").fetchone()) for m in MARTS}
