"""The real pipeline, in-process: simulator over loopback HTTP, DuckDB file, dbt build, GX gates,
publish. Slow by nature (dbt subprocesses); CI runs them all."""

from __future__ import annotations

import json
import os
import subprocess
import sys
from datetime import date
from pathlib import Path

import dagster as dg
import duckdb
import pyarrow.parquet as pq
import pytest

from orchestration.dbt_assets import DBT_PROJECT_DIR
from tests.conftest import COVERAGE_CHECKS_FILE, HISTORY_END, HISTORY_START
from tests.pipeline_helpers import (
    MARTS,
    assert_marts_equal,
    copy_home,
    export_files,
    export_rows,
    mart_rows,
    run_range,
    snapshot_counts,
)

pytestmark = pytest.mark.slow


@pytest.fixture
def history_home(demo_history: Path, tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Path:
    """A private copy of the shared 68-day demo build, as ``$LEVSTRESS_HOME``."""
    home = copy_home(demo_history, tmp_path / "home")
    monkeypatch.setenv("LEVSTRESS_HOME", str(home))
    monkeypatch.setenv("LEVSTRESS_SOURCE_MODE", "demo")
    monkeypatch.delenv("LEVSTRESS_SIM_FAULTS", raising=False)
    return home


def _dbt_test(target_path: Path, *args: str) -> subprocess.CompletedProcess:
    """`dbt test` against $LEVSTRESS_HOME's warehouse, its artifacts kept apart from `make setup`'s."""
    dbt = Path(sys.executable).parent / "dbt"
    command = [str(dbt), "test", *args, "--profiles-dir", ".", "--target-path", str(target_path)]
    return subprocess.run(command, cwd=DBT_PROJECT_DIR, capture_output=True, text=True)


def test_demo_days_build_every_mart_with_coverage_and_the_dbt_unit_tests_pass(history_home: Path) -> None:
    """The shared 68-day build (tests/conftest.py) as the job published it."""
    counts = snapshot_counts(history_home)
    assert all(n > 0 for n in counts.values()), counts
    with duckdb.connect(str(history_home / "serving.duckdb"), read_only=True) as con:
        exchanges = {
            r[0] for r in con.execute("SELECT DISTINCT exchange FROM marts.fct_liquidation_imbalance_daily").fetchall()
        }
        assert exchanges == {"binance", "bybit", "okx", "hyperliquid", "gate"}
        spike = con.execute(
            "SELECT sum(long_liquidations_usd), sum(short_liquidations_usd) FROM marts.fct_liquidations_hourly "
            "WHERE hour_start = TIMESTAMP '2026-01-20 14:00:00'"
        ).fetchone()
        assert spike[0] > 200e6 and spike[1] < 5e6
        coverage = con.execute(
            "SELECT dataset, count(DISTINCT exchange), count(DISTINCT asset), count(DISTINCT date), count(*), "
            "count(*) FILTER (coverage_level IN ('partial', 'missing')) FROM marts.fct_source_coverage_daily "
            "GROUP BY 1 ORDER BY 1"
        ).fetchall()
        days = (date.fromisoformat(HISTORY_END) - date.fromisoformat(HISTORY_START)).days + 1
        assert coverage == [
            ("funding", 5, 5, days, 25 * days, 0),
            ("liquidations", 5, 5, days, 25 * days, 5),  # the simulated bybit collector's outage
            ("open_interest", 5, 5, days, 25 * days, 0),
            ("prices", 2, 5, days, 10 * days, 0),
        ]
        levels = dict(
            con.execute(
                "SELECT exchange, mode(coverage_level) FROM marts.fct_liquidation_imbalance_daily GROUP BY 1"
            ).fetchall()
        )
        assert levels == {
            "binance": "throttled",
            "bybit": "complete",
            "okx": "throttled",
            "hyperliquid": "estimate",
            "gate": "estimate",
        }
        # A venue's tape with no liquidation at all for an asset that day (the quiet, range-bound
        # January of the story) is a quiet day at the venue's level, never a hole to fill.
        quiet = con.execute(
            "SELECT count(*), count(*) FILTER (coverage_level IN ('partial', 'missing')) "
            "FROM marts.fct_source_coverage_daily WHERE dataset = 'liquidations' AND observed_points = 0 "
            "AND source IN ('binance_liquidations', 'bybit_liquidations')"
        ).fetchone()
        assert quiet[0] > 0 and quiet[1] == 0, quiet
    for mart in MARTS:
        assert pq.read_table(history_home / "export" / mart).num_rows == counts[mart]
    manifest = json.loads((history_home / "export" / "manifest.json").read_text())
    assert manifest["row_counts"] == counts

    # dbt's unit tests (left out of pipeline builds) against this warehouse's relations.
    unit = _dbt_test(history_home / "dbt-unit", "--select", "test_type:unit")
    written = json.loads((DBT_PROJECT_DIR / "target" / "manifest.json").read_text())["unit_tests"]
    assert unit.returncode == 0 and f"PASS={len(written)} " in unit.stdout and len(written) >= 14, unit.stdout[-3000:]

    # Re-runs: of a day after a kill and of a publication, equal to an uninterrupted build row for
    # row (tests/test_reliability.py); of the alerts (tests/test_analytics.py).


def test_a_duplicated_event_is_stopped_by_the_gate_and_nothing_downstream_changes(history_home, monkeypatch):
    marts_before = mart_rows(history_home / "levstress.duckdb")
    snapshot_before = mart_rows(history_home / "serving.duckdb")
    export_before = os.readlink(history_home / "export")

    monkeypatch.setenv(
        "LEVSTRESS_SIM_FAULTS", json.dumps([{"kind": "duplicate_event", "source": "binance", "date": "2026-01-22"}])
    )
    result = run_range("2026-01-22", "2026-01-22")
    assert not result.success

    evaluations = {(e.asset_key.to_user_string(), e.check_name): e for e in result.get_asset_check_evaluations()}
    failed = evaluations[("raw/binance_liquidations", "raw_expectations")]
    assert not failed.passed
    examples = failed.metadata["failing_examples"].value
    assert "expect_compound_columns_to_be_unique" in examples and "USDT" in examples
    assert all(e.passed for k, e in evaluations.items() if k[0] != "raw/binance_liquidations")

    assert mart_rows(history_home / "levstress.duckdb") == marts_before
    assert mart_rows(history_home / "serving.duckdb") == snapshot_before
    assert os.readlink(history_home / "export") == export_before


def test_a_mart_s_row_rules_name_each_broken_rule_on_the_rows_that_break_it(history_home: Path) -> None:
    """One row_rules test per model checks its grain and its row rules in one query; a row that
    breaks several is returned once, with every broken rule named."""
    with duckdb.connect(str(history_home / "levstress.duckdb")) as con:
        con.execute(
            "INSERT INTO marts.fct_funding_daily SELECT * FROM marts.fct_funding_daily "
            "WHERE date = DATE '2026-01-20' AND exchange = 'binance' AND asset = 'BTC'"
        )
        con.execute(
            "INSERT INTO marts.fct_funding_daily "
            "SELECT * REPLACE ('LUNA' AS asset, -1 AS negative_funding_streak_days) FROM marts.fct_funding_daily "
            "WHERE date = DATE '2026-01-21' AND exchange = 'okx' AND asset = 'ETH'"
        )
    test = _dbt_test(history_home / "dbt-row-rules", "--select", "fct_funding_daily_row_rules", "--store-failures")
    assert test.returncode == 1 and "Got 3 results" in test.stdout, test.stdout[-3000:]
    with duckdb.connect(str(history_home / "levstress.duckdb"), read_only=True) as con:
        failures = con.execute(
            "SELECT date::VARCHAR, exchange, asset, failed_rules FROM dbt_test__audit.fct_funding_daily_row_rules "
            "ORDER BY ALL"
        ).fetchall()
    assert failures == [
        ("2026-01-20", "binance", "BTC", "duplicate (date, exchange, asset)"),
        ("2026-01-20", "binance", "BTC", "duplicate (date, exchange, asset)"),
        ("2026-01-21", "okx", "LUNA", "negative_funding_streak_days < 0, asset not accepted"),
    ]


def test_levstress_coverage_prints_a_dates_by_exchanges_table(
    history_home: Path, capsys: pytest.CaptureFixture
) -> None:
    from orchestration.cli import main

    main(["coverage", "--from", "2026-01-19", "--to", "2026-01-21"])
    lines = capsys.readouterr().out.splitlines()
    assert lines[0] == "liquidations coverage, 2026-01-19 .. 2026-01-21: worst level over the tracked assets"
    assert lines[2].split() == ["binance", "bybit", "gate", "hyperliquid", "okx"]
    assert [line.split() for line in lines[3:]] == [
        [day, "T", "C", "E", "E", "T"] for day in ("2026-01-19", "2026-01-20", "2026-01-21")
    ]


OUTAGE_DAY = "2026-01-16"  # the simulated bybit collector was away 03:10 -> 07:45 UTC


def _bybit_on(serving: Path, day: str) -> tuple[list[tuple], list[tuple]]:
    with duckdb.connect(str(serving), read_only=True) as con:
        coverage = con.execute(
            "SELECT asset, source, coverage_level, primary_source, primary_coverage_level "
            "FROM marts.fct_source_coverage_daily WHERE exchange = 'bybit' AND dataset = 'liquidations' AND date = ? "
            "ORDER BY asset",
            [day],
        ).fetchall()
        imbalance = con.execute(
            "SELECT asset, coverage_level, long_liquidations_usd, short_liquidations_usd "
            "FROM marts.fct_liquidation_imbalance_daily WHERE exchange = 'bybit' AND date = ? ORDER BY asset",
            [day],
        ).fetchall()
    return coverage, imbalance


def _catch_up_requests() -> list[dg.RunRequest]:
    """What the coverage_catch_up sensor asks for after a successful daily run."""

    @dg.op
    def finished() -> None: ...

    @dg.job
    def daily() -> None:
        finished()

    instance = dg.DagsterInstance.ephemeral()
    result = daily.execute_in_process(instance=instance)
    from orchestration.definitions import defs

    context = dg.build_run_status_sensor_context(
        sensor_name="coverage_catch_up",
        dagster_instance=instance,
        dagster_run=result.dagster_run,
        dagster_event=result.get_run_success_event(),
    )
    return [r for r in defs.get_sensor_def("coverage_catch_up")(context) or [] if isinstance(r, dg.RunRequest)]


def test_a_collector_outage_is_flagged_then_filled_from_coinalyze_by_the_catch_up(
    history_home: Path, demo_history: Path, capsys: pytest.CaptureFixture
) -> None:
    from orchestration.cli import main

    # The shared build: the day is partial and the WARN check says where the hole is.
    checks = json.loads((demo_history.parent / COVERAGE_CHECKS_FILE).read_text())
    assert not checks["liquidations_coverage"]["passed"]
    table = checks["liquidations_coverage"]["gaps_table"]
    assert f"| {OUTAGE_DAY} | bybit | BTC | partial |" in table
    assert f"| {OUTAGE_DAY} 03:10 -> {OUTAGE_DAY} 07:45 | 275 |" in table
    assert all(checks[f"{d}_coverage"]["passed"] for d in ("funding", "open_interest", "prices"))
    serving = history_home / "serving.duckdb"
    coverage, partial = _bybit_on(serving, OUTAGE_DAY)
    assert {row[1:] for row in coverage} == {("bybit_liquidations", "partial", "bybit_liquidations", "partial")}
    neighbour = _bybit_on(serving, "2026-01-15")

    # The sensor after a daily run and `levstress catch-up` make the same plan: one run for the day.
    assert [r.partition_key for r in _catch_up_requests()] == [OUTAGE_DAY]
    files_before = export_files(history_home)
    main(["catch-up"])
    out = capsys.readouterr().out
    assert f"catch-up: {OUTAGE_DAY} bybit from coinalyze_liquidation_fills" in out and "cannot fill" not in out

    coverage, filled = _bybit_on(serving, OUTAGE_DAY)
    assert {row[1:] for row in coverage} == {
        ("coinalyze_liquidation_fills", "estimate", "bybit_liquidations", "partial")
    }
    assert [row[1] for row in filled] == ["estimate"] * 5
    # Coinalyze saw the whole day; the tape missed four and a half hours of it.
    assert sum(r[2] + r[3] for r in filled) > sum(r[2] + r[3] for r in partial)
    with duckdb.connect(str(history_home / "levstress.duckdb"), read_only=True) as con:
        fills = con.execute(
            "SELECT sum(long_usd + short_usd) FROM raw.coinalyze_liquidation_fills WHERE exchange = 'bybit'"
        ).fetchone()[0]
    assert sum(r[2] + r[3] for r in filled) == pytest.approx(fills, rel=1e-9)
    assert _bybit_on(serving, "2026-01-15") == neighbour
    # Its publication wrote the months whose rows changed and hard-linked the rest from the
    # previous version: the exports still equal the snapshot, row for row.
    files_after = export_files(history_home)
    kept = {name for name, inode in files_after.items() if files_before.get(name) == inode}
    assert "fct_liquidations_hourly/fct_liquidations_hourly_2025-11.parquet" in kept
    assert "fct_liquidations_hourly/fct_liquidations_hourly_2026-01.parquet" not in kept
    assert_marts_equal(export_rows(history_home), mart_rows(serving))

    main(["coverage", "--from", "2026-01-15", "--to", "2026-01-17"])
    lines = capsys.readouterr().out.splitlines()
    assert [line.split()[2] for line in lines[3:]] == ["C", "E", "C"]  # bybit's column
    main(["catch-up"])  # nothing left to do: a filled day is not asked for again
    assert "no gap that a catch-up source can fill" in capsys.readouterr().out
    assert _catch_up_requests() == []

    # The catch-up rebuilt the days after the filled one too (their 7-day clusters, 168-hour spike
    # baselines and stress history read it): re-running those days leaves every mart equal row for
    # row, as if one range run had built them (issue #19 found the clusters path dependent).
    built = mart_rows(history_home / "levstress.duckdb")
    assert run_range(OUTAGE_DAY, HISTORY_END).success
    assert_marts_equal(mart_rows(history_home / "levstress.duckdb"), built)


# A negative size rejected with its reason while the day loads: tests/test_reliability.py (its runs
# meet one on the new day).
