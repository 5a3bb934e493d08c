"""OKX v5 (see shared/api-reference/okx.md).

Lists are newest first and paged backwards with ``after`` (``end`` on the rubik endpoints).
Liquidation sizes are in contracts: coins = sz x ctVal x ctMult, with ctVal read from the
instruments endpoint on every fetch (kept in the page context so a replay needs no network).
"""

from __future__ import annotations

import contextlib
from collections.abc import Callable, Iterator
from typing import Any

from ingestion.http import Page, shown
from ingestion.rows import RowError, floor_hour, ms_to_datetime, to_float
from ingestion.schemas import FUNDING_RATES, LIQUIDATION_EVENTS, LONG_SHORT_RATIOS, OPEN_INTEREST
from ingestion.sources.base import (
    Endpoint,
    Fetch,
    FetchContext,
    Parse,
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
    if not success_code(payload.get("code")):
        raise page.error(f"API error code={shown(payload.get('code'))}: {shown(payload.get('msg'))}")
    return require_list(page, payload.get("data"), "data")


def _page_backwards(
    ctx: FetchContext,
    window: Window,
    path: str,
    params: dict[str, Any],
    cursor_key: str,
    rows: Callable[[Page], list[Any]],
    stamp: Callable[[Any], Any],
    context: dict[str, Any],
) -> Iterator[Page]:
    """Walk from the end of the window backwards until a page is short, empty or reaches the day
    before. A row without a usable time does not stop the walk (the parser rejects it)."""
    start, end = window.start_ms, window.end_ms
    cursor = end + 1
    while True:
        page = ctx.client.get(path, {**params, cursor_key: str(cursor), "limit": str(LIMIT)}, context)
        yield page
        found = rows(page)
        stamps = _stamps(found, stamp)
        if not stamps or min(stamps) < start or len(found) < LIMIT:
            break
        cursor = page_cursor(page, stamps, min, before=cursor)


def _stamps(rows: list[Any], stamp: Callable[[Any], Any]) -> list[int]:
    stamps = []
    for row in rows:
        with contextlib.suppress(KeyError, IndexError, TypeError, AttributeError, ValueError):
            stamps.append(int(stamp(row)))
    return stamps


def _contract_values(page: Page) -> dict[str, str]:
    values = {}
    for inst in _data(page):
        if isinstance(inst, dict) and isinstance(inst.get("instId"), str) and inst.get("ctVal"):
            with contextlib.suppress(RowError):  # no usable contract value: its liquidations are rejected
                values[inst["instId"]] = str((to_float(inst["ctVal"]) or 0.0) * (to_float(inst.get("ctMult")) or 1.0))
    return values


def _details(page: Page) -> Iterator[Any]:
    """(item, detail) pairs of a liquidation-orders page; an item that is not an object, or whose
    details are not a list, is one reject."""
    for item in _data(page):
        details = item.get("details") if isinstance(item, dict) else None
        if isinstance(details, list):
            yield from ((item, detail) for detail in details)
        elif not isinstance(item, dict) or details:
            yield rejected("liquidation item without a list of details", item)


def _detail_rows(page: Page) -> list[Any]:
    return [pair for pair in _details(page) if not isinstance(pair, Rejected)]


def fetch_liquidations(ctx: FetchContext, window: Window) -> Iterator[Page]:
    instruments = ctx.client.get("/api/v5/public/instruments", {"instType": "SWAP"}, window.context())
    yield instruments  # archived even when it turns out to be an error
    contract_values = _contract_values(instruments)
    for asset in ctx.assets:
        params = {"instType": "SWAP", "instFamily": f"{asset}-USDT", "state": "filled"}
        context = window.context(asset=asset, ct_val=contract_values)
        path = "/api/v5/public/liquidation-orders"
        yield from _page_backwards(
            ctx, window, path, params, "after", _detail_rows, lambda pair: pair[1]["ts"], context
        )


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
    records = iter_records(page, _details(page), lambda pair: _liquidation(pair[0], pair[1], ct_val))
    return _in_window(page, records, "event_time")


def fetch_funding(ctx: FetchContext, window: Window) -> Iterator[Page]:
    for asset in ctx.assets:
        yield from _page_backwards(
            ctx,
            window,
            "/api/v5/public/funding-rate-history",
            {"instId": inst_id(asset)},
            "after",
            _data,
            lambda r: r["fundingTime"],
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


def rubik_fetch(path: str, **extra: str) -> Fetch:
    """A per-instrument trading-statistics series (``/api/v5/rubik/stat/<path>``), hourly, paged
    backwards with ``end``; rows are arrays with the time first."""

    def fetch(ctx: FetchContext, window: Window) -> Iterator[Page]:
        for asset in ctx.assets:
            yield from _page_backwards(
                ctx,
                window,
                f"/api/v5/rubik/stat/{path}",
                {"instId": inst_id(asset), "period": "1H", **extra},
                "end",
                _data,
                lambda r: r[0],
                window.context(asset=asset),
            )

    return fetch


def rubik_parse(measures: Callable[[list[Any]], dict[str, Any]]) -> Callable[[Page], Iterator[dict[str, Any]]]:
    """Rows of a per-instrument rubik series (``[ts, ...]``, the instrument named by the request):
    ``measures`` reads the values after the time."""

    def parse(page: Page) -> Iterator[dict[str, Any]]:
        inst = page.params["instId"]
        market = {"exchange": EXCHANGE, "asset": asset_of(inst), "symbol": inst}
        records = iter_records(
            page, _data(page), lambda r: {**market, "observed_at": ms_to_datetime(r[0]), **measures(r)}
        )
        return _in_window(page, records, "observed_at")

    return parse


def _taker_ratio(row: list[Any]) -> dict[str, Any]:
    """``[ts, sellVol, buyVol]`` (sell first): buy / sell. A period without taker sells has no
    ratio; that row is rejected with the reason, not read as infinite."""
    sell, buy = float(row[1]), float(row[2])
    if not sell > 0:
        raise ValueError(f"sellVol {row[1]!r}: no buy/sell ratio without taker sells")
    return {"taker_buy_sell_ratio": buy / sell}


parse_open_interest = rubik_parse(lambda r: {"open_interest_coins": r[2], "open_interest_usd": r[3]})
RATIO_LOOK_BACK_DAYS = 59  # assumed like open-interest-history's 1,440 hourly rows; unverified here


def _positioning(name: str, path: str, parse: Parse, description: str, **extra: str) -> Endpoint:
    """A per-contract rubik series feeding one measure of long_short_ratios."""
    return Endpoint(
        EXCHANGE,
        name,
        LONG_SHORT_RATIOS,
        rubik_fetch(path, **extra),
        parse,
        f"OKX GET /api/v5/rubik/stat/{path} {description} in long_short_ratios.",
        look_back_days=RATIO_LOOK_BACK_DAYS,
    )


def _ratio(measure: str, path: str, what: str) -> Endpoint:
    """A ``[ts, ratio]`` series, stored as ``measure`` (also the endpoint's name)."""
    return _positioning(
        measure, path, rubik_parse(lambda r: {measure: r[1]}), f"(1H, `[ts, ratio]`): {what}, {measure}"
    )


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
            coverage="throttled",
        ),
        Endpoint(
            EXCHANGE,
            "funding",
            FUNDING_RATES,
            fetch_funding,
            parse_funding,
            "OKX GET /api/v5/public/funding-rate-history settled funding.",
            look_back_days=90,
            coverage="complete",
        ),
        Endpoint(
            EXCHANGE,
            "open_interest",
            OPEN_INTEREST,
            rubik_fetch("contracts/open-interest-history"),
            parse_open_interest,
            "OKX GET /api/v5/rubik/stat/contracts/open-interest-history, hourly.",
            look_back_days=60,
            coverage="complete",
        ),
        _ratio("account_ratio", "contracts/long-short-account-ratio-contract", "accounts long / short of one contract"),
        _ratio(
            "top_account_ratio",
            "contracts/long-short-account-ratio-contract-top-trader",
            "top traders' accounts long / short",
        ),
        _ratio(
            "top_position_ratio",
            "contracts/long-short-position-ratio-contract-top-trader",
            "top traders' long / short position size",
        ),
        _positioning(
            "taker_volume",
            "taker-volume-contract",
            rubik_parse(_taker_ratio),
            "(1H, USD, `[ts, sellVol, buyVol]`): taker_buy_sell_ratio = buyVol / sellVol",
            unit="2",
        ),
    ),
)
