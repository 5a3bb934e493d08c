"""Parsers on recorded-format samples (the examples in shared/api-reference), through the same
row validation the pipeline uses."""

from __future__ import annotations

import json
from datetime import date, datetime

import pyarrow as pa
import pytest

from ingestion.http import Page, SourceError
from ingestion.registry import ENDPOINTS
from ingestion.rows import build_batch

DAY = date(2026, 1, 15)


def page(source: str, endpoint: str, body: object, params: dict | None = None, status: int = 200, **context) -> Page:
    raw = body if isinstance(body, bytes) else json.dumps(body).encode()
    window = {"first_day": DAY.isoformat(), "last_day": DAY.isoformat()}
    return Page(source, endpoint, params or {}, status, raw, {**window, **context})


def parse(table: str, *pages: Page, day: date = DAY):
    endpoint = ENDPOINTS[table]
    records = ((r, day, "ref") for p in pages for r in endpoint.parse(p))
    return build_batch(endpoint.dataset, table, records)


def tape(*messages: object) -> bytes:
    return "\n".join(m if isinstance(m, str) else json.dumps(m) for m in messages).encode()


def force_order(side: str, T: int = 1768450000119, qty: str = "0.014") -> dict:
    return {
        "e": "forceOrder",
        "E": T + 4,
        "o": {
            "s": "BTCUSDT",
            "S": side,
            "o": "LIMIT",
            "f": "IOC",
            "q": qty,
            "p": "94210.50",
            "ap": "94350.12",
            "X": "FILLED",
            "l": qty,
            "z": qty,
            "T": T,
        },
    }


def test_binance_tape_maps_sell_to_long_and_buy_to_short():
    batch = parse(
        "binance_liquidations",
        page("binance", "collector tape", tape(force_order("SELL"), force_order("BUY", 1768450001119))),
    )
    rows = batch.table.to_pylist()
    assert [r["side"] for r in rows] == ["long", "short"]
    assert rows[0]["usd_value"] == pytest.approx(94350.12 * 0.014)
    assert rows[0]["event_time"] == datetime(2026, 1, 15, 4, 6, 40, 119000)
    assert batch.rejected == 0


def test_binance_tape_rejects_bad_lines_with_reasons():
    body = tape(
        force_order("SELL", qty="-1"),
        '{"e": "forceOrder", "o": {tru',
        {"e": "forceOrder"},
        force_order("SELL", T=1767225600000),
    )
    batch = parse("binance_liquidations", page("binance", "collector tape", body))
    reasons = batch.rejects.column("reason").to_pylist()
    assert batch.accepted == 0
    assert any("quantity must be > 0" in r for r in reasons)
    assert any("not JSON" in r for r in reasons)
    assert any("KeyError" in r for r in reasons)
    assert any("outside the partition day" in r for r in reasons)


def test_bybit_tape_maps_buy_to_long():
    message = {
        "topic": "allLiquidation.BTCUSDT",
        "type": "snapshot",
        "ts": 1768450000456,
        "data": [
            {"T": 1768450000123, "s": "BTCUSDT", "S": "Buy", "v": "0.025", "p": "94210.50"},
            {"T": 1768450000301, "s": "BTCUSDT", "S": "Sell", "v": "0.110", "p": "94380.00"},
        ],
    }
    ack = {"success": True, "ret_msg": "", "op": "subscribe"}
    batch = parse("bybit_liquidations", page("bybit", "collector tape", tape(ack, message)))
    assert [r["side"] for r in batch.table.to_pylist()] == ["long", "short"]
    assert batch.table.column("usd_value").to_pylist()[0] == pytest.approx(0.025 * 94210.5)


def test_okx_liquidations_use_contract_value_and_order_side():
    body = {
        "code": "0",
        "msg": "",
        "data": [
            {
                "instFamily": "BTC-USDT",
                "instId": "BTC-USDT-SWAP",
                "instType": "SWAP",
                "uly": "BTC-USDT",
                "totalLoss": "",
                "details": [
                    {
                        "bkLoss": "0",
                        "bkPx": "94021.3",
                        "ccy": "",
                        "posSide": "long",
                        "side": "sell",
                        "sz": "12",
                        "ts": "1768450000123",
                    },
                    {
                        "bkLoss": "0",
                        "bkPx": "95120.8",
                        "ccy": "",
                        "posSide": "net",
                        "side": "buy",
                        "sz": "3",
                        "ts": "1768449991456",
                    },
                    {
                        "bkLoss": "0",
                        "bkPx": "95120.8",
                        "ccy": "",
                        "posSide": "long",
                        "side": "buy",
                        "sz": "3",
                        "ts": "1768449991456",
                    },
                ],
            }
        ],
    }
    batch = parse(
        "okx_liquidations", page("okx", "GET /api/v5/public/liquidation-orders", body, ct_val={"BTC-USDT-SWAP": "0.01"})
    )
    rows = batch.table.to_pylist()
    assert [r["side"] for r in rows] == ["long", "short"]
    assert rows[0]["quantity"] == pytest.approx(0.12)
    assert rows[0]["usd_value"] == pytest.approx(0.12 * 94021.3)
    assert "contradicts" in batch.rejects.column("reason")[0].as_py()


def test_okx_taker_volume_is_buys_over_sells_and_a_period_without_sells_is_rejected():
    hour = 1768435200000  # 2026-01-15 00:00 UTC
    rows = [[str(hour + 7_200_000), "0", "5.0"], [str(hour + 3_600_000), "200.0", "300.0"], [str(hour), "abc", "1"]]
    body = {"code": "0", "msg": "", "data": rows}
    batch = parse(
        "okx_taker_volume",
        page("okx", "GET /api/v5/rubik/stat/taker-volume-contract", body, {"instId": "BTC-USDT-SWAP", "unit": "2"}),
    )
    assert batch.table.column("taker_buy_sell_ratio").to_pylist() == [1.5]
    reasons = batch.rejects.column("reason").to_pylist()
    assert len(reasons) == 2 and "no buy/sell ratio without taker sells" in reasons[0] and "abc" in reasons[1]


def test_okx_error_envelope_names_source_endpoint_and_params():
    body = {"code": "51001", "msg": "Instrument ID does not exist", "data": []}
    with pytest.raises(SourceError, match=r"okx GET /api/v5/public/funding-rate-history .*FOO-USDT-SWAP.*51001"):
        list(
            ENDPOINTS["okx_funding"].parse(
                page("okx", "GET /api/v5/public/funding-rate-history", body, {"instId": "FOO-USDT-SWAP"})
            )
        )


def test_binance_funding_strings_parse_exactly_and_floor_to_hour():
    body = [{"symbol": "BTCUSDT", "fundingTime": 1768464000003, "fundingRate": "-0.00002481", "markPrice": ""}]
    rows = parse("binance_funding", page("binance", "GET /fapi/v1/fundingRate", body)).table.to_pylist()
    assert rows[0]["funding_rate"] == -0.00002481
    assert rows[0]["funding_time"] == datetime(2026, 1, 15, 8)
    assert rows[0]["interval_hours"] == 8.0


def test_binance_error_body_raises():
    with pytest.raises(SourceError, match="-1121"):
        list(
            ENDPOINTS["binance_funding"].parse(
                page("binance", "GET /fapi/v1/fundingRate", {"code": -1121, "msg": "Invalid symbol."}, status=400)
            )
        )


def test_binance_open_interest_accepts_string_or_int_timestamp_and_ignores_new_fields():
    body = [
        {
            "symbol": "BTCUSDT",
            "sumOpenInterest": "93421.512",
            "sumOpenInterestValue": "8843256789.12",
            "CMCCirculatingSupply": "19812345.000",
            "timestamp": "1768521600000",
        }
    ]
    rows = parse("binance_open_interest", page("binance", "x", body), day=date(2026, 1, 16)).table.to_pylist()
    assert rows[0]["open_interest_usd"] == pytest.approx(8843256789.12)


def test_bybit_open_interest_prefers_single_side():
    body = {
        "retCode": "0",
        "retMsg": "OK",
        "result": {
            "symbol": "BTCUSDT",
            "list": [
                {"openInterest": "104682.246", "singleOpenInterest": "52341.123", "timestamp": "1768435200000"},
                {"openInterest": "1000", "timestamp": "1768438800000"},
            ],
            "nextPageCursor": "",
        },
        "time": 1,
    }
    rows = parse("bybit_open_interest", page("bybit", "x", body, {"symbol": "BTCUSDT"})).table.to_pylist()
    assert [r["open_interest_coins"] for r in rows] == [52341.123, 1000.0]


def test_bybit_error_retcode_raises():
    body = {"retCode": 10001, "retMsg": "params error: Symbol Invalid", "result": {}, "time": 1}
    with pytest.raises(SourceError, match="10001"):
        list(ENDPOINTS["bybit_funding"].parse(page("bybit", "x", body)))


def test_hyperliquid_funding_is_hourly():
    body = [{"coin": "BTC", "fundingRate": "0.0000125", "premium": "-0.0003", "time": 1768435200021}]
    rows = parse("hyperliquid_funding", page("hyperliquid", "POST /info", body)).table.to_pylist()
    assert rows[0]["interval_hours"] == 1.0 and rows[0]["funding_time"] == datetime(2026, 1, 15)


def test_coinalyze_liquidations_in_seconds_with_market_mapping():
    body = [
        {"symbol": "BTC.H", "history": [{"t": 1768435200, "l": 1523456.78, "s": 234567.12}]},
        {"symbol": "ZZZ.H", "history": []},
    ]
    p = page(
        "coinalyze", "GET /liquidation-history", body, markets={"BTC.H": {"exchange": "hyperliquid", "asset": "BTC"}}
    )
    batch = parse("coinalyze_liquidations", p)
    row = batch.table.to_pylist()[0]
    assert (row["exchange"], row["asset"], row["long_usd"]) == ("hyperliquid", "BTC", 1523456.78)
    assert batch.rejected == 1  # the series nobody asked for is kept with a reason


def test_coingecko_takes_the_close_point_and_rejects_a_missing_one():
    close_ms = 1768521600000  # 2026-01-16 00:00 = close of 2026-01-15
    body = {"prices": [[close_ms, 95000.0]], "market_caps": [[close_ms, 1.9e12]], "total_volumes": [[close_ms, 4e10]]}
    window = {"first_day": "2026-01-15", "last_day": "2026-01-15"}
    p = page("coingecko", "GET /coins/bitcoin/market_chart/range", body, coin_id="bitcoin", symbol="BTC", **window)
    row = parse("coingecko_market_caps", p).table.to_pylist()[0]
    assert (row["coin_id"], row["symbol"], row["market_cap_usd"]) == ("bitcoin", "BTC", 1.9e12)
    empty = {"prices": [], "market_caps": [], "total_volumes": []}
    batch = parse("coingecko_market_caps", page("coingecko", "x", empty, coin_id="bitcoin", symbol="BTC", **window))
    assert batch.rejected == 1 and "no market-cap point" in batch.rejects.column("reason")[0].as_py()


def test_coingecko_rate_limit_body_is_named():
    body = {"status": {"error_code": 429, "error_message": "You've exceeded the Rate Limit."}}
    with pytest.raises(SourceError, match="exceeded the Rate Limit"):
        list(
            ENDPOINTS["coingecko_market_caps"].parse(
                page("coingecko", "GET /coins/x/market_chart/range", body, status=429, coin_id="x", symbol="X")
            )
        )


def test_deribit_dvol_and_error():
    body = {"jsonrpc": "2.0", "result": {"data": [[1768435200000, 55.12, 55.48, 54.90, 55.31]], "continuation": None}}
    rows = parse("deribit_dvol", page("deribit", "x", body, currency="BTC")).table.to_pylist()
    assert rows[0]["close"] == 55.31 and rows[0]["currency"] == "BTC"
    error = {"jsonrpc": "2.0", "error": {"message": "Invalid params", "data": {"param": "resolution"}, "code": -32602}}
    with pytest.raises(SourceError, match="-32602"):
        list(ENDPOINTS["deribit_dvol"].parse(page("deribit", "x", error, status=400, currency="BTC")))


@pytest.mark.parametrize("body", [b"", b"<html><body>502 Bad Gateway</body></html>", b'{"code": "0", "da'])
def test_unparseable_bodies_raise_a_named_error(body):
    with pytest.raises(SourceError, match="okx GET /x"):
        list(ENDPOINTS["okx_funding"].parse(page("okx", "GET /x", body)))


def test_coingecko_range_tags_each_close_with_its_own_day():
    closes = [1768521600000 + i * 86_400_000 for i in range(3)]  # closes of 2026-01-15 .. 2026-01-17
    body = {
        "prices": [[ms, 95000.0 + i] for i, ms in enumerate(closes)],
        "market_caps": [[ms, 1.9e12 + i] for i, ms in enumerate(closes)],
        "total_volumes": [[ms, 4e10] for ms in closes],
    }
    window = {"first_day": "2026-01-15", "last_day": "2026-01-18"}  # the 18th has no close yet
    p = page("coingecko", "GET /coins/bitcoin/market_chart/range", body, coin_id="bitcoin", symbol="BTC", **window)
    records = list(ENDPOINTS["coingecko_market_caps"].parse(p))
    assert [r["_day"] for r in records] == [date(2026, 1, 15), date(2026, 1, 16), date(2026, 1, 17), date(2026, 1, 18)]
    assert [r.get("market_cap_usd") for r in records[:3]] == [1.9e12, 1.9e12 + 1, 1.9e12 + 2]
    assert "no market-cap point" in records[3]["_reject"]


COINGLASS_PATH = "GET /api/futures/liquidation/aggregated-history"
COINGLASS_PARAMS = {"exchange_list": "Hyperliquid", "symbol": "BTC", "interval": "1h", "limit": 1000}


def coinglass_page(body: object, status: int = 200) -> Page:
    return page("coinglass", COINGLASS_PATH, body, COINGLASS_PARAMS, status=status, exchange="hyperliquid", asset="BTC")


def test_coinglass_liquidations_keep_long_and_short_apart_and_parse_numbers_sent_as_strings():
    body = {
        "code": "0",
        "msg": "success",
        "data": [
            {
                "time": 1768435200000,
                "aggregated_long_liquidation_usd": "1523456.78",
                "aggregated_short_liquidation_usd": "234567.12",
            },
            {"time": 1768438800000, "aggregated_long_liquidation_usd": 0, "aggregated_short_liquidation_usd": 98765.4},
        ],
    }
    batch = parse("coinglass_liquidations", coinglass_page(body))
    rows = batch.table.to_pylist()
    assert batch.rejected == 0 and len(rows) == 2
    assert (rows[0]["exchange"], rows[0]["asset"], rows[0]["symbol"]) == ("hyperliquid", "BTC", "BTC")
    assert (rows[0]["long_usd"], rows[0]["short_usd"]) == (1523456.78, 234567.12)
    assert (rows[1]["long_usd"], rows[1]["short_usd"]) == (0.0, 98765.4)
    assert [r["bucket_start"] for r in rows] == [datetime(2026, 1, 15, 0), datetime(2026, 1, 15, 1)]
    assert {r["bucket_minutes"] for r in rows} == {60}


@pytest.mark.parametrize(
    ("body", "status", "expected"),
    [
        ({"code": "401", "msg": "API key missing or invalid"}, 401, r"API error code 401: API key missing.*HTTP 401"),
        ({"code": "400", "msg": "Invalid parameter: interval"}, 200, r"API error code 400: Invalid parameter"),
        ({"code": "0", "msg": "success", "data": {"time": 1}}, 200, r"expected data to be a list"),
        (b"<html>502 Bad Gateway</html>", 502, r"HTTP 502"),
    ],
)
def test_coinglass_error_envelopes_name_source_endpoint_and_code(body, status, expected):
    prefix = r"coinglass GET /api/futures/liquidation/aggregated-history .*Hyperliquid.*: "
    with pytest.raises(SourceError, match=prefix + expected):
        list(ENDPOINTS["coinglass_liquidations"].parse(coinglass_page(body, status)))


def test_coinglass_malformed_rows_are_rejected_with_reasons():
    good = {"time": 1768435200000, "aggregated_long_liquidation_usd": 1.5, "aggregated_short_liquidation_usd": "2"}
    body = {
        "code": "0",
        "msg": "success",
        "data": [
            good,
            {"aggregated_long_liquidation_usd": 1.0, "aggregated_short_liquidation_usd": 1.0},
            {**good, "time": 1768438800000, "aggregated_long_liquidation_usd": "n/a"},
            {**good, "time": 1768442400000, "aggregated_short_liquidation_usd": -3},
            "not an object",
        ],
    }
    batch = parse("coinglass_liquidations", coinglass_page(body))
    reasons = batch.rejects.column("reason").to_pylist()
    assert batch.accepted == 1 and batch.rejected == 4
    assert any("KeyError" in r and "time" in r for r in reasons)
    assert any("long_usd" in r and "not a number" in r for r in reasons)
    assert any("short_usd must be >= 0" in r for r in reasons)
    assert any("TypeError" in r for r in reasons)


def _both_paths(table: str, raw: Page):
    """The pipeline's parse of one page, column-wise (as it runs) and record by record."""
    from dataclasses import replace

    from ingestion.pipeline import _build
    from ingestion.sources.base import Window

    endpoint = ENDPOINTS[table]
    window = Window(DAY, DAY)
    return [_build(e, window, [raw], ["ref"]).batch for e in (endpoint, replace(endpoint, parse_columns=None))]


def _tape(body: bytes) -> Page:
    return page("binance", "collector tape", body)


def _sorted(table):
    return table.sort_by([(name, "ascending") for name in table.column_names]).to_pylist()


def test_binance_tape_column_wise_equals_record_by_record():
    unfilled = force_order("SELL", T=1768450002119)
    unfilled["o"].update(ap="0", z="0")  # no average fill yet: the order's price and quantity
    no_trade_time = force_order("BUY", T=1768450003119)
    no_trade_time["o"]["T"] = 0  # the message time stands in
    odd_side, outside_day, negative = (
        force_order("HOLD"),
        force_order("SELL", T=1767225600000),
        force_order("BUY", qty="-1"),
    )
    body = tape(force_order("SELL"), unfilled, no_trade_time, odd_side, outside_day, negative)
    column_wise, by_record = _both_paths("binance_liquidations", _tape(body))
    assert column_wise.accepted == 3 and column_wise.rejected == 3
    assert _sorted(column_wise.table) == _sorted(by_record.table)
    assert sorted(column_wise.rejects.column("reason").to_pylist()) == sorted(
        by_record.rejects.column("reason").to_pylist()
    )
    rows = {r["event_time"]: r for r in column_wise.table.to_pylist()}
    assert rows[datetime(2026, 1, 15, 4, 6, 42, 119000)]["price"] == 94210.50  # "p" when "ap" is 0
    assert datetime(2026, 1, 15, 4, 6, 43, 123000) in rows  # "E" when "T" is 0


@pytest.mark.parametrize(
    "first_line",
    [b"null", b"[1, 2]", b'{"e": "forceOrder", "o": {tru', b'{"\xff": 1}'],
    ids=["json-null", "array", "cut-line", "bad-utf8-key"],
)
def test_binance_tape_the_column_reader_cannot_take_goes_record_by_record(first_line):
    """Lines Arrow's reader rejects (or, for a leading `null`, would crash on) leave the page to
    the per-message parser: the good messages load and the bad line is a named reject."""
    body = first_line + b"\n" + tape(force_order("SELL"))
    column_wise, by_record = _both_paths("binance_liquidations", _tape(body))
    assert column_wise.accepted == 1 and column_wise.rejected == 1
    assert _sorted(column_wise.rejects) == _sorted(by_record.rejects)


@pytest.mark.parametrize(
    "change",
    [{"ap": True, "p": True}, {"s": 7}, {"S": None}, {"T": False}],
    ids=["booleans-as-prices", "number-as-symbol", "null-side", "boolean-time"],
)
def test_binance_tape_fields_of_another_type_in_every_message_are_read_record_by_record(change):
    """Arrow would cast a column of booleans to numbers (true -> 1.0); such tapes go record by
    record, where each message is rejected with its reason, exactly as before the column path."""
    messages = [force_order("SELL"), force_order("BUY", 1768450001119)]
    for message in messages:
        message["o"].update(change)
    column_wise, by_record = _both_paths("binance_liquidations", _tape(tape(*messages)))
    assert _sorted(column_wise.table) == _sorted(by_record.table)
    assert _sorted(column_wise.rejects) == _sorted(by_record.rejects)
    assert column_wise.rejected == 2 or change == {"T": False}  # T false -> the message time stands in


def _takes_whole(table: str, raw: Page) -> bool:
    from ingestion.rows import BulkUnfit

    try:
        ENDPOINTS[table].parse_columns(raw)
    except (BulkUnfit, pa.ArrowException):  # as the pipeline: either sends the page row by row
        return False
    return True


def _gate_bucket(minute: int, long_usd: object, short_usd: object) -> dict:
    return {"time": 1768435200 + 60 * minute, "long_liq_usd": long_usd, "short_liq_usd": short_usd, "lsr_taker": 1.1}


@pytest.mark.parametrize(
    ("odd", "whole"),
    [
        (_gate_bucket(10, -5.0, 1.0), True),  # a rule breaks: the row is rejected either way
        (_gate_bucket(15, "12.5", "0"), False),  # strings among numbers: row by row
        ({"time": 1768435200 + 1200, "long_liq_usd": 3.0}, False),  # a field missing
        ([1768435200, 1.0, 2.0], False),  # not an object
    ],
    ids=["negative", "strings", "missing-field", "array-row"],
)
def test_gate_statistics_column_wise_equal_record_by_record(odd, whole):
    rows = [_gate_bucket(0, 1250.5, 0), _gate_bucket(5, 0, 310.25), odd]
    stats = page("gate", "GET /futures/usdt/contract_stats", rows, {"contract": "BTC_USDT", "interval": "5m"})
    column_wise, by_record = _both_paths("gate_liquidations", stats)
    assert _takes_whole("gate_liquidations", stats) == whole
    assert column_wise.accepted + column_wise.rejected == 3
    assert _sorted(column_wise.table) == _sorted(by_record.table)
    assert sorted(column_wise.rejects.column("reason").to_pylist()) == sorted(
        by_record.rejects.column("reason").to_pylist()
    )
