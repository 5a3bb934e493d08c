"""OKX v5 (see shared/api-reference/okx.md).

Lists are newest first and paged backwards with ``after`` (``end`` on the rubik endpoints).
Liquidation sizes are in contracts: coins = sz x ctVal x ctMult, with ctVal read from the
instruments endpoint on every fetch (kept in the page context so a replay needs no network).
"""

from __future__ import annotations

from collections.abc import Callable, Iterator
from typing import Any

from ingestion.http import Page
from ingestion.rows import floor_hour, ms_to_datetime, to_float
from ingestion.schemas import FUNDING_RATES, LIQUIDATION_EVENTS, OPEN_INTEREST
from ingestion.sources.base import Endpoint, FetchContext, Source, Window, iter_records, json_ok, require_list

EXCHANGE = "okx"
LIMIT = 100


def inst_id(asset: str) -> str:
    return f"{asset}-USDT-SWAP"


def asset_of(inst: str) -> str:
    return inst.split("-")[0]


def _data(page: Page) -> list[Any]:
    payload = json_ok(page)
    if not isinstance(payload, dict):
        raise page.error(f"expected an envelope object, got {type(payload).__name__}")
    if str(payload.get("code")) != "0":
        raise page.error(f"API error code={payload.get('code')}: {payload.get('msg')}")
    return require_list(page, payload.get("data"), "data")


def _page_backwards(
    ctx: FetchContext,
    window: Window,
    path: str,
    params: dict[str, Any],
    cursor_key: str,
    timestamps: Callable[[Page], list[int]],
    context: dict[str, Any],
) -> Iterator[Page]:
    """Walk from the end of the window backwards until a page is empty or reaches the day before."""
    start, end = window.start_ms, window.end_ms
    cursor = end + 1
    while True:
        page = ctx.client.get(path, {**params, cursor_key: str(cursor), "limit": str(LIMIT)}, context)
        yield page
        stamps = timestamps(page)
        if not stamps or min(stamps) < start or len(stamps) < LIMIT:
            break
        cursor = min(stamps)


def _contract_values(ctx: FetchContext, window: Window) -> tuple[Page, dict[str, str]]:
    page = ctx.client.get("/api/v5/public/instruments", {"instType": "SWAP"}, window.context())
    values = {}
    for inst in _data(page):
        if isinstance(inst, dict) and inst.get("instId") and inst.get("ctVal"):
            mult = to_float(inst.get("ctMult")) or 1.0
            values[inst["instId"]] = str((to_float(inst["ctVal"]) or 0.0) * mult)
    return page, values


def _detail_stamps(page: Page) -> list[int]:
    return [int(d["ts"]) for item in _data(page) for d in item.get("details") or []]


def fetch_liquidations(ctx: FetchContext, window: Window) -> Iterator[Page]:
    instruments, contract_values = _contract_values(ctx, window)
    yield instruments
    for asset in ctx.assets:
        params = {"instType": "SWAP", "instFamily": f"{asset}-USDT", "state": "filled"}
        context = window.context(asset=asset, ct_val=contract_values)
        path = "/api/v5/public/liquidation-orders"
        yield from _page_backwards(ctx, window, path, params, "after", _detail_stamps, context)


def _liquidation(item: dict[str, Any], detail: dict[str, Any], ct_val: dict[str, str]) -> dict[str, Any]:
    inst = item["instId"]
    if inst not in ct_val:
        raise ValueError(f"no contract value known for {inst}")
    price = to_float(detail["bkPx"])
    coins = None if to_float(detail["sz"]) is None else to_float(detail["sz"]) * float(ct_val[inst])
    side = {"sell": "long", "buy": "short"}.get(detail["side"], detail["side"])
    if detail.get("posSide") in ("long", "short") and detail["posSide"] != side:
        raise ValueError(f"posSide {detail['posSide']} contradicts order side {detail['side']}")
    return {
        "exchange": EXCHANGE,
        "asset": asset_of(inst),
        "symbol": inst,
        "event_time": ms_to_datetime(detail["ts"]),
        "side": side,
        "price": detail["bkPx"],
        "quantity": coins,
        "usd_value": None if price is None or coins is None else price * coins,
    }


def parse_liquidations(page: Page) -> Iterator[dict[str, Any]]:
    if page.endpoint.endswith("/instruments"):
        return iter([])
    ct_val = page.context.get("ct_val", {})
    pairs = [(item, d) for item in _data(page) for d in (item.get("details") or [])]
    records = iter_records(page, pairs, lambda pair: _liquidation(pair[0], pair[1], ct_val))
    return _in_window(page, records, "event_time")


def fetch_funding(ctx: FetchContext, window: Window) -> Iterator[Page]:
    for asset in ctx.assets:
        yield from _page_backwards(
            ctx,
            window,
            "/api/v5/public/funding-rate-history",
            {"instId": inst_id(asset)},
            "after",
            lambda p: [int(r["fundingTime"]) for r in _data(p)],
            window.context(asset=asset),
        )


def _funding(r: dict[str, Any]) -> dict[str, Any]:
    realized = r.get("realizedRate")
    return {
        "exchange": EXCHANGE,
        "asset": asset_of(r["instId"]),
        "symbol": r["instId"],
        "funding_time": floor_hour(ms_to_datetime(r["fundingTime"])),
        "funding_rate": realized if realized not in (None, "") else r["fundingRate"],
        "interval_hours": 8.0,
    }


def _in_window(page: Page, records: Iterator[dict[str, Any]], key: str) -> Iterator[dict[str, Any]]:
    """The last page walking backwards reaches into the day before the window: those rows belong
    to that day's own run."""
    first = Window.from_context(page.context).first
    return (r for r in records if "_reject" in r or r[key] is None or r[key].date() >= first)


def parse_funding(page: Page) -> Iterator[dict[str, Any]]:
    return _in_window(page, iter_records(page, _data(page), _funding), "funding_time")


def fetch_open_interest(ctx: FetchContext, window: Window) -> Iterator[Page]:
    for asset in ctx.assets:
        yield from _page_backwards(
            ctx,
            window,
            "/api/v5/rubik/stat/contracts/open-interest-history",
            {"instId": inst_id(asset), "period": "1H"},
            "end",
            lambda p: [int(r[0]) for r in _data(p)],
            window.context(asset=asset),
        )


def parse_open_interest(page: Page) -> Iterator[dict[str, Any]]:
    inst = page.params["instId"]
    records = iter_records(
        page,
        _data(page),
        lambda r: {
            "exchange": EXCHANGE,
            "asset": asset_of(inst),
            "symbol": inst,
            "observed_at": ms_to_datetime(r[0]),
            "open_interest_coins": r[2],
            "open_interest_usd": r[3],
        },
    )
    return _in_window(page, records, "observed_at")


SOURCE = Source(
    name=EXCHANGE,
    default_base_url="https://www.okx.com",
    min_interval_s=0.25,  # the tightest endpoint allows 10 requests / 2 s per instrument
    endpoints=(
        Endpoint(
            EXCHANGE,
            "liquidations",
            LIQUIDATION_EVENTS,
            fetch_liquidations,
            parse_liquidations,
            "OKX GET /api/v5/public/liquidation-orders (sampled, recent days only).",
            look_back_days=1,
        ),
        Endpoint(
            EXCHANGE,
            "funding",
            FUNDING_RATES,
            fetch_funding,
            parse_funding,
            "OKX GET /api/v5/public/funding-rate-history settled funding.",
            look_back_days=90,
        ),
        Endpoint(
            EXCHANGE,
            "open_interest",
            OPEN_INTEREST,
            fetch_open_interest,
            parse_open_interest,
            "OKX GET /api/v5/rubik/stat/contracts/open-interest-history, hourly.",
            look_back_days=60,
        ),
    ),
)
