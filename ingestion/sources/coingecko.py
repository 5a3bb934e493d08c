"""CoinGecko v3 (see shared/api-reference/coingecko.md): top market caps by day.

The day's value is the snapshot at the next 00:00 UTC (the day's close). ``/coins/markets`` names
today's top coins; ``/coins/{id}/market_chart/range`` gives each coin's history. The demo API
key, when set, travels in the ``x-cg-demo-api-key`` header.
"""

from __future__ import annotations

from collections.abc import Iterator
from datetime import datetime, timedelta
from typing import Any

from ingestion.http import Page, SourceError, shown
from ingestion.rows import RowError, ms_to_datetime
from ingestion.schemas import MARKET_CAPS
from ingestion.sources.base import Endpoint, FetchContext, Source, Window, json_ok, require_list

TOP_N = 50
HOUR_S = 3600
DAY_S = 86_400


def _error_message(payload: Any) -> str | None:
    """CoinGecko errors come as {"status": {...}}, {"error": {"status": {...}}} or {"error": "..."}."""
    if not isinstance(payload, dict):
        return None
    error = payload.get("error")
    status = payload.get("status") or (error.get("status") if isinstance(error, dict) else None)
    if isinstance(status, dict):
        return f"error_code {shown(status.get('error_code'))}: {shown(status.get('error_message'))}"
    return shown(error) if isinstance(error, str) else None


def _body(page: Page) -> Any:
    if 200 <= page.status < 300:
        return json_ok(page)
    try:
        message = _error_message(page.json())
    except SourceError:  # CDN error pages are HTML
        message = None
    raise page.error(f"HTTP {page.status}: {message or page.body[:120].decode('utf-8', 'replace')}")


def fetch_market_caps(ctx: FetchContext, window: Window) -> Iterator[Page]:
    """One call per coin for the whole window: over 90 days CoinGecko answers with daily points
    stamped 00:00 UTC, below that with hourly points (which include 00:00)."""
    params = {"vs_currency": "usd", "order": "market_cap_desc", "per_page": TOP_N, "page": 1}
    listing = ctx.client.get("/coins/markets", params, window.context())
    yield listing
    first_close, last_close = (window.start_ms // 1000) + DAY_S, (window.end_ms + 1) // 1000
    for coin in require_list(listing, _body(listing), "coins/markets")[:TOP_N]:
        if not isinstance(coin, dict) or not isinstance(coin.get("id"), str) or not coin["id"]:
            continue
        query = {"vs_currency": "usd", "from": first_close - HOUR_S, "to": last_close + HOUR_S}
        symbol = coin.get("symbol")
        context = window.context(coin_id=coin["id"], symbol=symbol.upper() if isinstance(symbol, str) else "")
        yield ctx.client.get(f"/coins/{coin['id']}/market_chart/range", query, context)


def _points(page: Page, payload: dict[str, Any], name: str) -> dict[Any, Any]:
    """A series' [time, value] points by time; points of any other shape cannot be a day's close."""
    points = require_list(page, payload.get(name), name)
    return {p[0]: p[1] for p in points if isinstance(p, list) and len(p) == 2 and not isinstance(p[0], list | dict)}


def _close_time(ms: Any) -> datetime | None:
    """The moment of an epoch-ms point time; None for anything else (a boolean, out of range)."""
    try:
        return ms_to_datetime(ms) if isinstance(ms, int) else None
    except RowError:
        return None


def parse_market_caps(page: Page) -> Iterator[dict[str, Any]]:
    """One record per day of the window: the point at the next 00:00 UTC is that day's close."""
    if page.endpoint.endswith("/coins/markets"):
        return
    payload = _body(page)
    if not isinstance(payload, dict):
        raise page.error("expected an object with prices/market_caps/total_volumes")
    series = {name: _points(page, payload, name) for name in ("prices", "market_caps", "total_volumes")}
    by_close = {moment: ms for ms in series["market_caps"] if (moment := _close_time(ms)) is not None}
    for day in Window.from_context(page.context).days:
        close = datetime(day.year, day.month, day.day) + timedelta(days=1)
        ms = by_close.get(close)
        if ms is None:
            coin = page.context.get("coin_id")
            yield {"_day": day, "_reject": f"no market-cap point at {close.isoformat()} for {coin}"}
            continue
        yield {
            "_day": day,
            "coin_id": page.context["coin_id"],
            "symbol": page.context["symbol"],
            "observed_at": close,
            "market_cap_usd": series["market_caps"][ms],
            "price_usd": series["prices"].get(ms),
            "volume_usd": series["total_volumes"].get(ms),
        }


SOURCE = Source(
    name="coingecko",
    venues=(),
    default_base_url="https://api.coingecko.com/api/v3",
    min_interval_s=2.1,  # demo plan: design for 30 calls/min
    api_key_env="LEVSTRESS_COINGECKO_API_KEY",
    api_key_header="x-cg-demo-api-key",
    endpoints=(
        Endpoint(
            "coingecko",
            "market_caps",
            MARKET_CAPS,
            fetch_market_caps,
            parse_market_caps,
            "CoinGecko top-50 market caps at each day's close (market_chart/range).",
            look_back_days=365,
        ),
    ),
)
