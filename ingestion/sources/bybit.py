"""Bybit v5 (see shared/api-reference/bybit.md).

Liquidations come from the ``allLiquidation.{symbol}`` stream tape: every liquidation, batched
every 500 ms, with the liquidated *position's* side (Buy = a long was liquidated).
"""

from __future__ import annotations

import json
from collections.abc import Iterator, Sequence
from typing import Any

from ingestion.http import Page, shown
from ingestion.rows import floor_hour, ms_to_datetime, to_float
from ingestion.schemas import FUNDING_RATES, LIQUIDATION_EVENTS, LONG_SHORT_RATIOS, OPEN_INTEREST
from ingestion.sources.base import (
    Endpoint,
    Fetch,
    FetchContext,
    Rejected,
    Source,
    Window,
    iter_records,
    json_ok,
    page_cursor,
    rejected,
    require_list,
    success_code,
)
from ingestion.sources.tape import collector_uptime, fetch_tapes, ndjson_messages
from ingestion.streams import LiquidationStream, StreamEvent

EXCHANGE = "bybit"
FUNDING_LIMIT = 200
OI_LIMIT = 200
RATIO_LIMIT = 500


def symbol(asset: str) -> str:
    return f"{asset}USDT"


def _result_list(page: Page) -> list[Any]:
    payload = json_ok(page)
    if not isinstance(payload, dict):
        raise page.error(f"expected an envelope object, got {type(payload).__name__}")
    code = payload.get("retCode")
    if not success_code(code):
        raise page.error(f"API error retCode={shown(code)}: {shown(payload.get('retMsg'))}")
    result = payload.get("result")
    return require_list(page, result.get("list") if isinstance(result, dict) else None, "result.list")


def fetch_funding(ctx: FetchContext, window: Window) -> Iterator[Page]:
    start, end = window.start_ms, window.end_ms
    for asset in ctx.assets:
        cursor_end = end
        while True:  # newest first: move endTime below the oldest row while pages are full
            params = {
                "category": "linear",
                "symbol": symbol(asset),
                "startTime": start,
                "endTime": cursor_end,
                "limit": FUNDING_LIMIT,
            }
            page = ctx.client.get("/v5/market/funding/history", params, window.context(asset=asset))
            yield page
            rows = _result_list(page)
            if len(rows) < FUNDING_LIMIT:
                break
            oldest = page_cursor(
                page, rows, lambda r: min(int(row["fundingRateTimestamp"]) for row in r), before=cursor_end + 1
            )
            cursor_end = oldest - 1


def parse_funding(page: Page) -> Iterator[dict[str, Any]]:
    return iter_records(
        page,
        _result_list(page),
        lambda r: {
            "exchange": EXCHANGE,
            "asset": r["symbol"].removesuffix("USDT"),
            "symbol": r["symbol"],
            "funding_time": floor_hour(ms_to_datetime(r["fundingRateTimestamp"])),
            "funding_rate": r["fundingRate"],
            "interval_hours": 8.0,  # tracked linear perps settle every 480 minutes
        },
    )


def _cursor_walk(path: str, interval_param: str, limit: int) -> Fetch:
    """Hourly series paged newest first with ``nextPageCursor`` until it comes back empty."""

    def fetch(ctx: FetchContext, window: Window) -> Iterator[Page]:
        for asset in ctx.assets:
            cursor = ""
            while True:
                params = {
                    "category": "linear",
                    "symbol": symbol(asset),
                    interval_param: "1h",
                    "startTime": window.start_ms,
                    "endTime": window.end_ms,
                    "limit": limit,
                }
                if cursor:
                    params["cursor"] = cursor
                page = ctx.client.get(path, params, window.context(asset=asset))
                yield page
                _result_list(page)
                cursor = (page.json().get("result") or {}).get("nextPageCursor") or ""
                if not cursor:
                    break

    return fetch


fetch_open_interest = _cursor_walk("/v5/market/open-interest", "intervalTime", OI_LIMIT)
fetch_account_ratio = _cursor_walk("/v5/market/account-ratio", "period", RATIO_LIMIT)


def parse_account_ratio(page: Page) -> Iterator[dict[str, Any]]:
    """buyRatio / sellRatio: the shares of accounts net long and net short."""
    sym = page.params["symbol"]
    return iter_records(
        page,
        _result_list(page),
        lambda r: {
            "exchange": EXCHANGE,
            "asset": sym.removesuffix("USDT"),
            "symbol": sym,
            "observed_at": ms_to_datetime(r["timestamp"]),
            "account_ratio": _ratio(r["buyRatio"], r["sellRatio"]),
        },
    )


def _ratio(long_share: Any, short_share: Any) -> float | None:
    longs, shorts = to_float(long_share), to_float(short_share)
    if longs is None or shorts is None:
        return None
    if shorts <= 0:
        raise ValueError(f"sellRatio {short_share!r}: no short accounts, the ratio is undefined")
    return longs / shorts


def _oi_row(sym: str, r: dict[str, Any]) -> dict[str, Any]:
    # Since 2026 openInterest is both sides; singleOpenInterest is one side, like Binance's.
    single = r.get("singleOpenInterest")
    coins = single if single not in (None, "") else r["openInterest"]
    return {
        "exchange": EXCHANGE,
        "asset": sym.removesuffix("USDT"),
        "symbol": sym,
        "observed_at": ms_to_datetime(r["timestamp"]),
        "open_interest_coins": coins,
        "open_interest_usd": None,  # valued in dbt with the hour's reference price
    }


def parse_open_interest(page: Page) -> Iterator[dict[str, Any]]:
    sym = page.params["symbol"]
    return iter_records(page, _result_list(page), lambda r: _oi_row(sym, r))


def _events(page: Page) -> Iterator[Any]:
    for message in ndjson_messages(page):
        topic = message.get("topic") if isinstance(message, dict) else None
        if isinstance(message, Rejected):
            yield message
        elif isinstance(topic, str) and topic.startswith("allLiquidation."):
            data = message.get("data")
            yield from (data if isinstance(data, list) else [rejected("allLiquidation data is not a list", message)])
        elif isinstance(message, dict) and "topic" not in message:
            continue  # subscribe acks and pongs
        else:
            yield rejected("unexpected tape message", message)


def _liquidation(r: dict[str, Any]) -> dict[str, Any]:
    price, quantity = to_float(r["p"]), to_float(r["v"])
    return {
        "exchange": EXCHANGE,
        "asset": r["s"].removesuffix("USDT"),
        "symbol": r["s"],
        "event_time": ms_to_datetime(r["T"]),
        "side": {"Buy": "long", "Sell": "short"}.get(r["S"], r["S"]),
        "price": r["p"],
        "quantity": r["v"],
        "usd_value": None if price is None or quantity is None else price * quantity,
    }


def parse_liquidations(page: Page) -> Iterator[dict[str, Any]]:
    return iter_records(page, _events(page), _liquidation)


def _stream_events(message: Any) -> list[StreamEvent]:
    """An ``allLiquidation`` push carries a batch; each event is kept as a one-element push."""
    if not isinstance(message, dict) or not str(message.get("topic", "")).startswith("allLiquidation."):
        return []
    envelope = {k: v for k, v in message.items() if k != "data"}
    return [
        StreamEvent(
            "|".join(str(r.get(k)) for k in ("s", "T", "S", "v", "p")),
            int(r["T"]),
            r["s"].removesuffix("USDT"),
            {**envelope, "data": [r]},
        )
        for r in message["data"]
    ]


def _subscribe(assets: Sequence[str]) -> list[str]:
    args = [f"allLiquidation.{symbol(a)}" for a in assets]
    return [json.dumps({"req_id": "levstress-liquidations", "op": "subscribe", "args": args})]


STREAM = LiquidationStream(
    exchange=EXCHANGE,
    default_url="wss://stream.bybit.com/v5/public/linear",
    subscribe=_subscribe,
    explode=_stream_events,
    heartbeat=(20.0, json.dumps({"op": "ping"})),  # without it the server drops the socket after ~10 min
)


SOURCE = Source(
    name=EXCHANGE,
    default_base_url="https://api.bybit.com",
    min_interval_s=0.2,  # 600 req / 5 s per IP is the ceiling; a few per second is plenty
    stream=STREAM,
    endpoints=(
        Endpoint(
            EXCHANGE,
            "liquidations",
            LIQUIDATION_EVENTS,
            fetch_tapes(EXCHANGE),
            parse_liquidations,
            "Bybit allLiquidation stream tape (every liquidation, 500 ms batches).",
            from_collector=True,
            coverage="complete",
        ),
        collector_uptime(EXCHANGE),
        Endpoint(
            EXCHANGE,
            "funding",
            FUNDING_RATES,
            fetch_funding,
            parse_funding,
            "Bybit GET /v5/market/funding/history settled funding.",
            coverage="complete",
        ),
        Endpoint(
            EXCHANGE,
            "open_interest",
            OPEN_INTEREST,
            fetch_open_interest,
            parse_open_interest,
            "Bybit GET /v5/market/open-interest, hourly, one side in coins.",
            coverage="complete",
        ),
        Endpoint(
            EXCHANGE,
            "account_ratio",
            LONG_SHORT_RATIOS,
            fetch_account_ratio,
            parse_account_ratio,
            "Bybit GET /v5/market/account-ratio (1h): buyRatio / sellRatio, accounts net long per account net "
            "short (served since 2020-07-20).",
        ),
    ),
)
