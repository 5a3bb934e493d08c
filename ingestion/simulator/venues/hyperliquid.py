"""Hyperliquid info API (api.hyperliquid.xyz): every read is POST /info with a JSON body."""

from __future__ import annotations

import json
from typing import Any

import numpy as np

from ingestion.simulator.bars import bars, candle_opens
from ingestion.simulator.catalog import ASSET_INDEX, ASSETS, EXCHANGE_INDEX, SPECS
from ingestion.simulator.timegrid import DAY_MS, HOUR_MS, MINUTE_MS, ORIGIN_MS, PAST_HOURS
from ingestion.simulator.venues.base import SimContext, VenueApp, interval_minutes
from ingestion.simulator.wire import Reply, Request, Response, fixed, json_response, significant, text_response, trimmed

VENUE = EXCHANGE_INDEX["hyperliquid"]
MAX_FUNDING_ROWS = 500
MAX_CANDLES = 5000
INTERVALS = interval_minutes("1m", "3m", "5m", "15m", "30m", "1h", "2h", "4h", "8h", "12h", "1d", "3d", "1w", "1M")
UNSIMULATED = {"1m", "3m", "1w", "1M"}  # valid requests answered with no candles
DESERIALIZE = "Failed to deserialize the JSON body into the target type"
INTEREST_8H = 0.0001


def price_text(value: float) -> str:
    """Hyperliquid prices carry at most five significant figures."""
    return repr(significant(float(value), 5))


class Hyperliquid(VenueApp):
    source = "hyperliquid"

    def __init__(self, ctx: SimContext) -> None:
        super().__init__(ctx)
        self.routes = {("POST", "/info"): self.info}
        self.queries = {
            "fundingHistory": self.funding_history,
            "candleSnapshot": self.candle_snapshot,
            "metaAndAssetCtxs": self.meta_and_asset_ctxs,
            "meta": lambda body: self.meta(),
        }

    def rate_limited(self) -> Response:
        return text_response("Too many requests", 429)

    def server_error(self) -> Response:
        return json_response("Internal Server Error", 500)

    @staticmethod
    def body(req: Request) -> dict[str, Any]:
        try:
            body = json.loads(req.body or b"null")
        except ValueError:
            raise Reply(text_response(DESERIALIZE, 422)) from None
        if not isinstance(body, dict) or not isinstance(body.get("type"), str):
            raise Reply(text_response(DESERIALIZE, 422))
        return body

    def window_start_ms(self, req: Request) -> int | None:
        try:
            body = json.loads(req.body or b"null")
        except ValueError:
            return None
        if not isinstance(body, dict):
            return None
        inner = body.get("req") if isinstance(body.get("req"), dict) else body
        start = inner.get("startTime")
        return int(start) if isinstance(start, int) else None

    def info(self, req: Request) -> Response:
        body = self.body(req)
        query = self.queries.get(body["type"])
        if query is None:
            raise Reply(text_response(DESERIALIZE, 422))
        return query(body)

    @staticmethod
    def field(body: dict[str, Any], name: str, kind: type, required: bool = True) -> Any:
        value = body.get(name)
        if value is None and not required:
            return None
        if not isinstance(value, kind) or isinstance(value, bool):
            raise Reply(text_response(DESERIALIZE, 422))
        return value

    # --- queries ------------------------------------------------------------------------
    def funding_history(self, body: dict[str, Any]) -> Response:
        coin = self.field(body, "coin", str)
        start = self.field(body, "startTime", int)
        end = self.field(body, "endTime", int, required=False)
        if coin not in ASSET_INDEX:
            return json_response([])
        asset = ASSET_INDEX[coin]
        end = self.ctx.until_ms if end is None else min(end, self.ctx.until_ms)
        first = max((start - ORIGIN_MS) // HOUR_MS, 1)
        hours = np.arange(first, min((end - ORIGIN_MS) // HOUR_MS, self.ctx.market.funding8.shape[0]) + 1)
        jitter = ((hours - PAST_HOURS) * 37 + asset * 11) % 90 + 5  # a few ms after the hour
        stamps = ORIGIN_MS + hours * HOUR_MS + jitter
        keep = (stamps >= start) & (stamps <= end)
        hours, stamps = hours[keep][:MAX_FUNDING_ROWS], stamps[keep][:MAX_FUNDING_ROWS]
        eight_hour = self.ctx.market.funding8[hours - 1, VENUE, asset]  # the hour that just settled
        return json_response(
            [
                {"coin": coin, "fundingRate": trimmed(r / 8, 10), "premium": fixed(r - INTEREST_8H, 10), "time": int(t)}
                for r, t in zip(eight_hour, stamps, strict=True)
            ]
        )

    def candle_snapshot(self, body: dict[str, Any]) -> Response:
        req = self.field(body, "req", dict)
        coin = self.field(req, "coin", str)
        interval = self.field(req, "interval", str)
        start = self.field(req, "startTime", int)
        end = self.field(req, "endTime", int, required=False)
        if interval not in INTERVALS:
            raise Reply(text_response(DESERIALIZE, 422))
        if coin not in ASSET_INDEX or interval in UNSIMULATED:
            return json_response([])
        step = INTERVALS[interval] * MINUTE_MS
        until = self.ctx.until_ms
        opens = candle_opens(start, until if end is None else end, step, until)[:MAX_CANDLES]
        if not opens.size:
            return json_response([])
        asset = ASSET_INDEX[coin]
        b = bars(self.ctx.market, VENUE, asset, opens, step, until)
        size_decimals = SPECS[coin].hl_sz_decimals
        return json_response(
            [
                {
                    "t": int(b.open_ms[i]),
                    "T": int(b.open_ms[i]) + step - 1,
                    "s": coin,
                    "i": interval,
                    "o": price_text(b.open[i]),
                    "c": price_text(b.close[i]),
                    "h": price_text(b.high[i]),
                    "l": price_text(b.low[i]),
                    "v": trimmed(b.volume_coins[i], size_decimals),
                    "n": int(b.trades[i]),
                }
                for i in range(len(b))
            ]
        )

    @staticmethod
    def meta() -> Response:
        return json_response(Hyperliquid._meta())

    @staticmethod
    def _meta() -> dict[str, Any]:
        universe = [
            {
                "name": a,
                "szDecimals": SPECS[a].hl_sz_decimals,
                "maxLeverage": SPECS[a].hl_max_leverage,
                "marginTableId": SPECS[a].hl_max_leverage,
            }
            for a in ASSETS
        ]
        tables = sorted({SPECS[a].hl_max_leverage for a in ASSETS})
        margin_tables = [
            [t, {"description": "", "marginTiers": [{"lowerBound": "0.0", "maxLeverage": t}]}] for t in tables
        ]
        return {"universe": universe, "marginTables": margin_tables}

    def meta_and_asset_ctxs(self, body: dict[str, Any]) -> Response:
        return json_response([self._meta(), [self._context(a) for a in range(len(ASSETS))]])

    def _context(self, asset: int) -> dict[str, Any]:
        market, now = self.ctx.market, self.ctx.until_ms - 1
        times = np.array([now, now - DAY_MS])
        price = market.price_at(asset, times) * market.basis_at(VENUE, times)
        oracle = float(market.price_at(asset, times[:1])[0])
        coins, _ = market.open_interest(VENUE, asset, times[:1])
        hour = min((now - ORIGIN_MS) // HOUR_MS, market.funding8.shape[0] - 1)
        rate = float(market.funding8[hour, VENUE, asset])
        opens = candle_opens(now - DAY_MS, now, HOUR_MS, self.ctx.until_ms)
        day = bars(market, VENUE, asset, opens, HOUR_MS, self.ctx.until_ms) if opens.size else None
        mark = float(price[0])
        spread = SPECS[ASSETS[asset]].tick
        return {
            "funding": trimmed(rate / 8, 10),
            "openInterest": trimmed(float(coins[0]), SPECS[ASSETS[asset]].hl_sz_decimals),
            "prevDayPx": price_text(price[1]),
            "dayNtlVlm": fixed(day.volume_usd.sum() if day else 0.0, 1),
            "premium": fixed(rate - INTEREST_8H, 10),
            "oraclePx": price_text(oracle),
            "markPx": price_text(mark),
            "midPx": price_text(mark + spread / 2),
            "impactPxs": [price_text(mark - spread), price_text(mark + spread)],
            "dayBaseVlm": fixed(day.volume_coins.sum() if day else 0.0, 1),
        }
