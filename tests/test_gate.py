"""Gate futures v4 against the simulator over loopback HTTP: every endpoint through ``ingest`` (fetch,
landing archive, parse, row checks), cross-checked against what the simulator serves at another
resolution or in another unit; errors and faults end as named errors or rejects."""

from __future__ import annotations

import json
import threading
from collections.abc import Iterator
from datetime import UTC, date, datetime, timedelta
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from pathlib import Path
from typing import Any

import pytest
import requests

from ingestion.http import HttpSettings, SourceError
from ingestion.landing import read_archive
from ingestion.pipeline import IngestReport, archive_path, ingest
from ingestion.registry import ENDPOINTS, SOURCES_BY_NAME
from ingestion.simulator import Fault, Simulator
from ingestion.sources.base import FetchContext, Window

NOW = datetime(2026, 3, 1, tzinfo=UTC)
DAY = date(2026, 1, 20)
DAY_S = int(datetime(2026, 1, 20, tzinfo=UTC).timestamp())
ASSETS = ("BTC", "ETH", "SOL", "XRP", "DOGE")
TABLES = ("gate_liquidations", "gate_open_interest", "gate_funding", "gate_klines")


@pytest.fixture(scope="module")
def sim() -> Iterator[Simulator]:
    with Simulator(seed=7, faults=[], now=NOW) as simulator:
        yield simulator


def run(sim: Simulator, table: str, landing: Path, assets: tuple[str, ...] = ASSETS) -> IngestReport:
    client = SOURCES_BY_NAME["gate"].client(sim.base_url("gate"), demo=True, settings=HttpSettings(retries=0))
    try:
        return ingest(ENDPOINTS[table], FetchContext(client, assets), [DAY], landing)
    finally:
        client.close()


@pytest.fixture(scope="module")
def reports(sim: Simulator, tmp_path_factory: pytest.TempPathFactory) -> dict[str, IngestReport]:
    landing = tmp_path_factory.mktemp("gate-landing")
    return {table: run(sim, table, landing) for table in TABLES}


def wire(sim: Simulator, path: str, **params: object) -> Any:
    """What the simulator serves, read without the source module."""
    response = requests.get(sim.base_url("gate") + path, params=params, timeout=30)
    response.raise_for_status()
    return response.json()


def by_asset(report: IngestReport) -> dict[str, list[dict]]:
    rows: dict[str, list[dict]] = {}
    for row in report.batch.table.to_pylist():
        rows.setdefault(row["asset"], []).append(row)
    return rows


@pytest.mark.parametrize("table", TABLES)
def test_every_endpoint_fills_its_dataset_for_every_asset_without_a_reject(reports, table):
    report = reports[table]
    assert report.batch.rejected == 0, report.batch.rejects.to_pylist()
    rows = by_asset(report)
    assert sorted(rows) == sorted(ASSETS)
    expected = {"gate_liquidations": 288, "gate_open_interest": 24, "gate_funding": 3, "gate_klines": 24}[table]
    for asset, asset_rows in rows.items():
        assert len(asset_rows) == expected, (asset, len(asset_rows))
        assert {(r["exchange"], r["symbol"]) for r in asset_rows} == {("gate", f"{asset}_USDT")}
        assert {r["partition_date"] for r in asset_rows} == {DAY}
    assert report.archives == [f"gate/{table.removeprefix('gate_')}/{DAY}.ndjson"]


def test_five_minute_buckets_sum_to_the_simulators_hourly_contract_stats(sim, reports):
    """Long and short USD of the 288 buckets, summed per hour, equal the 1h contract_stats rows
    (which the simulator sums from the events itself), for every asset and hour."""
    buckets = by_asset(reports["gate_liquidations"])
    for asset in ASSETS:
        assert all(r["bucket_minutes"] == 5 for r in buckets[asset])
        hourly = wire(
            sim, "/futures/usdt/contract_stats", contract=f"{asset}_USDT", interval="1h", limit=24, **{"from": DAY_S}
        )
        assert len(hourly) == 24
        for hour in hourly:
            start = datetime.fromtimestamp(hour["time"], UTC).replace(tzinfo=None)
            inside = [r for r in buckets[asset] if start <= r["bucket_start"] < start + timedelta(hours=1)]
            assert len(inside) == 12
            # each figure is rounded to 4 decimals on the wire: 12 of them differ by < 12 x 0.00005
            assert sum(r["long_usd"] for r in inside) == pytest.approx(hour["long_liq_usd"], abs=1e-3)
            assert sum(r["short_usd"] for r in inside) == pytest.approx(hour["short_liq_usd"], abs=1e-3)
        day_long = sum(h["long_liq_usd"] for h in hourly)
        assert sum(r["long_usd"] for r in buckets[asset]) == pytest.approx(day_long, abs=0.02)
    btc_long = sum(r["long_usd"] for r in buckets["BTC"])
    assert btc_long > sum(r["short_usd"] for r in buckets["BTC"]) > 0  # 2026-01-20 is a long squeeze


def test_open_interest_is_hourly_and_converted_to_coins_with_the_quanto_multiplier(sim, reports):
    """Hourly points equal the 5-minute contract_stats rows at the top of each hour, and USD / coins
    is the contract's price (a wrong multiplier would be off by powers of ten)."""
    oi = by_asset(reports["gate_open_interest"])
    opens = {(r["asset"], r["open_time"]): r["open"] for r in reports["gate_klines"].batch.table.to_pylist()}
    for asset in ASSETS:
        fine = wire(
            sim, "/futures/usdt/contract_stats", contract=f"{asset}_USDT", interval="5m", limit=288, **{"from": DAY_S}
        )
        on_the_hour = {r["time"]: r for r in fine if r["time"] % 3600 == 0}
        quanto = float(wire(sim, f"/futures/usdt/contracts/{asset}_USDT")["quanto_multiplier"])
        for row in oi[asset]:
            seconds = int(row["observed_at"].replace(tzinfo=UTC).timestamp())
            assert row["open_interest_usd"] == on_the_hour[seconds]["open_interest_usd"]
            assert row["open_interest_coins"] == pytest.approx(on_the_hour[seconds]["open_interest"] * quanto)
            price = row["open_interest_usd"] / row["open_interest_coins"]
            assert price == pytest.approx(opens[(asset, row["observed_at"])], rel=0.01)


def test_candle_volume_in_coins_matches_the_usd_turnover(sim, reports):
    """``v`` is in contracts: x quanto_multiplier, the USD turnover ``sum`` divided by the coins
    lies within the candle's range."""
    candles = by_asset(reports["gate_klines"])
    for asset in ASSETS:
        raw = wire(
            sim,
            "/futures/usdt/candlesticks",
            contract=f"{asset}_USDT",
            interval="1h",
            to=DAY_S + 86_399,
            **{"from": DAY_S},
        )
        turnover = {datetime.fromtimestamp(r["t"], UTC).replace(tzinfo=None): float(r["sum"]) for r in raw}
        for row in candles[asset]:
            assert row["interval_minutes"] == 60 and row["low"] <= min(row["open"], row["close"])
            average = turnover[row["open_time"]] / row["volume_coins"]
            assert row["low"] * 0.999 <= average <= row["high"] * 1.001, (asset, row)


def test_funding_settles_every_eight_hours_from_the_contract(reports):
    for asset, rows in by_asset(reports["gate_funding"]).items():
        assert sorted(r["funding_time"].hour for r in rows) == [0, 8, 16], asset
        assert {r["interval_hours"] for r in rows} == {8.0}
        assert all(abs(r["funding_rate"]) < 0.01 for r in rows)


def test_a_label_error_is_a_source_error_naming_gate_the_endpoint_and_the_contract(sim, tmp_path):
    """HTTP 4xx ``{"label", "message"}``: the fetch stops with the label and message quoted, and
    the pages that did arrive (BTC's) are kept as ``.partial``."""
    with pytest.raises(SourceError) as caught:
        run(sim, "gate_liquidations", tmp_path, ("BTC", "FOO"))
    error = caught.value
    assert (error.source, error.endpoint, error.params["contract"]) == (
        "gate",
        "GET /futures/usdt/contract_stats",
        "FOO_USDT",
    )
    assert str(error).startswith("gate GET /futures/usdt/contract_stats {")
    assert str(error).endswith("HTTP 400 CONTRACT_NOT_FOUND: Contract not found")
    partial = archive_path(tmp_path, ENDPOINTS["gate_liquidations"], Window(DAY, DAY), ".partial")
    pages = list(read_archive(partial))
    assert {p.params["contract"] for p in pages[:-1]} == {"BTC_USDT"}  # BTC's whole day, then the error
    assert (pages[-1].params["contract"], pages[-1].status) == ("FOO_USDT", 400)

    with pytest.raises(SourceError, match=r"^gate GET /futures/usdt/contracts/FOO_USDT .*HTTP 404 CONTRACT_NOT_FOUND"):
        run(sim, "gate_klines", tmp_path, ("FOO",))


def test_a_negative_long_liquidation_is_rejected_with_a_reason(sim, reports, tmp_path):
    """The simulator's negative_size fault negates ``long_liq_usd`` of a BTC bucket in each
    contract_stats answer for the day: exactly those buckets are rejected, everything else loads
    as in the clean run."""
    with Simulator(seed=7, faults=[Fault("negative_size", "gate", DAY.isoformat())], now=NOW) as faulty:
        report = run(faulty, "gate_liquidations", tmp_path)
    rejects = report.batch.rejects.to_pylist()
    assert rejects
    clean = {(r["symbol"], r["bucket_start"]): r for r in reports["gate_liquidations"].batch.table.to_pylist()}
    for reject in rejects:
        record = json.loads(reject["record"])
        assert reject["source_table"] == "gate_liquidations" and reject["partition_date"] == DAY
        assert reject["reason"] == f"long_usd must be >= 0, got {record['long_usd']}"
        original = clean[(record["symbol"], datetime.fromisoformat(record["bucket_start"]))]
        assert record["symbol"] == "BTC_USDT" and record["long_usd"] == -original["long_usd"] < 0
    assert report.batch.accepted + report.batch.rejected == len(clean)
    for row in report.batch.table.drop_columns(["payload_ref"]).to_pylist():
        original = clean[(row["symbol"], row["bucket_start"])]
        assert row == {k: v for k, v in original.items() if k != "payload_ref"}


class SamePage(BaseHTTPRequestHandler):
    """Answers every request with one full contract_stats page: a server ignoring ``from``."""

    body = json.dumps(
        [{"time": DAY_S + 300 * i, "long_liq_usd": 1.0, "short_liq_usd": 2.0, "open_interest": 5} for i in range(100)]
    ).encode()

    def do_GET(self) -> None:
        self.send_response(200)
        self.send_header("Content-Type", "application/json")
        self.send_header("Content-Length", str(len(self.body)))
        self.end_headers()
        self.wfile.write(self.body)

    def log_message(self, *args: object) -> None:
        pass


def test_a_server_repeating_a_page_stops_the_walk_with_a_named_error(tmp_path):
    httpd = ThreadingHTTPServer(("127.0.0.1", 0), SamePage)
    threading.Thread(target=httpd.serve_forever, daemon=True).start()
    client = SOURCES_BY_NAME["gate"].client(f"http://127.0.0.1:{httpd.server_address[1]}", demo=True)
    try:
        with pytest.raises(SourceError, match=r"^gate GET /futures/usdt/contract_stats .*paging does not advance"):
            ingest(ENDPOINTS["gate_liquidations"], FetchContext(client, ("BTC",)), [DAY], tmp_path)
    finally:
        client.close()
        httpd.shutdown()
        httpd.server_close()
