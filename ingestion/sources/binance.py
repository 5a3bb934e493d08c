"""Binance USD-M futures (see shared/api-reference/binance.md).

Liquidations come only from the ``!forceOrder@arr`` stream (the public REST history was retired):
the collector's tape for the day is parsed here. The stream sends at most one event per symbol
per second, so Binance totals are a floor.
"""

from __future__ import annotations

from collections.abc import Callable, Iterator
from typing import Any

import pyarrow as pa
import pyarrow.compute as pc

from ingestion.http import Page, shown
from ingestion.rows import (
    BulkUnfit,
    bulk_mapped,
    bulk_ms_timestamps,
    bulk_numbers,
    bulk_required,
    bulk_strings,
    bulk_unless_zero,
    bulk_without_suffix,
    floor_hour,
    ms_to_datetime,
    to_float,
)
from ingestion.schemas import CANDLES, FUNDING_RATES, LIQUIDATION_EVENTS, LONG_SHORT_RATIOS, OPEN_INTEREST
from ingestion.sources.base import (
    Endpoint,
    Fetch,
    FetchContext,
    Parse,
    Source,
    Window,
    iter_records,
    json_ok,
    page_cursor,
    require_list,
)
from ingestion.sources.tape import collector_uptime, fetch_tapes, ndjson_messages, tape_field, tape_table
from ingestion.streams import LiquidationStream, StreamEvent

EXCHANGE = "binance"
PAGE_LIMIT = 500
HOUR_MS = 3_600_000
SIDES = {"SELL": "long", "BUY": "short"}  # the liquidation order's side closes the opposite position


def symbol(asset: str) -> str:
    return f"{asset}USDT"


def asset_of(sym: str) -> str:
    return sym.removesuffix("USDT")


def _body(page: Page) -> Any:
    payload = json_ok(page)
    if isinstance(payload, dict) and "code" in payload and "msg" in payload:
        raise page.error(f"API error {shown(payload['code'])}: {shown(payload['msg'])}")
    return payload


def _walk(ctx: FetchContext, window: Window, path: str, time_key: Any, step_ms: int, **params: Any) -> Iterator[Page]:
    """Ascending endpoints: ask for the window, continue from the last time + 1 while pages are
    full. ``step_ms`` is the series' cadence: an empty page after a full one while a whole step
    still fits before the window's end is a broken page, not the end of the data."""
    start, end = window.start_ms, window.end_ms
    for asset in ctx.assets:
        cursor = start
        while cursor <= end:
            query = {"symbol": symbol(asset), "startTime": cursor, "endTime": end, "limit": PAGE_LIMIT, **params}
            page = ctx.client.get(path, query, window.context(asset=asset))
            yield page
            rows = require_list(page, _body(page), "response")
            if not rows and cursor > start and cursor + step_ms <= end:
                raise page.error(
                    f"empty page in the middle of pagination: nothing after {ms_to_datetime(cursor - 1)} although "
                    f"the window runs to {ms_to_datetime(end)}; the pages before it are kept in the landing zone"
                )
            if len(rows) < PAGE_LIMIT:
                break
            cursor = page_cursor(page, rows, lambda r: time_key(r[-1]), after=cursor - 1) + 1


def fetch_funding(ctx: FetchContext, window: Window) -> Iterator[Page]:
    return _walk(ctx, window, "/fapi/v1/fundingRate", lambda r: r["fundingTime"], 8 * HOUR_MS)


def parse_funding(page: Page) -> Iterator[dict[str, Any]]:
    return iter_records(
        page,
        require_list(page, _body(page), "response"),
        lambda r: {
            "exchange": EXCHANGE,
            "asset": asset_of(r["symbol"]),
            "symbol": r["symbol"],
            "funding_time": floor_hour(ms_to_datetime(r["fundingTime"])),
            "funding_rate": r["fundingRate"],
            "interval_hours": 8.0,  # fundingInfo lists only adjusted symbols; the tracked ones use 8 h
        },
    )


def fetch_open_interest(ctx: FetchContext, window: Window) -> Iterator[Page]:
    return _walk(ctx, window, "/futures/data/openInterestHist", lambda r: r["timestamp"], HOUR_MS, period="1h")


def parse_open_interest(page: Page) -> Iterator[dict[str, Any]]:
    return iter_records(
        page,
        require_list(page, _body(page), "response"),
        lambda r: {
            "exchange": EXCHANGE,
            "asset": asset_of(r["symbol"]),
            "symbol": r["symbol"],
            "observed_at": ms_to_datetime(r["timestamp"]),
            "open_interest_coins": r["sumOpenInterest"],
            "open_interest_usd": r["sumOpenInterestValue"],
        },
    )


# Long/short ratio endpoints under /futures/data: path -> (the measure it fills, its ratio field).
RATIO_ENDPOINTS = {
    "globalLongShortAccountRatio": ("account_ratio", "longShortRatio"),
    "topLongShortAccountRatio": ("top_account_ratio", "longShortRatio"),
    "topLongShortPositionRatio": ("top_position_ratio", "longShortRatio"),
    "takerlongshortRatio": ("taker_buy_sell_ratio", "buySellRatio"),
}


def fetch_ratios(path: str) -> Fetch:
    def fetch(ctx: FetchContext, window: Window) -> Iterator[Page]:
        return _walk(ctx, window, f"/futures/data/{path}", lambda r: r["timestamp"], HOUR_MS, period="1h")

    return fetch


def parse_ratios(path: str) -> Parse:
    measure, field = RATIO_ENDPOINTS[path]

    def parse(page: Page) -> Iterator[dict[str, Any]]:  # the taker endpoint's rows name no symbol
        return _rows_of_symbol(page, lambda r: {"observed_at": ms_to_datetime(r["timestamp"]), measure: r[field]})

    return parse


def _rows_of_symbol(page: Page, build: Callable[[Any], dict[str, Any]]) -> Iterator[dict[str, Any]]:
    """The rows of a page asked for one symbol (the request names it, the rows may not)."""
    sym = page.params["symbol"]
    market = {"exchange": EXCHANGE, "asset": asset_of(sym), "symbol": sym}
    return iter_records(page, require_list(page, _body(page), "response"), lambda r: {**market, **build(r)})


def ratio_endpoint(path: str) -> Endpoint:
    measure, field = RATIO_ENDPOINTS[path]
    return Endpoint(
        EXCHANGE,
        measure,
        LONG_SHORT_RATIOS,
        fetch_ratios(path),
        parse_ratios(path),
        f"Binance GET /futures/data/{path} (1h, `{field}`): {measure} in long_short_ratios.",
        look_back_days=29,  # "only the data of the latest 30 days is available"
    )


def fetch_klines(ctx: FetchContext, window: Window) -> Iterator[Page]:
    return _walk(ctx, window, "/fapi/v1/klines", lambda r: r[0], HOUR_MS, interval="1h")


def parse_klines(page: Page) -> Iterator[dict[str, Any]]:
    return _rows_of_symbol(
        page,
        lambda r: {
            "open_time": ms_to_datetime(r[0]),
            "interval_minutes": 60,
            "open": r[1],
            "high": r[2],
            "low": r[3],
            "close": r[4],
            "volume_coins": r[5],
        },
    )


def _force_order(message: dict[str, Any]) -> dict[str, Any]:
    order = message["o"]
    price = order.get("ap")
    if to_float(price) in (None, 0.0):
        price = order["p"]
    quantity = order.get("z")
    if to_float(quantity) in (None, 0.0):
        quantity = order["q"]
    price_f, quantity_f = to_float(price), to_float(quantity)
    return {
        "exchange": EXCHANGE,
        "asset": asset_of(order["s"]),
        "symbol": order["s"],
        "event_time": ms_to_datetime(order.get("T") or message["E"]),
        "side": SIDES.get(order["S"], order["S"]),
        "price": price,
        "quantity": quantity,
        "usd_value": None if price_f is None or quantity_f is None else price_f * quantity_f,
    }


def liquidation_columns(page: Page) -> pa.Table:
    """``_force_order`` for a whole tape of plain ``forceOrder`` messages (the collector's form)."""
    messages = tape_table(page)
    if "data" in messages.column_names:  # combined-stream envelopes: the per-message parser unwraps them
        raise BulkUnfit("combined-stream messages")
    order = {name: tape_field(messages, "o", name) for name in ("ap", "p", "z", "q")}
    order |= {name: bulk_strings(tape_field(messages, "o", name)) for name in ("s", "S")}
    traded = tape_field(messages, "o", "T") if "T" in messages.schema.field("o").type.names else None
    sent = tape_field(messages, "E")
    price = bulk_unless_zero(bulk_numbers(order["ap"]), bulk_numbers(order["p"]))
    quantity = bulk_unless_zero(bulk_numbers(order["z"]), bulk_numbers(order["q"]))
    return bulk_required(
        {
            "exchange": pa.repeat(EXCHANGE, messages.num_rows),
            "asset": bulk_without_suffix(order["s"], "USDT"),
            "symbol": order["s"],
            "event_time": bulk_ms_timestamps(sent if traded is None else bulk_unless_zero(traded, sent)),
            "side": bulk_mapped(order["S"], SIDES),
            "price": price,
            "quantity": quantity,
            "usd_value": pc.multiply(price, quantity),
        }
    )


def parse_liquidations(page: Page) -> Iterator[dict[str, Any]]:
    messages = (m.get("data", m) if isinstance(m, dict) else m for m in ndjson_messages(page))
    return iter_records(page, messages, _force_order)


def _stream_events(message: Any) -> list[StreamEvent]:
    """A ``forceOrder`` message (plain, or wrapped by the combined-stream form) is one event."""
    event = message.get("data", message) if isinstance(message, dict) else None
    if not isinstance(event, dict) or event.get("e") != "forceOrder":
        return []
    order = event["o"]
    key = "|".join(str(order.get(k)) for k in ("s", "T", "S", "z", "ap", "q", "p"))
    return [StreamEvent(key, int(order.get("T") or event["E"]), asset_of(order["s"]), event)]


STREAM = LiquidationStream(
    exchange=EXCHANGE,
    # Route-split host since 2026 (see the reference); the all-symbol stream needs no subscribe.
    default_url="wss://fstream.binance.com/market/ws/!forceOrder@arr",
    subscribe=lambda assets: [],
    explode=_stream_events,
)


SOURCE = Source(
    name=EXCHANGE,
    default_base_url="https://fapi.binance.com",
    min_interval_s=0.7,  # fundingRate shares 500 req / 5 min: stay below 100/min
    stream=STREAM,
    endpoints=(
        Endpoint(
            EXCHANGE,
            "liquidations",
            LIQUIDATION_EVENTS,
            fetch_tapes(EXCHANGE),
            parse_liquidations,
            "Binance !forceOrder@arr stream tape (throttled: <= 1 event/symbol/second).",
            parse_columns=liquidation_columns,
            from_collector=True,
            coverage="throttled",
        ),
        collector_uptime(EXCHANGE),
        Endpoint(
            EXCHANGE,
            "funding",
            FUNDING_RATES,
            fetch_funding,
            parse_funding,
            "Binance GET /fapi/v1/fundingRate settled funding.",
            coverage="complete",
        ),
        Endpoint(
            EXCHANGE,
            "open_interest",
            OPEN_INTEREST,
            fetch_open_interest,
            parse_open_interest,
            "Binance GET /futures/data/openInterestHist, hourly.",
            look_back_days=29,
            coverage="complete",
        ),
        Endpoint(
            EXCHANGE,
            "klines",
            CANDLES,
            fetch_klines,
            parse_klines,
            "Binance GET /fapi/v1/klines, hourly candles: the reference price.",
            coverage="complete",
        ),
        *(ratio_endpoint(path) for path in RATIO_ENDPOINTS),
    ),
)
