"""A source that cannot be had degrades the run instead of stopping it (the simulator's
scenarios, LEVSTRESS_SIM_SCENARIO): the real job through Dagster on a copy of the shared demo
build, one day with no collector, one venue refusing connections and no API keys, then the same
day again with everything back."""

from __future__ import annotations

from pathlib import Path

import dagster as dg
import duckdb
import pytest

from tests.conftest import HISTORY_END
from tests.pipeline_helpers import assert_marts_equal, copy_home, mart_rows, run_range

DAY = HISTORY_END  # the shared build's last day: its rows are there before the degraded run
DOWN = "okx"
UNAVAILABLE = {
    "binance_liquidations": "no collector tape",
    "binance_collector_uptime": "no collector sessions",
    "bybit_liquidations": "no collector tape",
    "bybit_collector_uptime": "no collector sessions",
    "okx_liquidations": "request failed after",
    "okx_funding": "request failed after",
    "okx_open_interest": "request failed after",
    "okx_account_ratio": "request failed after",
    "okx_top_account_ratio": "request failed after",
    "okx_top_position_ratio": "request failed after",
    "okx_taker_volume": "request failed after",
    "coinalyze_liquidations": "LEVSTRESS_COINALYZE_API_KEY is not set",
    "coinalyze_open_interest": "LEVSTRESS_COINALYZE_API_KEY is not set",
    "coinglass_liquidations": "LEVSTRESS_COINGLASS_API_KEY is not set",
    # asked to fill the venues whose tapes were absent, in the same run, but it needs the key too
    "coinalyze_liquidation_fills": "LEVSTRESS_COINALYZE_API_KEY is not set",
}
UNTOUCHED_VENUES = ("gate", "hyperliquid")  # liquidations from sources that were all there


def raw_counts(home: Path) -> dict[str, int]:
    with duckdb.connect(str(home / "levstress.duckdb"), read_only=True) as con:
        return {
            t: con.execute(f"SELECT count(*) FROM raw.{t} WHERE partition_date = ?", [DAY]).fetchone()[0]
            for t in UNAVAILABLE
        }


def published(home: Path, sql: str) -> list[tuple]:
    with duckdb.connect(str(home / "serving.duckdb"), read_only=True) as con:
        return con.execute(sql, [DAY]).fetchall()


@pytest.fixture(scope="module")
def degraded(demo_history: Path, tmp_path_factory: pytest.TempPathFactory) -> dict[str, object]:
    home = copy_home(demo_history, tmp_path_factory.mktemp("degraded") / "home")
    before = {"marts": mart_rows(home / "serving.duckdb"), "raw": raw_counts(home)}
    with pytest.MonkeyPatch.context() as patch:
        patch.setenv("LEVSTRESS_HOME", str(home))
        patch.setenv("LEVSTRESS_SOURCE_MODE", "demo")
        patch.setenv("LEVSTRESS_HTTP_BACKOFF_S", "0.01")  # the refused venue's retries, without minutes of waiting
        for key in ("LEVSTRESS_COINALYZE_API_KEY", "LEVSTRESS_COINGLASS_API_KEY", "LEVSTRESS_SIM_FAULTS"):
            patch.delenv(key, raising=False)
        patch.setenv("LEVSTRESS_SIM_SCENARIO", f"fresh-live-user,venue-down:{DOWN},no-keys")
        down = run_range(DAY, DAY)
        after_down = {"marts": mart_rows(home / "serving.duckdb"), "raw": raw_counts(home)}
        fetches = published(
            home, "SELECT source_table, status, reason FROM marts.fct_source_fetch_daily WHERE date = ?"
        )
        patch.delenv("LEVSTRESS_SIM_SCENARIO")
        back = run_range(DAY, DAY)
    return {
        "home": home,
        "before": before,
        "down": down,
        "after_down": after_down,
        "fetches": fetches,
        "back": back,
    }


def test_a_day_with_no_collector_a_venue_down_and_no_keys_still_builds_and_publishes(degraded: dict) -> None:
    down: dg.ExecuteInProcessResult = degraded["down"]
    assert down.success
    failed = [e.step_key for e in down.all_events if e.event_type == dg.DagsterEventType.STEP_FAILURE]
    assert failed == []
    published_keys = {e.asset_key for e in down.get_asset_materialization_events()}
    assert dg.AssetKey(["serving", "published_snapshot"]) in published_keys


def test_each_unavailable_source_is_named_with_its_reason_and_its_check_warns(degraded: dict) -> None:
    outcomes = {table: (status, reason) for table, status, reason in degraded["fetches"]}
    for table, reason in UNAVAILABLE.items():
        status, said = outcomes[table]
        assert status == "unavailable" and reason in said, (table, status, said)
    assert {t for t, (status, _) in outcomes.items() if status == "unavailable"} == set(UNAVAILABLE)
    checks = {(e.asset_key.path[-1], e.check_name): e for e in degraded["down"].get_asset_check_evaluations()}
    for table in UNAVAILABLE:
        check = checks[(table, "raw_expectations")]
        assert not check.passed and check.severity == dg.AssetCheckSeverity.WARN, table
    status = checks[("fct_source_fetch_daily", "fetch_status")]
    assert not status.passed and status.severity == dg.AssetCheckSeverity.WARN
    assert "request failed after" in status.metadata["status"].value


def test_nothing_loaded_before_is_lost_and_the_venues_that_were_there_are_unchanged(degraded: dict) -> None:
    before, after = degraded["before"], degraded["after_down"]
    assert after["raw"] == before["raw"]  # an unavailable day replaced nothing

    def comparable(mart: str, rows: list[tuple]) -> list[tuple]:
        # liquidations of the venues whose sources were all there; funding and OI of every venue
        return [r for r in rows if mart != "fct_liquidation_imbalance_daily" or r[2] in UNTOUCHED_VENUES]

    for mart in ("fct_liquidation_imbalance_daily", "fct_funding_daily", "fct_open_interest_daily"):
        assert_marts_equal(
            {mart: comparable(mart, after["marts"][mart])}, {mart: comparable(mart, before["marts"][mart])}
        )


def test_the_next_run_with_every_source_back_fetches_the_day_and_equals_the_build_before(degraded: dict) -> None:
    back: dg.ExecuteInProcessResult = degraded["back"]
    assert back.success
    home: Path = degraded["home"]
    statuses = published(home, "SELECT DISTINCT status FROM marts.fct_source_fetch_daily WHERE date = ? ORDER BY 1")
    assert statuses == [("fetched",), ("not_needed",)]  # the fill endpoint: no gap left to fill
    rows = mart_rows(home / "serving.duckdb")
    assert_marts_equal(
        {m: r for m, r in rows.items() if m != "fct_source_fetch_daily"},
        {m: r for m, r in degraded["before"]["marts"].items() if m != "fct_source_fetch_daily"},
    )
