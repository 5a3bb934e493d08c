"""Coverage you can trust (issue #9), the fast parts: the collector's session log becomes uptime
rows, the simulator's scripted outage leaves a hole in the tape and says so, and the catch-up
planner decides which gaps a source can still fill. The whole loop (partial day -> WARN ->
catch-up -> estimate) runs in tests/test_pipeline_e2e.py."""

from __future__ import annotations

import json
from datetime import UTC, date, datetime, timedelta
from pathlib import Path

import requests

from ingestion.catch_up import CoverageRow, plan_fills
from ingestion.http import Page
from ingestion.pipeline import _build
from ingestion.registry import ENDPOINTS
from ingestion.simulator import Simulator
from ingestion.sources import binance
from ingestion.sources.base import Window
from ingestion.sources.tape import SESSIONS_FILE, collector_uptime
from tests.test_collector import collector, hold, run_until, sessions, ws_server

DAY = date(2026, 1, 16)
FILLS = "coinalyze_liquidation_fills"
ONE_DAY = Window(DAY, DAY)


def session_page(*records: dict | str, window: Window = ONE_DAY) -> Page:
    lines = [r if isinstance(r, str) else json.dumps(r) for r in records]
    body = ("\n".join(lines) + "\n").encode()
    context = {"exchange": "bybit", "tape": "/landing/collector/bybit/_sessions.ndjson", **window.context()}
    return Page("bybit", "collector sessions", {"exchange": "bybit"}, 200, body, context)


def at(moment: str, event: str, **details: object) -> dict:
    return {"at": f"{moment}+00:00", "event": event, **details}


def uptime(page: Page) -> tuple[list[tuple[str, str, str, date]], list[str]]:
    batch = _build(collector_uptime("bybit"), Window.from_context(page.context), [page], ["sessions"]).batch
    rows = [
        (f"{r['connected_from']:%H:%M}", f"{r['connected_until']:%m-%d %H:%M}", r["ended_by"], r["partition_date"])
        for r in batch.table.to_pylist()
    ]
    return rows, [r["reason"] for r in batch.rejects.to_pylist()]


def test_the_session_log_becomes_connected_stretches_cut_at_midnight() -> None:
    rows, rejects = uptime(
        session_page(
            at("2026-01-15T22:00:00", "connected", url="wss://x"),
            at("2026-01-15T23:59:00", "alive"),
            at("2026-01-16T03:10:00", "disconnected", reason="connection closed (1006)"),
            at("2026-01-16T03:10:00", "reconnect_wait", reason="connection closed (1006)", wait_s=1.0),
            at("2026-01-16T07:45:00", "connected", url="wss://x"),
            at("2026-01-16T12:00:00", "alive"),
            # killed without a word: the next start closes the stretch at its last heartbeat
            at("2026-01-16T13:00:00", "connected", url="wss://x"),
            "{not json",
            json.dumps({"event": "alive"}),
            at("2026-01-16T23:00:00", "alive"),
            at("2026-01-17T01:00:00", "stopped"),
        )
    )
    assert rows == [
        ("00:00", "01-16 03:10", "connection closed (1006)", DAY),
        ("07:45", "01-16 12:00", "collector died (no disconnect logged)", DAY),
        ("13:00", "01-17 00:00", "goes on", DAY),
    ]
    assert len(rejects) == 2 and "not JSON" in rejects[0] and "readable time and event" in rejects[1]


def test_a_collector_still_running_is_counted_up_to_its_last_heartbeat() -> None:
    two_days = Window(DAY, DAY + timedelta(days=1))
    rows, _ = uptime(
        session_page(at("2026-01-10T00:00:00", "connected"), at("2026-01-17T06:30:00", "alive"), window=two_days)
    )
    assert rows == [
        ("00:00", "01-17 00:00", "goes on", DAY),
        ("00:00", "01-17 06:30", "goes on", DAY + timedelta(days=1)),
    ]


def test_the_collector_logs_a_heartbeat_while_connected(tmp_path: Path) -> None:
    with ws_server(lambda conn, number: hold(conn)) as url:
        c = collector(binance.STREAM, tmp_path, url, alive_every_s=0.05)
        log = tmp_path / "collector" / "binance" / SESSIONS_FILE
        run_until(c, lambda: log.exists() and log.read_text().count('"event": "alive"') >= 2)
    events = [s["event"] for s in sessions(tmp_path, "binance")]
    assert events[0] == "connected" and events[-1] == "stopped" and "alive" in events


def test_the_simulated_collector_outage_leaves_a_hole_in_the_tape_and_the_session_log() -> None:
    with Simulator(seed=7, faults=[], now=datetime(2026, 3, 1, tzinfo=UTC)) as sim:
        lines = requests.get(f"{sim.root_url}/_tape/bybit/{DAY}", timeout=30).text.splitlines()
        log = requests.get(f"{sim.root_url}/_tape/bybit/_sessions.ndjson", timeout=30).text
        binance_log = requests.get(f"{sim.root_url}/_tape/binance/_sessions.ndjson", timeout=30).text
    sent = [datetime.fromtimestamp(json.loads(line)["ts"] / 1000, UTC) for line in lines]
    outage = (datetime(2026, 1, 16, 3, 10, tzinfo=UTC), datetime(2026, 1, 16, 7, 45, tzinfo=UTC))
    assert sent and not [t for t in sent if outage[0] <= t < outage[1]]
    assert [t for t in sent if t < outage[0]] and [t for t in sent if t >= outage[1]]
    events = [(r["event"], r["at"][:16]) for r in map(json.loads, log.splitlines())]
    assert ("disconnected", "2026-01-16T03:10") in events and ("connected", "2026-01-16T07:45") in events
    assert [json.loads(r)["event"] for r in binance_log.splitlines()] == ["connected", "alive"]


def row(day: date, exchange: str, level: str, source: str = "bybit_liquidations", dataset: str = "liquidations"):
    return CoverageRow(day, exchange, dataset, source, level)


def test_the_catch_up_fills_partial_tapes_from_coinalyze_and_says_what_it_cannot_fill() -> None:
    rows = [
        row(DAY, "bybit", "partial"),
        row(DAY, "bybit", "partial"),  # another asset of the same exchange-day
        row(DAY, "binance", "throttled", "binance_liquidations"),
        row(DAY, "gate", "partial", "gate_liquidations"),
        row(DAY, "okx", "partial", "okx_funding", "funding"),
        row(DAY - timedelta(days=3), "binance", "estimate", FILLS),  # filled before: asked again, not new
    ]
    plan = plan_fills(rows, ENDPOINTS.values(), today=None)
    assert plan.days(FILLS) == {DAY: frozenset({"bybit"}), DAY - timedelta(days=3): frozenset({"binance"})}
    assert plan.new_gaps == {(FILLS, DAY, "bybit")} and plan.new_days() == [DAY]
    assert [(r.exchange, r.dataset, why) for r, why in plan.unrecoverable] == [
        ("gate", "liquidations", "no catch-up source serves liquidations for gate"),
        ("okx", "funding", "no catch-up source serves funding for okx"),
    ]


def test_live_gaps_older_than_the_fill_sources_look_back_are_recorded_as_lost() -> None:
    today = DAY + timedelta(days=61)
    plan = plan_fills(
        [row(DAY, "bybit", "partial"), row(DAY + timedelta(days=1), "bybit", "missing")], ENDPOINTS.values(), today
    )
    assert plan.new_days() == [DAY + timedelta(days=1)]
    assert [(r.day, why) for r, why in plan.unrecoverable] == [
        (DAY, "beyond coinalyze's 60-day look-back (from 2026-01-17)")
    ]


def test_only_days_a_re_run_could_cure_are_retried(tmp_path: Path) -> None:
    """After a three-year live bootstrap without a collector, re-running every day without a tape
    would rebuild three years after each daily run: a tape nobody recorded never appears, so only
    the last day is retried (the catch-up fills the others from Coinalyze); an archive day before
    its first file is never retried; an API outage is retried while the look-back reaches it."""
    import duckdb

    from orchestration.catch_up import published_retry_days

    today = date(2026, 12, 7)
    yesterday, week_ago, long_ago = today - timedelta(days=1), today - timedelta(days=7), date(2021, 6, 1)
    unavailable = [
        (yesterday, "binance_liquidations"),  # the collector's file may still have been written
        (week_ago, "binance_liquidations"),  # no tape a week later: none will appear
        (week_ago, "okx_open_interest"),  # an outage inside OKX's 60-day look-back
        (today - timedelta(days=90), "okx_open_interest"),  # beyond it
        (long_ago, "binance_archive_open_interest"),  # before the archive's first metrics file
        (date(2022, 6, 1), "binance_archive_open_interest"),  # a day the archive holds
    ]
    serving = tmp_path / "serving.duckdb"
    with duckdb.connect(str(serving)) as con:
        con.execute("CREATE SCHEMA marts")
        con.execute("CREATE TABLE marts.fct_source_fetch_daily (date DATE, source_table VARCHAR, status VARCHAR)")
        con.executemany("INSERT INTO marts.fct_source_fetch_daily VALUES (?, ?, 'unavailable')", unavailable)
        con.execute("INSERT INTO marts.fct_source_fetch_daily VALUES (?, 'okx_funding', 'fetched')", [week_ago])
    assert published_retry_days(serving, today) == {
        date(2022, 6, 1): ["binance_archive_open_interest"],
        week_ago: ["okx_open_interest"],
        yesterday: ["binance_liquidations"],
    }
    assert ENDPOINTS["binance_liquidations"].from_collector and ENDPOINTS["okx_open_interest"].look_back_days == 60
