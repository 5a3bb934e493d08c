"""Live mode: the real clients, pointed by the base-URL overrides at servers that speak the real
formats (the simulator, in its live role: real sockets, real wire formats, no demo shortcuts),
the collector recording yesterday from websocket servers, and the whole job building the marts.
Plus the live-only rules: look-back limits and sources that need a key."""

from __future__ import annotations

import json
import os
import shutil
import subprocess
import sys
import threading
from collections.abc import Callable
from datetime import UTC, date, datetime, timedelta
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from pathlib import Path

import duckdb
import pytest
import requests
from websockets.sync.server import ServerConnection

from ingestion.collector import LiquidationCollector
from ingestion.http import SourceError
from ingestion.landing import read_archive
from ingestion.pipeline import ingest, servable_days
from ingestion.registry import ENDPOINTS, SOURCES, SOURCES_BY_NAME
from ingestion.simulator import Fault, Simulator
from ingestion.simulator.scenarios import Scenario
from ingestion.sources.base import FetchContext
from ingestion.streams import LiquidationStream
from orchestration.resources import MarketSourcesResource
from orchestration.settings import DEFAULT_ASSETS
from storage import Paths
from tests.test_collector import hold, run_until, ws_server

REPO = Path(__file__).resolve().parent.parent
TODAY = datetime.now(UTC).date()
YESTERDAY = TODAY - timedelta(days=1)


def test_days_beyond_an_endpoints_look_back_are_named_not_fetched(tmp_path: Path) -> None:
    okx_liquidations = ENDPOINTS["okx_liquidations"]  # OKX keeps about a day of liquidation orders
    days = [TODAY - timedelta(days=n) for n in (3, 2, 1)]
    assert servable_days(okx_liquidations, days, TODAY) == [YESTERDAY]
    with Simulator(seed=7) as sim:
        client = SOURCES_BY_NAME["okx"].client(sim.base_url("okx"), demo=False)
        ctx = FetchContext(client, DEFAULT_ASSETS)
        report = ingest(okx_liquidations, ctx, days, tmp_path, today=TODAY)
        assert report.days == [YESTERDAY] and report.batch.accepted > 0
        assert report.skipped_days == days[:2] and "1-day look-back" in (report.skipped_reason or "")
        # nothing left to ask for: unavailable, said so, not an error that would stop the run
        too_old = ingest(okx_liquidations, ctx, days[:2], tmp_path, today=TODAY)
        assert too_old.days == [] and too_old.batch.accepted == 0 and too_old.skipped_days == days[:2]
        assert {gap.attempts for gap in too_old.not_fetched.values()} == {0}
        assert "1-day look-back" in (too_old.skipped_reason or "")


def test_bootstrap_reaches_years_back_through_the_archive_and_the_archive_names_days_before_it(
    tmp_path: Path,
) -> None:
    from orchestration.cli import ARCHIVE_DAYS, bootstrap_depth

    archive = ENDPOINTS["binance_archive_long_short_ratios"]
    live = [e for e in ENDPOINTS.values() if e.source != archive.source]
    assert bootstrap_depth(live, YESTERDAY) == max(e.look_back_days or 0 for e in live) < ARCHIVE_DAYS
    assert bootstrap_depth([*live, archive], YESTERDAY) == ARCHIVE_DAYS
    before = archive.history_from - timedelta(days=1)
    report = ingest(archive, FetchContext(None, ("BTC",)), [before], tmp_path, today=TODAY)  # type: ignore[arg-type]
    assert report.skipped_days == [before] and "before the first day the source holds" in report.skipped_reason


def test_a_source_that_needs_a_key_is_skipped_and_says_why(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.delenv("LEVSTRESS_COINALYZE_API_KEY", raising=False)
    report = MarketSourcesResource(mode="live").ingest(
        ENDPOINTS["coinalyze_liquidations"], [YESTERDAY], Paths(tmp_path)
    )
    assert report.days == [] and report.skipped_days == [YESTERDAY]
    assert "LEVSTRESS_COINALYZE_API_KEY is not set" in (report.skipped_reason or "")


def test_a_truncated_payload_fails_with_an_error_naming_source_endpoint_and_params(tmp_path: Path) -> None:
    day = YESTERDAY
    fault = Fault("truncated_json", "binance", day.isoformat())
    with Simulator(seed=7, faults=[fault]) as sim:
        client = SOURCES_BY_NAME["binance"].client(sim.base_url("binance"), demo=False)
        with pytest.raises(SourceError, match=r"binance .*klines.*BTCUSDT"):
            ingest(ENDPOINTS["binance_klines"], FetchContext(client, DEFAULT_ASSETS), [day], tmp_path, today=TODAY)


def test_an_empty_page_in_the_middle_of_pagination_fails_clearly_and_keeps_the_pages(tmp_path: Path) -> None:
    first, last = date(2025, 1, 1), date(2025, 7, 31)  # 212 days of 8-hourly funding: two pages
    start = int(datetime(2025, 1, 1, tzinfo=UTC).timestamp() * 1000)
    full_page = [
        {"symbol": "BTCUSDT", "fundingTime": start + i * 8 * 3_600_000, "fundingRate": "0.00010000", "markPrice": "1"}
        for i in range(500)
    ]
    answers = [json.dumps(full_page).encode(), b"[]"]  # the second page comes back empty
    httpd = serve(lambda: answers.pop(0) if answers else b"[]")
    try:
        client = SOURCES_BY_NAME["binance"].client(f"http://127.0.0.1:{httpd.server_address[1]}", demo=True)
        days = [first + timedelta(days=n) for n in range((last - first).days + 1)]
        with pytest.raises(SourceError, match=r"binance .*fundingRate.*empty page in the middle of pagination"):
            ingest(ENDPOINTS["binance_funding"], FetchContext(client, ("BTC",)), days, tmp_path)
    finally:
        httpd.shutdown()
    partial = list(read_archive(tmp_path / "binance" / "funding" / f"{first}_{last}.partial.ndjson"))
    assert [len(json.loads(p.body)) for p in partial] == [500, 0]  # what arrived is kept


def record(stream: LiquidationStream, frames: list[str], landing: Path) -> int:
    """The collector records a websocket server replaying ``frames``; returns events written."""

    def replaying(conn: ServerConnection, number: int) -> None:
        for frame in frames:
            conn.send(frame)
        hold(conn)

    with ws_server(replaying) as url:
        collector = LiquidationCollector(stream, landing, DEFAULT_ASSETS, url=url, stop_event=threading.Event())
        run_until(collector, lambda: collector.stats.messages >= len(frames), timeout=60)
    return collector.stats.written


def record_yesterday(sim: Simulator, landing: Path) -> dict[str, int]:
    """Yesterday's Binance and Bybit streams, replayed from the simulator's tape of that day."""
    written = {}
    for source in SOURCES:
        if source.stream is not None:
            tape = requests.get(f"{sim.root_url}/_tape/{source.name}/{YESTERDAY.isoformat()}", timeout=60)
            tape.raise_for_status()
            frames = [line for line in tape.text.splitlines() if line.strip()]
            written[source.name] = record(source.stream, frames, landing)
    return written


def materialize_yesterday(home: Path) -> subprocess.CompletedProcess[str]:
    """As a user runs it: the Dagster CLI in its own process, against its own instance."""
    dagster_home = home / "dagster"
    dagster_home.mkdir(exist_ok=True)
    shutil.copy(REPO / "orchestration" / "dagster.yaml", dagster_home / "dagster.yaml")
    dagster = str(Path(sys.executable).parent / "dagster")
    return subprocess.run(
        [
            dagster,
            "asset",
            "materialize",
            "-m",
            "orchestration.definitions",
            "--select",
            "*",
            "--partition",
            str(YESTERDAY),
        ],
        cwd=REPO,
        env={**os.environ, "DAGSTER_HOME": str(dagster_home)},
        capture_output=True,
        text=True,
    )


def point_live_sources_at(sim: Simulator, monkeypatch: pytest.MonkeyPatch) -> None:
    for source in SOURCES:
        if source.name in sim.by_source:
            monkeypatch.setenv(source.base_url_env, sim.base_url(source.name))
            # The real spacing (up to 2.1 s a call, ~2.5 minutes of sleeping for this run) is
            # tested in test_http; here it would only slow the suite.
            monkeypatch.setenv(source.min_interval_env, "0")


def published(home: Path, sql: str) -> list[tuple]:
    with duckdb.connect(str(home / "serving.duckdb"), read_only=True) as con:
        return con.execute(sql, [YESTERDAY]).fetchall()


LIQUIDATION_SOURCES = """
SELECT exchange, source, coverage_level, primary_coverage_level, gap_reason
FROM marts.fct_source_coverage_daily
WHERE date = ? AND dataset = 'liquidations' AND asset = 'BTC' ORDER BY exchange
"""


BOOTSTRAP_DAYS = 29  # the documented minimum for a stress score: 14 days of z-scores, 14 composites, the day


@pytest.mark.slow
def test_a_new_live_user_with_no_collector_and_a_venue_down_gets_a_published_day_then_the_whole_day(
    levstress_home: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    """Day one of a real user: the collector never ran and OKX refuses connections.
    `levstress bootstrap --live` exits 0 and publishes a stress score for yesterday with its
    history length; Binance and Bybit liquidations come from Coinalyze in the same run; OKX is
    missing with the reason, and the status it prints says so. Then the collector records
    yesterday, OKX is back, and the next run of the day (the Dagster CLI, as the schedule runs it)
    has every venue from its own source, nothing twice."""
    monkeypatch.setenv("LEVSTRESS_SOURCE_MODE", "live")
    monkeypatch.setenv("LEVSTRESS_COINALYZE_API_KEY", "demo")  # the key the fixture server accepts
    monkeypatch.setenv("LEVSTRESS_HTTP_BACKOFF_S", "0.01")  # OKX's refused connections, retried quickly
    with Simulator(seed=7, scenario=Scenario(down=frozenset({"okx"}))) as sim:
        point_live_sources_at(sim, monkeypatch)
        first = subprocess.run(
            [str(Path(sys.executable).parent / "levstress"), "bootstrap", "--live", "--days", str(BOOTSTRAP_DAYS)],
            env=dict(os.environ),
            capture_output=True,
            text=True,
        )
    assert first.returncode == 0, (first.stdout + first.stderr)[-4000:]
    assert "bootstrap: built and published" in first.stdout
    scores = published(
        levstress_home,
        "SELECT asset, stress_score, stress_history_days FROM marts.fct_leverage_stress_daily WHERE date = ? "
        "ORDER BY asset",
    )
    assert [asset for asset, _, _ in scores] == sorted(DEFAULT_ASSETS)
    assert all(score is not None and history >= 14 for _, score, history in scores), scores
    sources = {exchange: rest for exchange, *rest in published(levstress_home, LIQUIDATION_SOURCES)}
    for venue, why in (
        ("binance", "no collector tape"),
        ("bybit", "no collector tape"),
        ("okx", "request failed after"),
    ):
        source, level, primary_level, reason = sources[venue]
        assert (source, level, primary_level) == ("coinalyze_liquidation_fills", "estimate", "missing"), venue
        assert why in reason, reason
    assert sources["gate"][1] == "estimate" and sources["hyperliquid"][1] == "estimate"
    okx_funding = published(
        levstress_home,
        "SELECT DISTINCT coverage_level, gap_reason FROM marts.fct_source_coverage_daily "
        "WHERE date = ? AND exchange = 'okx' AND dataset = 'funding'",
    )
    assert [level for level, _ in okx_funding] == ["missing"] and "ConnectionError" in okx_funding[0][1]
    filled = published(
        levstress_home,
        "SELECT exchange, sum(total_liquidations_usd) FROM marts.fct_liquidation_imbalance_daily WHERE date = ? "
        "GROUP BY 1 ORDER BY 1",
    )
    assert [e for e, _ in filled] == ["binance", "bybit", "gate", "hyperliquid", "okx"]
    assert all(usd > 0 for _, usd in filled)
    status = first.stdout  # bootstrap ends with `levstress status`
    lines = [line.split() for line in status.splitlines()]
    assert any(words[1:4] == ["okx", "funding", "missing"] for words in lines if len(words) > 3), status
    assert "no collector tape" in status and "retried after each daily run until" in status

    with Simulator(seed=7) as sim:  # the next day: OKX is back and the collector recorded yesterday
        point_live_sources_at(sim, monkeypatch)
        written = record_yesterday(sim, levstress_home / "landing")
        assert all(n > 0 for n in written.values())
        second = materialize_yesterday(levstress_home)
        assert second.returncode == 0, second.stderr[-4000:]
        assert "RUN_SUCCESS" in second.stderr

    sources = {exchange: rest for exchange, *rest in published(levstress_home, LIQUIDATION_SOURCES)}
    assert {e: s[0] for e, s in sources.items()} == {
        "binance": "binance_liquidations",  # the venue's own tape again, instead of the earlier fill
        "bybit": "bybit_liquidations",
        "gate": "gate_liquidations",
        "hyperliquid": "coinalyze_liquidations",
        "okx": "okx_liquidations",
    }
    # nothing counted twice: the fill is still in the warehouse, but every hour of the venues' day
    # is graded as their own tape's, and the day's total is the sum of those hours
    levels = published(
        levstress_home,
        "SELECT exchange, list(DISTINCT coverage_level ORDER BY coverage_level), sum(total_liquidations_usd) "
        "FROM marts.fct_liquidations_hourly WHERE hour_start::DATE = ? AND exchange IN ('binance', 'bybit') "
        "GROUP BY 1 ORDER BY 1",
    )
    assert [(e, lv) for e, lv, _ in levels] == [("binance", ["throttled"]), ("bybit", ["complete"])]
    totals = dict(
        published(
            levstress_home,
            "SELECT exchange, sum(total_liquidations_usd) FROM marts.fct_liquidation_imbalance_daily WHERE date = ? "
            "GROUP BY 1",
        )
    )
    assert all(abs(totals[e] - usd) < 1e-6 * usd for e, _, usd in levels)
    with duckdb.connect(str(levstress_home / "levstress.duckdb"), read_only=True) as con:
        raw_rows = {
            table: con.execute(f"SELECT count(*) FROM raw.{table} WHERE partition_date = ?", [YESTERDAY]).fetchone()[0]
            for table in ("coinalyze_liquidation_fills", "binance_liquidations", "bybit_liquidations")
        }
    fills = raw_rows.pop("coinalyze_liquidation_fills")
    assert fills > 0
    exchanges = published(
        levstress_home,
        "SELECT exchange, count(*) FROM marts.fct_liquidation_imbalance_daily WHERE date = ? GROUP BY 1 ORDER BY 1",
    )
    stress_assets = published(
        levstress_home, "SELECT count(DISTINCT asset) FROM marts.fct_leverage_stress_daily WHERE date = ?"
    )[0][0]
    assert [e for e, _ in exchanges] == ["binance", "bybit", "gate", "hyperliquid", "okx"]
    assert stress_assets == len(DEFAULT_ASSETS)
    assert raw_rows == {"binance_liquidations": written["binance"], "bybit_liquidations": written["bybit"]}
    # every source came back but the one whose key this user never set
    still_unavailable = published(
        levstress_home,
        "SELECT source, endpoint, reason FROM marts.fct_source_fetch_daily WHERE date = ? AND status = 'unavailable'",
    )
    assert [(source, endpoint) for source, endpoint, _ in still_unavailable] == [("coinglass", "liquidations")]
    assert "LEVSTRESS_COINGLASS_API_KEY is not set" in still_unavailable[0][2]
    # the archive's funding file of this month is not out yet: no gap (the live endpoint has the day), no retry
    not_needed = published(
        levstress_home,
        "SELECT source_table, reason FROM marts.fct_source_fetch_daily WHERE date = ? AND status = 'not_needed'",
    )
    archive_funding = [reason for table, reason in not_needed if table == "binance_archive_funding"]
    assert len(archive_funding) == 1 and "published after the month ends" in archive_funding[0], not_needed


def serve(answer: Callable[[], bytes]) -> ThreadingHTTPServer:
    """A JSON server on loopback that answers every GET with ``answer()``."""

    class Handler(BaseHTTPRequestHandler):
        def do_GET(self) -> None:  # noqa: N802
            body = answer()
            self.send_response(200)
            self.send_header("Content-Type", "application/json")
            self.send_header("Content-Length", str(len(body)))
            self.end_headers()
            self.wfile.write(body)

        def log_message(self, *args: object) -> None:
            pass

    httpd = ThreadingHTTPServer(("127.0.0.1", 0), Handler)
    threading.Thread(target=httpd.serve_forever, daemon=True).start()
    return httpd


def test_a_server_repeating_the_same_page_stops_paging_with_a_named_error(tmp_path: Path) -> None:
    first, last = date(2025, 1, 1), date(2025, 7, 31)
    start = int(datetime(2025, 1, 1, tzinfo=UTC).timestamp() * 1000)
    forward = [  # Binance pages forwards from the last row's time
        {"symbol": "BTCUSDT", "fundingTime": start + i * 8 * 3_600_000, "fundingRate": "0.0001", "markPrice": "1"}
        for i in range(500)
    ]
    backward = {  # Bybit pages backwards from the oldest row's time
        "retCode": 0,
        "result": {
            "list": [
                {"symbol": "BTCUSDT", "fundingRate": "0.0001", "fundingRateTimestamp": str(start + i * 8 * 3_600_000)}
                for i in range(200)
            ]
        },
    }
    days = [first + timedelta(days=n) for n in range((last - first).days + 1)]
    for endpoint, body in (("binance_funding", forward), ("bybit_funding", backward)):
        page = json.dumps(body).encode()
        httpd = serve(lambda page=page: page)  # a broken server: whatever the cursor, the same page
        source = ENDPOINTS[endpoint].source
        try:
            client = SOURCES_BY_NAME[source].client(f"http://127.0.0.1:{httpd.server_address[1]}", demo=True)
            with pytest.raises(SourceError, match=rf"{source} .*paging does not advance"):
                ingest(ENDPOINTS[endpoint], FetchContext(client, ("BTC",)), days, tmp_path)
        finally:
            httpd.shutdown()


POSITIONING = [e for e in ENDPOINTS.values() if e.dataset.name == "long_short_ratios"]


@pytest.mark.parametrize("endpoint", POSITIONING, ids=lambda e: e.table)
def test_positioning_endpoints_parse_the_live_format_from_loopback(endpoint, tmp_path: Path) -> None:
    """The real client and parser against the simulator in its live role: yesterday's hours."""
    with Simulator(seed=7) as sim:
        client = SOURCES_BY_NAME[endpoint.source].client(sim.base_url(endpoint.source), demo=False)
        report = ingest(endpoint, FetchContext(client, ("BTC", "ETH")), [YESTERDAY], tmp_path, today=TODAY)
    rows = report.batch.table
    assert report.batch.rejected == 0 and rows.num_rows == 2 * 24
    filled = [
        c
        for c in ("account_ratio", "top_account_ratio", "top_position_ratio", "taker_buy_sell_ratio")
        if rows[c].null_count == 0
    ]
    assert filled and all(min(rows[c].to_pylist()) > 0 for c in filled)


# Every positioning endpoint, and the data archive's others (its klines)
POSITIONING_AND_ARCHIVE = POSITIONING + [
    e for e in ENDPOINTS.values() if e.source == "binance_archive" and e not in POSITIONING
]


@pytest.mark.parametrize("endpoint", POSITIONING_AND_ARCHIVE, ids=lambda e: e.table)
def test_positioning_and_archive_endpoints_down_all_day_are_unavailable_and_garbage_is_a_named_error(
    endpoint, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setenv("LEVSTRESS_HTTP_BACKOFF_S", "0.01")
    monkeypatch.setenv("LEVSTRESS_HTTP_RETRIES", "1")
    # a monthly archive is asked for months that are over only (this month's days are not needed)
    day = YESTERDAY.replace(day=1) - timedelta(days=1) if endpoint.whole_months else YESTERDAY
    refused = SOURCES_BY_NAME[endpoint.source].client("http://127.0.0.1:9", demo=False)  # nothing listens
    down = ingest(endpoint, FetchContext(refused, ("BTC",)), [day], tmp_path, today=TODAY)
    assert down.days == [] and down.skipped_days == [day] and down.batch.accepted == 0
    assert "request failed" in (down.skipped_reason or ""), down.skipped_reason

    httpd = serve(lambda: b"<html><body>502 Bad Gateway</body></html>")
    try:
        client = SOURCES_BY_NAME[endpoint.source].client(f"http://127.0.0.1:{httpd.server_address[1]}", demo=True)
        with pytest.raises(SourceError, match=rf"^{endpoint.source} .*"):
            ingest(endpoint, FetchContext(client, ("BTC",)), [day], tmp_path, today=TODAY)
    finally:
        httpd.shutdown()
