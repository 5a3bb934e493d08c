"""Coinalyze (see shared/api-reference/coinalyze.md): hourly long/short liquidation and
open-interest history per market, the aggregate source for venues without public history
(Hyperliquid), and the catch-up source for the days a venue's own liquidation tape has a hole
(the collector was down): its figure for the day replaces the partial tape. Needs
``LEVSTRESS_COINALYZE_API_KEY`` live; timestamps are UNIX seconds.
"""

from __future__ import annotations

from collections.abc import Iterator
from typing import Any

from ingestion.http import Page
from ingestion.rows import s_to_datetime
from ingestion.schemas import LIQUIDATION_BUCKETS, OPEN_INTEREST
from ingestion.sources.base import (
    Endpoint,
    FetchContext,
    Source,
    Window,
    iter_records,
    json_ok,
    rejected,
    require_list,
)

# Venues whose liquidations and open interest we take from Coinalyze: those with no public
# history of their own. Code -> our exchange name.
EXCHANGES = {"H": "hyperliquid"}
# Venues whose liquidation gaps Coinalyze can fill (their own tape is the primary source).
FILL_EXCHANGES = {"A": "binance", "6": "bybit", "3": "okx"}
MAX_SYMBOLS = 20
LOOK_BACK_DAYS = 60  # intraday history keeps ~2,000 points per symbol: 83 days of hours, with margin


def _markets(ctx: FetchContext, window: Window, codes: dict[str, str]) -> tuple[Page, dict[str, dict[str, str]]]:
    page = ctx.client.get("/future-markets", {}, window.context())
    markets = {}
    for market in require_list(page, json_ok(page), "future-markets"):
        if (
            isinstance(market, dict)
            and all(isinstance(market.get(key), str) for key in ("symbol", "exchange", "base_asset"))
            and market["exchange"] in codes
            and market.get("is_perpetual")
            and market["base_asset"] in ctx.assets
        ):
            markets[market["symbol"]] = {"exchange": codes[market["exchange"]], "asset": market["base_asset"]}
    return page, markets


def _history_pages(ctx: FetchContext, window: Window, path: str, markets: dict[str, dict[str, str]]) -> Iterator[Page]:
    symbols = sorted(markets)
    for i in range(0, len(symbols), MAX_SYMBOLS):
        batch = symbols[i : i + MAX_SYMBOLS]
        params = {
            "symbols": ",".join(batch),
            "interval": "1hour",
            "from": window.start_ms // 1000,
            "to": window.end_ms // 1000,
            "convert_to_usd": "true",
        }
        yield ctx.client.get(path, params, window.context(markets={s: markets[s] for s in batch}))


def _history(ctx: FetchContext, window: Window, path: str) -> Iterator[Page]:
    markets_page, markets = _markets(ctx, window, EXCHANGES)
    yield markets_page
    yield from _history_pages(ctx, window, path, markets)


def _fills(ctx: FetchContext, window: Window) -> Iterator[Page]:
    """For each day with a fill request, the hourly liquidations of the requested venues' markets."""
    wanted = {day: ctx.fill[day] for day in window.days if ctx.fill.get(day)}
    if not wanted:
        return
    markets_page, markets = _markets(ctx, window, FILL_EXCHANGES)
    yield markets_page
    for day, exchanges in sorted(wanted.items()):
        chosen = {symbol: market for symbol, market in markets.items() if market["exchange"] in exchanges}
        yield from _history_pages(ctx, Window(day, day), "/liquidation-history", chosen)


def _series(page: Page) -> Iterator[tuple[dict[str, str], Any]]:
    if page.endpoint.endswith("/future-markets"):
        return
    markets = page.context.get("markets", {})
    for series in require_list(page, json_ok(page), "response"):
        symbol = series.get("symbol") if isinstance(series, dict) else None
        market = markets.get(symbol) if isinstance(symbol, str) else None
        if market is None:
            yield rejected("series for a symbol that was not requested", series), None
            continue
        for point in require_list(page, series.get("history"), "history"):
            yield {**market, "symbol": series["symbol"]}, point


def _flatten(page: Page) -> Iterator[Any]:
    for market, point in _series(page):
        yield market if point is None else (market, point)


def parse_liquidations(page: Page) -> Iterator[dict[str, Any]]:
    return iter_records(
        page,
        _flatten(page),
        lambda mp: {
            **mp[0],
            "bucket_start": s_to_datetime(mp[1]["t"]),
            "bucket_minutes": 60,
            "long_usd": mp[1]["l"],
            "short_usd": mp[1]["s"],
        },
    )


def parse_open_interest(page: Page) -> Iterator[dict[str, Any]]:
    return iter_records(
        page,
        _flatten(page),
        lambda mp: {
            **mp[0],
            "observed_at": s_to_datetime(mp[1]["t"]),
            "open_interest_coins": None,
            "open_interest_usd": mp[1]["c"],  # close of the hour's OI candle, in USD
        },
    )


SOURCE = Source(
    name="coinalyze",
    venues=(*EXCHANGES.values(), *FILL_EXCHANGES.values()),
    default_base_url="https://api.coinalyze.net/v1",
    min_interval_s=2.0,  # 40 calls/min per key, each symbol counts: batches stay under it
    api_key_env="LEVSTRESS_COINALYZE_API_KEY",
    api_key_header="api_key",
    demo_api_key="demo",
    key_required=True,
    endpoints=(
        Endpoint(
            "coinalyze",
            "liquidations",
            LIQUIDATION_BUCKETS,
            lambda ctx, window: _history(ctx, window, "/liquidation-history"),
            parse_liquidations,
            "Coinalyze GET /liquidation-history, hourly USD, for venues without public history.",
            look_back_days=LOOK_BACK_DAYS,
            coverage="estimate",
            sparse=True,
            venues=tuple(EXCHANGES.values()),
        ),
        Endpoint(
            "coinalyze",
            "open_interest",
            OPEN_INTEREST,
            lambda ctx, window: _history(ctx, window, "/open-interest-history"),
            parse_open_interest,
            "Coinalyze GET /open-interest-history, hourly USD.",
            look_back_days=LOOK_BACK_DAYS,
            coverage="estimate",
            venues=tuple(EXCHANGES.values()),
        ),
        Endpoint(
            "coinalyze",
            "liquidation_fills",
            LIQUIDATION_BUCKETS,
            _fills,
            parse_liquidations,
            "Coinalyze GET /liquidation-history, hourly USD, for the days a venue's own tape is partial (catch-up): "
            "fetched only for the exchange-days the catch-up asks for.",
            look_back_days=LOOK_BACK_DAYS,
            fills="liquidations",
            fill_exchanges=frozenset(FILL_EXCHANGES.values()),
            coverage="estimate",
            sparse=True,
        ),
    ),
)
