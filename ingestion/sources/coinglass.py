"""CoinGlass API v4 (see shared/api-reference/coinglass.md): hourly long/short liquidation
history per exchange and coin. Needs ``LEVSTRESS_COINGLASS_API_KEY`` live (a paid key; hourly
history needs the Startup plan or higher, which serves about 180 days of it).

We call the coin endpoint ``/api/futures/liquidation/aggregated-history`` with a single exchange
in ``exchange_list``, once per (coin, exchange): it takes the coin (``BTC``) rather than an
exchange pair, so no pair names have to be guessed per venue, and it returns that exchange's
liquidations of the coin over all its pairs (USDT-, USDC- and coin-margined), which is wider than
the one USDT perpetual the venue sources read. Timestamps are UNIX milliseconds; the
``code`` of the envelope is a string and ``"0"`` is success.
"""

from __future__ import annotations

from collections.abc import Iterator
from typing import Any

from ingestion.http import Page, SourceError, http_error, shown
from ingestion.rows import ms_to_datetime
from ingestion.schemas import LIQUIDATION_BUCKETS
from ingestion.sources.base import Endpoint, FetchContext, Source, Window, iter_records, require_list, success_code

NAME = "coinglass"
API_KEY_HEADER = "CG-API-KEY"
PATH = "/api/futures/liquidation/aggregated-history"
INTERVAL, BUCKET_MINUTES = "1h", 60
LIMIT = 1000  # rows per request: the documented maximum (older doc copies say 4500; not relied on)
HOUR_MS = 3_600_000
# Exchange as CoinGlass spells it on the wire -> our exchange name.
EXCHANGES = {"Binance": "binance", "Bybit": "bybit", "OKX": "okx", "Hyperliquid": "hyperliquid"}


def _data(page: Page) -> list[Any]:
    """``data`` of a ``{"code": "0", "msg": "success", "data": [...]}`` envelope. A non-zero
    ``code`` is an error whatever the HTTP status (CoinGlass says to check both)."""
    ok = 200 <= page.status < 300
    try:
        payload = page.json()
    except SourceError:
        if ok:
            raise
        raise http_error(page) from None  # an error page without an envelope (proxy, CDN)
    if isinstance(payload, dict) and "code" in payload and not success_code(payload["code"]):
        status = "" if ok else f" (HTTP {page.status})"
        raise page.error(f"API error code {shown(payload['code'])}: {shown(payload.get('msg'))}{status}")
    if not ok:
        raise http_error(page)
    if not isinstance(payload, dict):
        raise page.error(f"expected a {{code, msg, data}} envelope, got {type(payload).__name__}")
    return require_list(page, payload.get("data"), "data")


def fetch_liquidations(ctx: FetchContext, window: Window) -> Iterator[Page]:
    """One request per (coin, exchange, span of at most ``LIMIT`` hours): each span asks for
    exactly the buckets it can hold, so no page is ever cut short by ``limit`` and no
    assumption is needed about which end of an over-long range the API would keep."""
    if API_KEY_HEADER not in ctx.client.session.headers:
        raise SourceError(NAME, f"GET {PATH}", {}, f"no API key: set {SOURCE.api_key_env} (Startup plan or up for 1h)")
    for asset in ctx.assets:
        for wire_name, exchange in EXCHANGES.items():
            start = window.start_ms
            while start <= window.end_ms:
                end = min(start + LIMIT * HOUR_MS - 1, window.end_ms)
                params = {
                    "exchange_list": wire_name,
                    "symbol": asset,
                    "interval": INTERVAL,
                    "start_time": start,
                    "end_time": end,
                    "limit": LIMIT,
                }
                page = ctx.client.get(PATH, params, window.context(exchange=exchange, asset=asset))
                yield page
                _data(page)  # stop at the first error instead of asking for every other span
                start = end + 1


def parse_liquidations(page: Page) -> Iterator[dict[str, Any]]:
    exchange, asset = page.context.get("exchange"), page.context.get("asset")
    return iter_records(
        page,
        _data(page),
        lambda r: {
            "exchange": exchange,
            "asset": asset,
            "symbol": asset,  # the coin over all of the exchange's pairs
            "bucket_start": ms_to_datetime(r["time"]),
            "bucket_minutes": BUCKET_MINUTES,
            "long_usd": r["aggregated_long_liquidation_usd"],  # long positions liquidated
            "short_usd": r["aggregated_short_liquidation_usd"],
        },
    )


SOURCE = Source(
    name=NAME,
    venues=(),  # staged only
    default_base_url="https://open-api-v4.coinglass.com",
    min_interval_s=1.0,  # 60/min: below the Startup plan's 80/min, the least plan that serves 1h
    api_key_env="LEVSTRESS_COINGLASS_API_KEY",
    api_key_header=API_KEY_HEADER,
    demo_api_key="demo",
    key_required=True,  # live runs without the key skip this source instead of calling it
    endpoints=(
        Endpoint(
            NAME,
            "liquidations",
            LIQUIDATION_BUCKETS,
            fetch_liquidations,
            parse_liquidations,
            "CoinGlass GET /api/futures/liquidation/aggregated-history, hourly USD per exchange and coin "
            "(all of the exchange's pairs of the coin).",
            look_back_days=180,  # Startup plan, 1h interval (unverified plan table)
            in_marts=False,
        ),
    ),
)
