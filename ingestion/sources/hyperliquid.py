"""Hyperliquid (see shared/api-reference/hyperliquid.md): every read is ``POST /info``.

Hyperliquid publishes no liquidation or open-interest history; those come from Coinalyze
(``ingestion.sources.coinalyze``). Funding settles hourly and ``fundingRate`` is per hour.
"""

from __future__ import annotations

from collections.abc import Iterator
from typing import Any

from ingestion.http import Page
from ingestion.rows import floor_hour, ms_to_datetime
from ingestion.schemas import FUNDING_RATES
from ingestion.sources.base import (
    Endpoint,
    FetchContext,
    Source,
    Window,
    iter_records,
    json_ok,
    page_cursor,
    require_list,
)

EXCHANGE = "hyperliquid"
MAX_ROWS = 500


def _rows(page: Page) -> list[Any]:
    payload = json_ok(page)
    if payload is None:
        raise page.error("null reply")
    return require_list(page, payload, "reply")


def fetch_funding(ctx: FetchContext, window: Window) -> Iterator[Page]:
    start, end = window.start_ms, window.end_ms
    for asset in ctx.assets:
        cursor = start
        while cursor <= end:
            body = {"type": "fundingHistory", "coin": asset, "startTime": cursor, "endTime": end}
            page = ctx.client.post("/info", body, window.context(asset=asset))
            yield page
            rows = _rows(page)
            if len(rows) < MAX_ROWS:
                break
            cursor = page_cursor(page, rows, lambda r: r[-1]["time"], after=cursor - 1) + 1


def parse_funding(page: Page) -> Iterator[dict[str, Any]]:
    return iter_records(
        page,
        _rows(page),
        lambda r: {
            "exchange": EXCHANGE,
            "asset": r["coin"],
            "symbol": r["coin"],
            "funding_time": floor_hour(ms_to_datetime(r["time"])),
            "funding_rate": r["fundingRate"],
            "interval_hours": 1.0,
        },
    )


SOURCE = Source(
    name=EXCHANGE,
    default_base_url="https://api.hyperliquid.xyz",
    min_interval_s=1.5,  # 1200 weight/min; a one-day fundingHistory call weighs ~21
    endpoints=(
        Endpoint(
            EXCHANGE,
            "funding",
            FUNDING_RATES,
            fetch_funding,
            parse_funding,
            "Hyperliquid POST /info fundingHistory (hourly settlements).",
            coverage="complete",
        ),
    ),
)
