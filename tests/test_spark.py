"""Issue #10: the same pipeline on Apache Spark. The real job builds the shared 68 demo days
again with ``LEVSTRESS_WAREHOUSE=spark``: raw lands in the Parquet lake, dbt-spark's session
method builds the same models in a local JVM, the same checks gate the run, and it publishes.
Every published mart must equal the DuckDB build of those days (``demo_history``), stress
scores, spikes and alerts included: 68 days reach every path of the models."""

from __future__ import annotations

from pathlib import Path

import duckdb
import pytest

from orchestration.publish import MARTS
from tests.conftest import HISTORY_END, HISTORY_START
from tests.pipeline_helpers import assert_marts_equal, mart_rows, run_range

pytestmark = pytest.mark.slow


def _scored_days(database: Path) -> int:
    with duckdb.connect(str(database), read_only=True) as con:
        return con.execute(
            "SELECT count(*) FROM marts.fct_leverage_stress_daily WHERE stress_score IS NOT NULL"
        ).fetchone()[0]


def _columns(database: Path) -> dict[str, list[str]]:
    with duckdb.connect(str(database), read_only=True) as con:
        return {
            m: [c for (c,) in con.execute(f"SELECT column_name FROM (DESCRIBE marts.{m})").fetchall()] for m in MARTS
        }


def test_spark_builds_every_mart_equal_to_duckdb(
    request: pytest.FixtureRequest, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    spark_home = tmp_path / "spark"
    spark_home.mkdir()
    monkeypatch.setenv("LEVSTRESS_HOME", str(spark_home))
    monkeypatch.setenv("LEVSTRESS_WAREHOUSE", "spark")
    monkeypatch.setenv("LEVSTRESS_SOURCE_MODE", "demo")
    for unset in ("LEVSTRESS_LAKE_URI", "LEVSTRESS_SIM_FAULTS", "LEVSTRESS_ALERT_WEBHOOK_URL"):
        monkeypatch.delenv(unset, raising=False)
    spark_run = run_range(HISTORY_START, HISTORY_END)
    assert spark_run.success

    # Spark really built them: the raw days are hive folders in the lake, the marts Spark tables
    # partitioned by day beside them, and no DuckDB warehouse file exists on that side.
    lake = spark_home / "lake"
    days = sorted(p.name for p in (lake / "raw" / "bybit_liquidations").iterdir())
    assert len(days) == 68 and days[0] == f"partition_date={HISTORY_START}"
    assert (lake / "warehouse" / "marts.db" / "fct_liquidations_hourly" / "date=2026-01-16").is_dir()
    assert not (spark_home / "levstress.duckdb").exists()
    checks = spark_run.get_asset_check_evaluations()
    assert {c.check_name for c in checks} >= {"raw_expectations", "mart_expectations"}
    assert all(c.passed for c in checks if c.check_name in ("raw_expectations", "mart_expectations"))

    # Asked for only now: the other worker builds the shared DuckDB side while Spark runs here.
    demo_history: Path = request.getfixturevalue("demo_history")
    duck, spark = mart_rows(demo_history / "serving.duckdb"), mart_rows(spark_home / "serving.duckdb")
    assert all(duck.values()), "every mart of the DuckDB build has rows"
    assert _scored_days(spark_home / "serving.duckdb") > 0, "the stress path was reached"
    assert_marts_equal(duck, spark)
    assert _columns(demo_history / "serving.duckdb") == _columns(spark_home / "serving.duckdb")
