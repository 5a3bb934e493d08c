"""Deribit (see shared/api-reference/deribit.md): the DVOL volatility index, hourly candles.
Pages walk backwards through ``continuation``."""

from __future__ import annotations

from collections.abc import Iterator
from typing import Any

from ingestion.http import Page, shown
from ingestion.rows import ms_to_datetime
from ingestion.schemas import VOLATILITY_INDEX
from ingestion.sources.base import Endpoint, FetchContext, Source, Window, iter_records, page_cursor, require_list

CURRENCIES = ("BTC", "ETH")  # DVOL exists only for these


def _result(page: Page) -> dict[str, Any]:
    payload = page.json()
    if isinstance(payload, dict) and "error" in payload:
        error = payload["error"] if isinstance(payload["error"], dict) else {"message": payload["error"]}
        detail = f"{shown(error.get('code'))}: {shown(error.get('message'))} {shown(error.get('data') or '')}"
        raise page.error(f"API error {detail}".strip())
    if not 200 <= page.status < 300 or not isinstance(payload, dict) or not isinstance(payload.get("result"), dict):
        raise page.error(f"HTTP {page.status}: unexpected reply {page.body[:120]!r}")
    return payload["result"]


def fetch_dvol(ctx: FetchContext, window: Window) -> Iterator[Page]:
    start, end = window.start_ms, window.end_ms
    for currency in CURRENCIES:
        if currency not in ctx.assets:
            continue
        cursor: int | None = end
        while cursor is not None:
            params = {"currency": currency, "start_timestamp": start, "end_timestamp": cursor, "resolution": "3600"}
            page = ctx.client.get("/public/get_volatility_index_data", params, window.context(currency=currency))
            yield page
            continuation = _result(page).get("continuation")
            # ``continuation`` is the oldest candle already returned: end just before it, or
            # that candle would arrive twice.
            oldest = page_cursor(page, continuation, before=cursor + 1) if continuation else None
            cursor = oldest - 1 if oldest is not None and oldest > start else None


def parse_dvol(page: Page) -> Iterator[dict[str, Any]]:
    currency = page.context["currency"]
    return iter_records(
        page,
        require_list(page, _result(page).get("data"), "result.data"),
        lambda r: {
            "currency": currency,
            "open_time": ms_to_datetime(r[0]),
            "interval_minutes": 60,
            "open": r[1],
            "high": r[2],
            "low": r[3],
            "close": r[4],
        },
    )


SOURCE = Source(
    name="deribit",
    venues=(),
    default_base_url="https://www.deribit.com/api/v2",
    min_interval_s=0.2,
    endpoints=(
        Endpoint(
            "deribit",
            "dvol",
            VOLATILITY_INDEX,
            fetch_dvol,
            parse_dvol,
            "Deribit GET /public/get_volatility_index_data (DVOL), hourly.",
        ),
    ),
)
