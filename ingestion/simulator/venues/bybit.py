"""Bybit v5 market REST (api.bybit.com): funding history, open interest, klines, instruments."""

from __future__ import annotations

import re
from urllib.parse import unquote

import numpy as np

from ingestion.simulator.bars import aligned, bars, candle_opens
from ingestion.simulator.catalog import ASSET_INDEX, ASSETS, EXCHANGE_INDEX, SPECS, asset_from_symbol, binance_symbol
from ingestion.simulator.market import FUNDING_HOURS
from ingestion.simulator.timegrid import MINUTE_MS, ORIGIN_MS
from ingestion.simulator.venues.base import SimContext, VenueApp, first_int, newest_first
from ingestion.simulator.wire import Params, Reply, Request, Response, fixed, json_response, trimmed

VENUE = EXCHANGE_INDEX["bybit"]
KLINE_INTERVALS = {"5": 5, "15": 15, "30": 30, "60": 60, "120": 120, "240": 240, "360": 360, "720": 720, "D": 1440}
OI_INTERVALS = {"5min": 5, "15min": 15, "30min": 30, "1h": 60, "4h": 240, "1d": 1440}


class Bybit(VenueApp):
    source = "bybit"

    def __init__(self, ctx: SimContext) -> None:
        super().__init__(ctx)
        self.routes = {
            ("GET", "/v5/market/funding/history"): self.funding_history,
            ("GET", "/v5/market/open-interest"): self.open_interest,
            ("GET", "/v5/market/account-ratio"): self.account_ratio,
            ("GET", "/v5/market/kline"): self.kline,
            ("GET", "/v5/market/instruments-info"): self.instruments,
        }

    # --- venue conventions: HTTP 200 envelopes, errors as retCode ---------------------------
    def envelope(self, result: dict[str, object], code: int = 0, msg: str = "OK", status: int = 200) -> Response:
        body = {"retCode": code, "retMsg": msg, "result": result, "retExtInfo": {}, "time": self.ctx.now_ms}
        return json_response(body, status)

    def fail(self, msg: str) -> Reply:
        return Reply(self.envelope({}, 10001, msg))

    def invalid(self, name: str, missing: bool) -> Response:
        return self.envelope({}, 10001, f"params error: {name} {'is required' if missing else 'invalid'}")

    def rate_limited(self) -> Response:
        return self.envelope({}, 10006, "Too many visits!", 429)

    def server_error(self) -> Response:
        return self.envelope({}, 10016, "Internal server error.", 500)

    def window_start_ms(self, req: Request) -> int | None:
        return first_int(req, "startTime", "start", "endTime", "end")

    def symbol(self, p: Params) -> tuple[int, str]:
        symbol = p.text("symbol", required=True) or ""
        asset = asset_from_symbol(symbol)
        if asset is None or binance_symbol(asset) != symbol:
            raise self.fail("params error: Symbol Invalid")
        return ASSET_INDEX[asset], symbol

    def category(self, p: Params, required: bool = True) -> str:
        category = p.text("category", None if required else "linear", required) or "linear"
        if category != "linear":
            raise self.fail("Illegal category")
        return category

    def bounds(self, p: Params, start_name: str, end_name: str) -> tuple[int, int]:
        start, end = p.integer(start_name), p.integer(end_name)
        hi = self.ctx.until_ms if end is None else min(end, self.ctx.until_ms)
        return (ORIGIN_MS if start is None else start), hi

    # --- endpoints ----------------------------------------------------------------------
    def funding_history(self, req: Request) -> Response:
        p = self.params(req)
        category = self.category(p)
        asset, symbol = self.symbol(p)
        if p.text("startTime") is not None and p.text("endTime") is None:
            raise self.fail("params error: startTime and endTime must be passed together")
        limit = p.integer("limit", 200, lo=1, hi=200) or 200
        lo, hi = self.bounds(p, "startTime", "endTime")
        times, rates = self.ctx.market.settled(VENUE, asset, lo, hi)
        times, rates = newest_first(times, limit), newest_first(rates, limit)
        rows = [
            {"symbol": symbol, "fundingRate": trimmed(r, 8), "fundingRateTimestamp": str(int(t))}
            for t, r in zip(times, rates, strict=True)
        ]
        return self.envelope({"category": category, "list": rows})

    def _cursor_page(self, req: Request, interval_param: str, max_limit: int) -> tuple[Params, np.ndarray, str]:
        """The newest-first page of period starts a cursor-paged endpoint answers, and the next cursor."""
        p = self.params(req)
        interval = p.choice(interval_param, OI_INTERVALS, required=True) or "1h"
        limit = p.integer("limit", 50, lo=1, hi=max_limit) or 50
        lo, hi = self.bounds(p, "startTime", "endTime")
        cursor = p.text("cursor")
        if cursor:
            hi = min(hi, self.cursor_time(cursor) - 1)
        times = newest_first(aligned(lo, hi, OI_INTERVALS[interval] * MINUTE_MS, ORIGIN_MS, hi), limit + 1)
        page, more = times[:limit], times.size > limit
        return p, page, self.make_cursor(int(page[-1])) if more else ""

    def open_interest(self, req: Request) -> Response:
        p, page, next_cursor = self._cursor_page(req, "intervalTime", 200)
        category = self.category(p)
        asset, symbol = self.symbol(p)
        coins, _ = self.ctx.market.open_interest(VENUE, asset, page)
        single = np.round(coins, 3)
        rows = [
            {"openInterest": fixed(2 * s, 8), "singleOpenInterest": fixed(s, 3), "timestamp": str(int(t))}
            for t, s in zip(page, single, strict=True)
        ]
        return self.envelope({"symbol": symbol, "category": category, "list": rows, "nextPageCursor": next_cursor})

    def account_ratio(self, req: Request) -> Response:
        """Shares of accounts net long and net short (buyRatio / sellRatio), strings, newest first."""
        p, page, next_cursor = self._cursor_page(req, "period", 500)
        self.category(p)
        asset, symbol = self.symbol(p)
        long_share = np.round(1 - 1 / (1 + self.ctx.market.long_short(VENUE, asset, page)["account"]), 4)
        rows = [
            {"symbol": symbol, "buyRatio": fixed(s, 4), "sellRatio": fixed(1 - s, 4), "timestamp": str(int(t))}
            for t, s in zip(page, long_share, strict=True)
        ]
        return self.envelope({"list": rows, "nextPageCursor": next_cursor})

    @staticmethod
    def make_cursor(last_ms: int) -> str:
        """Opaque and URL-encoded like the real one: lastid=<n>&lasttime=<seconds>."""
        return f"lastid%3D{(last_ms // MINUTE_MS) % 100_000_000}%26lasttime%3D{last_ms // 1000}"

    def cursor_time(self, cursor: str) -> int:
        text = cursor
        for _ in range(3):  # callers may send it encoded once more, or already decoded
            if "lasttime=" in text:
                break
            text = unquote(text)
        match = re.search(r"lasttime=(\d+)", text)
        if match is None:
            raise self.fail("params error: cursor invalid")
        return int(match.group(1)) * 1000

    def kline(self, req: Request) -> Response:
        p = self.params(req)
        category = self.category(p, required=False)
        asset, symbol = self.symbol(p)
        interval = p.choice("interval", KLINE_INTERVALS, required=True) or "60"
        limit = p.integer("limit", 200, lo=1, hi=1000) or 200
        lo, hi = self.bounds(p, "start", "end")
        step = KLINE_INTERVALS[interval] * MINUTE_MS
        opens = newest_first(candle_opens(lo, hi, step, self.ctx.until_ms), limit)
        rows: list[list[str]] = []
        if opens.size:
            b = bars(self.ctx.market, VENUE, asset, opens[::-1], step, self.ctx.until_ms)
            spec = SPECS[ASSETS[asset]]
            px, qty = spec.price_decimals, spec.qty_decimals_bybit
            rows = [
                [
                    str(int(b.open_ms[i])),
                    trimmed(b.open[i], px),
                    trimmed(b.high[i], px),
                    trimmed(b.low[i], px),
                    trimmed(b.close[i], px),
                    trimmed(b.volume_coins[i], qty),
                    trimmed(b.volume_usd[i], 4),
                ]
                for i in reversed(range(len(b)))
            ]
        return self.envelope({"symbol": symbol, "category": category, "list": rows})

    def instruments(self, req: Request) -> Response:
        p = self.params(req)
        category = self.category(p)
        only = p.text("symbol")
        rows = [self._instrument(a) for a in ASSETS if only in (None, binance_symbol(a))]
        return self.envelope({"category": category, "list": rows, "nextPageCursor": ""})

    @staticmethod
    def _instrument(asset: str) -> dict[str, object]:
        spec = SPECS[asset]
        return {
            "symbol": binance_symbol(asset),
            "contractType": "LinearPerpetual",
            "status": "Trading",
            "baseCoin": asset,
            "quoteCoin": "USDT",
            "settleCoin": "USDT",
            "fundingInterval": FUNDING_HOURS * 60,
            "priceFilter": {"tickSize": trimmed(spec.tick, 8)},
            "lotSizeFilter": {"qtyStep": trimmed(spec.bybit_step, 8), "minOrderQty": trimmed(spec.bybit_step, 8)},
        }
