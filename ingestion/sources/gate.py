"""Gate futures v4, USDT perpetuals (see shared/api-reference/gate.md): historical long/short
liquidations and open interest from ``contract_stats``, settled funding and hourly candles.

Times are UNIX seconds. Sizes are in contracts: coins = contracts x ``quanto_multiplier``, read
(with ``funding_interval``) from ``GET /futures/usdt/contracts/{contract}`` on every fetch and kept
in the page context, so a replay needs no network. Errors are HTTP 4xx with a
``{"label", "message"}`` body.
"""

from __future__ import annotations

from collections.abc import Callable, Iterator
from typing import Any

import pyarrow as pa

from ingestion.http import Page, SourceError, http_error, shown
from ingestion.rows import (
    BulkUnfit,
    RowError,
    bulk_constants,
    bulk_numbers,
    bulk_required,
    bulk_s_timestamps,
    floor_hour,
    s_to_datetime,
    to_float,
)
from ingestion.schemas import CANDLES, FUNDING_RATES, LIQUIDATION_BUCKETS, LONG_SHORT_RATIOS, OPEN_INTEREST
from ingestion.sources.base import (
    Absent,
    Endpoint,
    Fetch,
    FetchContext,
    Source,
    Window,
    in_flight,
    iter_records,
    page_cursor,
    require_list,
)

EXCHANGE = "gate"
PREFIX = "/futures/usdt"
INTERVAL_S = {"5m": 300, "1h": 3600}
BUCKET = "5m"  # liquidations: the finest contract_stats buckets
HOURLY = "1h"  # open interest: one observation per hour, like the other venues
ASSETS_IN_FLIGHT = 5  # the client's spacing (min_interval_s) still caps the rate across them
STATS_LIMIT = 100  # rows per contract_stats call (the cap is unverified; paging does not rely on it)
FUNDING_LIMIT = 1000  # documented maximum
MAX_CANDLES = 2000  # points one candlesticks call may span with from + to
Pages = Callable[[FetchContext, Window, str, dict[str, Any]], Iterator[Page]]


def contract(asset: str) -> str:
    return f"{asset}_USDT"


def asset_of(name: str) -> str:
    return name.removesuffix("_USDT")


def _body(page: Page) -> Any:
    """Body as JSON; a SourceError for an HTTP error, quoting Gate's ``label`` and ``message``."""
    if 200 <= page.status < 300:
        return page.json()
    try:
        payload = page.json()
    except SourceError:
        raise http_error(page) from None  # an error page without a label (proxy, CDN)
    if isinstance(payload, dict) and "label" in payload:
        raise page.error(f"HTTP {page.status} {shown(payload['label'])}: {shown(payload.get('message'))}")
    raise http_error(page)


def _rows(page: Page) -> list[Any]:
    return require_list(page, _body(page), "response")


def _seconds(window: Window) -> tuple[int, int]:
    """[start, end] of the window in UNIX seconds, end inclusive."""
    return window.start_ms // 1000, window.end_ms // 1000


# --- fetching ---------------------------------------------------------------------------------


def _contract_value(ctx: FetchContext, window: Window, asset: str, key: str) -> tuple[Page, float]:
    """The contract's ``key`` (a positive number); a SourceError naming the page if it has none,
    since no row of the asset could be converted without it."""
    name = contract(asset)
    page = ctx.client.get(f"{PREFIX}/contracts/{name}", {}, window.context(asset=asset))
    info = _body(page)
    if not isinstance(info, dict):
        raise page.error(f"expected the contract as an object, got {type(info).__name__}")
    try:
        value = to_float(info.get(key))
    except RowError:
        value = None
    if value is None or value <= 0:
        raise page.error(f"no usable {key} for {name}: {shown(info.get(key))}")
    return page, value


def _with_contract(key: str, pages: Pages) -> Fetch:
    """Per asset: the contract page (archived, skipped by the parsers), then ``pages`` with the
    contract's ``key`` in their context."""

    def fetch(ctx: FetchContext, window: Window) -> Iterator[Page]:
        for asset in ctx.assets:
            page, value = _contract_value(ctx, window, asset, key)
            yield page
            yield from pages(ctx, window, asset, window.context(asset=asset, **{key: value}))

    return fetch


def _stats_pages(interval: str) -> Pages:
    """contract_stats forwards from the window's start: ``from`` = the last row's time + one
    interval, until past the window's end or an empty page (nothing newer yet). Each call asks for
    at most the buckets left in the window, and a short page does not end the walk, so a lower
    server-side cap costs calls, not rows."""
    step = INTERVAL_S[interval]

    def pages(ctx: FetchContext, window: Window, asset: str, context: dict[str, Any]) -> Iterator[Page]:
        cursor, end = _seconds(window)
        while cursor <= end:
            limit = min(STATS_LIMIT, (end - cursor) // step + 1)
            params = {"contract": contract(asset), "interval": interval, "from": cursor, "limit": limit}
            page = ctx.client.get(f"{PREFIX}/contract_stats", params, context)
            yield page
            rows = _rows(page)
            if not rows:
                break
            cursor = page_cursor(page, rows, lambda r: r[-1]["time"], after=cursor - 1) + step

    return pages


def _stats_pages_of_window(interval: str) -> Fetch:
    """Each asset's walk in a thread of its own: a year of 5-minute buckets is ~1,100 calls per
    contract, each following the one before."""
    walk = _stats_pages(interval)

    def fetch(ctx: FetchContext, window: Window) -> Iterator[Page | Absent]:
        return in_flight(
            ctx.assets, lambda asset: walk(ctx, window, asset, window.context(asset=asset)), ASSETS_IN_FLIGHT, "gate"
        )

    return fetch


fetch_liquidations = _stats_pages_of_window(BUCKET)


def _funding_pages(ctx: FetchContext, window: Window, asset: str, context: dict[str, Any]) -> Iterator[Page]:
    """Newest first, at most ``FUNDING_LIMIT`` per call: a full page continues before its oldest row."""
    start, end = _seconds(window)
    while True:
        params = {"contract": contract(asset), "from": start, "to": end, "limit": FUNDING_LIMIT}
        page = ctx.client.get(f"{PREFIX}/funding_rate", params, context)
        yield page
        rows = _rows(page)
        if len(rows) < FUNDING_LIMIT:
            break
        end = page_cursor(page, rows, lambda rs: min(int(r["t"]) for r in rs), before=end + 1) - 1


def _candle_pages(ctx: FetchContext, window: Window, asset: str, context: dict[str, Any]) -> Iterator[Page]:
    """Hourly candles over ``from``..``to`` (both inclusive, no ``limit``), in spans of at most
    ``MAX_CANDLES`` points: Gate refuses a longer range instead of cutting it."""
    start, end = _seconds(window)
    span = MAX_CANDLES * INTERVAL_S[HOURLY]
    for lo in range(start, end + 1, span):
        params = {"contract": contract(asset), "interval": HOURLY, "from": lo, "to": min(lo + span - 1, end)}
        yield ctx.client.get(f"{PREFIX}/candlesticks", params, context)


# --- parsing ----------------------------------------------------------------------------------


def _market(page: Page) -> dict[str, Any]:
    name = page.params["contract"]
    return {"exchange": EXCHANGE, "asset": asset_of(name), "symbol": name}


def _records(page: Page, build: Callable[[Any], dict[str, Any]]) -> Iterator[dict[str, Any]]:
    """The rows of a data page as records of its contract; none for a contract page (its values
    are already in the context of the pages after it)."""
    if page.endpoint.startswith(f"GET {PREFIX}/contracts/"):
        return iter(())
    market = _market(page)
    return iter_records(page, _rows(page), lambda r: {**market, **build(r)})


def _known(page: Page, key: str) -> float:
    """The contract's ``key`` from the page context (without it the row is rejected, saying so)."""
    value = to_float(page.context.get(key))
    if value is None or value <= 0:
        raise ValueError(f"no usable {key} known for {page.params.get('contract')}")
    return value


def _coins(page: Page, contracts: Any) -> float | None:
    size = to_float(contracts)
    return None if size is None else size * _known(page, "quanto_multiplier")


def parse_liquidations(page: Page) -> Iterator[dict[str, Any]]:
    return _records(
        page,
        lambda r: {
            "bucket_start": s_to_datetime(r["time"]),
            "bucket_minutes": INTERVAL_S[BUCKET] // 60,
            "long_usd": r["long_liq_usd"],  # long positions liquidated
            "short_usd": r["short_liq_usd"],
        },
    )


def liquidation_columns(page: Page) -> pa.Table:
    """``parse_liquidations`` for a whole page of well-formed buckets at once (a year of 5-minute
    buckets is ~100,000 rows per contract)."""
    rows = _rows(page)
    if not all(isinstance(row, dict) for row in rows):
        raise BulkUnfit("a row is not an object")
    table = pa.Table.from_pylist(rows)
    missing = {"time", "long_liq_usd", "short_liq_usd"} - set(table.column_names)
    if missing:
        raise BulkUnfit(f"no {', '.join(sorted(missing))} in some row")
    name, count = page.params["contract"], table.num_rows
    return bulk_required(
        {
            **bulk_constants(count, exchange=EXCHANGE, asset=asset_of(name), symbol=name),
            "bucket_start": bulk_s_timestamps(table["time"]),
            **bulk_constants(count, bucket_minutes=pa.scalar(INTERVAL_S[BUCKET] // 60, pa.int32())),
            "long_usd": bulk_numbers(table["long_liq_usd"]),
            "short_usd": bulk_numbers(table["short_liq_usd"]),
        }
    )


def parse_open_interest(page: Page) -> Iterator[dict[str, Any]]:
    return _records(
        page,
        lambda r: {
            "observed_at": s_to_datetime(r["time"]),
            "open_interest_coins": _coins(page, r["open_interest"]),  # open_interest is in contracts
            "open_interest_usd": r["open_interest_usd"],
        },
    )


def parse_ratios(page: Page) -> Iterator[dict[str, Any]]:
    return _records(
        page,
        lambda r: {
            "observed_at": s_to_datetime(r["time"]),
            "account_ratio": r["lsr_account"],
            "top_account_ratio": r["top_lsr_account"],
            "top_position_ratio": r["top_lsr_size"],
            "taker_buy_sell_ratio": r["lsr_taker"],
        },
    )


def parse_funding(page: Page) -> Iterator[dict[str, Any]]:
    return _records(
        page,
        lambda r: {
            "funding_time": floor_hour(s_to_datetime(r["t"])),
            "funding_rate": r["r"],  # per funding interval
            "interval_hours": _known(page, "funding_interval") / 3600,
        },
    )


def parse_klines(page: Page) -> Iterator[dict[str, Any]]:
    return _records(
        page,
        lambda r: {
            "open_time": s_to_datetime(r["t"]),
            "interval_minutes": INTERVAL_S[HOURLY] // 60,
            "open": r["o"],
            "high": r["h"],
            "low": r["l"],
            "close": r["c"],
            "volume_coins": _coins(page, r["v"]),  # v is in contracts
        },
    )


SOURCE = Source(
    name=EXCHANGE,
    default_base_url="https://api.gateio.ws/api/v4",
    min_interval_s=0.1,  # about 200 requests / 10 s per public futures endpoint: stay at half of it
    endpoints=(
        Endpoint(
            EXCHANGE,
            "liquidations",
            LIQUIDATION_BUCKETS,
            fetch_liquidations,
            parse_liquidations,
            "Gate GET /futures/usdt/contract_stats, 5-minute long/short liquidations in USDT.",
            parse_columns=liquidation_columns,
            coverage="estimate",
        ),
        Endpoint(
            EXCHANGE,
            "open_interest",
            OPEN_INTEREST,
            _with_contract("quanto_multiplier", _stats_pages(HOURLY)),
            parse_open_interest,
            "Gate GET /futures/usdt/contract_stats (1h), open interest in USDT and in coins (x quanto_multiplier).",
            coverage="complete",
        ),
        Endpoint(
            EXCHANGE,
            "long_short_ratios",
            LONG_SHORT_RATIOS,
            _stats_pages_of_window(HOURLY),
            parse_ratios,
            "Gate GET /futures/usdt/contract_stats (1h): lsr_account, top_lsr_account, top_lsr_size (top traders' "
            "position ratio) and lsr_taker.",
        ),
        Endpoint(
            EXCHANGE,
            "funding",
            FUNDING_RATES,
            _with_contract("funding_interval", _funding_pages),
            parse_funding,
            "Gate GET /futures/usdt/funding_rate settled funding; interval from the contract.",
            coverage="complete",
        ),
        Endpoint(
            EXCHANGE,
            "klines",
            CANDLES,
            _with_contract("quanto_multiplier", _candle_pages),
            parse_klines,
            "Gate GET /futures/usdt/candlesticks, hourly candles (volume x quanto_multiplier).",
            coverage="complete",
        ),
    ),
)
