"""Coinalyze API v1 (api.coinalyze.net/v1): aggregated liquidation and open-interest history.

The aggregator sees every liquidation of a venue (unlike Binance's throttled stream), so its
buckets are the plain sums of the simulator's events.
"""

from __future__ import annotations

from typing import Any

import numpy as np

from ingestion.simulator.catalog import (
    ASSET_INDEX,
    ASSETS,
    COINALYZE_EXCHANGES,
    COINALYZE_VENUES,
    EXCHANGE_INDEX,
    coinalyze_symbol,
    coinalyze_symbol_on_exchange,
)
from ingestion.simulator.events import bucket_sums
from ingestion.simulator.timegrid import MINUTE_MS, ORIGIN_MS, STEP_MS, ms_to_day
from ingestion.simulator.venues.base import FAULT_ASSET, SimContext, VenueApp, first_int
from ingestion.simulator.wire import Params, Reply, Request, Response, json_response

INTERVALS = {
    "5min": 5,
    "15min": 15,
    "30min": 30,
    "1hour": 60,
    "2hour": 120,
    "4hour": 240,
    "6hour": 360,
    "12hour": 720,
    "daily": 1440,
}  # 1min is not simulated
MAX_SYMBOLS = 20
MARKETS: dict[str, tuple[str, str]] = {
    coinalyze_symbol(code, asset): (venue, asset) for code, venue in COINALYZE_VENUES.items() for asset in ASSETS
}


def message(text: str, status: int) -> Reply:
    return Reply(json_response({"message": text}, status))


class Coinalyze(VenueApp):
    source = "coinalyze"

    def __init__(self, ctx: SimContext) -> None:
        super().__init__(ctx)
        self.routes = {
            ("GET", "/exchanges"): lambda req: json_response([{"name": n, "code": c} for n, c in COINALYZE_EXCHANGES]),
            ("GET", "/future-markets"): lambda req: json_response(self.future_markets()),
            ("GET", "/liquidation-history"): self.liquidation_history,
            ("GET", "/open-interest-history"): self.open_interest_history,
        }

    def handle(self, req: Request) -> Response:
        if not (req.header("api_key") or req.query.get("api_key")):
            return json_response({"message": "Unauthorized: missing or invalid api_key"}, 401)
        return super().handle(req)

    def invalid(self, name: str, missing: bool) -> Response:
        return json_response({"message": f"{'Missing' if missing else 'Invalid'} parameter: {name}"}, 400)

    def rate_limited(self) -> Response:
        return json_response({"message": "Too many requests"}, 429)

    def server_error(self) -> Response:
        return json_response({"message": "Internal server error"}, 500)

    def window_start_ms(self, req: Request) -> int | None:
        return first_int(req, "from", scale=1000)

    @staticmethod
    def future_markets() -> list[dict[str, Any]]:
        return [
            {
                "symbol": symbol,
                "exchange": code,
                "symbol_on_exchange": coinalyze_symbol_on_exchange(code, asset),
                "base_asset": asset,
                "quote_asset": "USD" if code == "H" else "USDT",
                "is_perpetual": True,
                "margined": "STABLE",
                "expire_at": None,
                "oi_lq_vol_denominated_in": "BASE_ASSET",
                "has_long_short_ratio_data": code != "H",
                "has_ohlcv_data": True,
                "has_buy_sell_data": code != "H",
            }
            for symbol, (_venue, asset) in MARKETS.items()
            for code in [symbol.rsplit(".", 1)[1]]
        ]

    def request(self, p: Params) -> tuple[list[str], int, np.ndarray, bool]:
        """(symbols, bucket ms, bucket starts, convert_to_usd) of a history request."""
        symbols = [s for s in (p.text("symbols", required=True) or "").split(",") if s]
        if len(symbols) > MAX_SYMBOLS:
            raise message(f"Too many symbols. Max {MAX_SYMBOLS} per request.", 400)
        interval = p.choice("interval", INTERVALS, required=True) or "1hour"
        start = (p.integer("from", required=True) or 0) * 1000
        end = (p.integer("to", required=True) or 0) * 1000
        bucket = INTERVALS[interval] * MINUTE_MS
        first = max(-(-start // bucket) * bucket, ORIGIN_MS)
        last = min(end, self.ctx.until_ms - 1)
        starts = np.arange(first, last + 1, bucket, dtype=np.int64) if last >= first else np.zeros(0, np.int64)
        return symbols, bucket, starts, p.flag("convert_to_usd")

    # --- history ------------------------------------------------------------------------
    def liquidation_history(self, req: Request) -> Response:
        symbols, bucket, starts, usd = self.request(self.params(req))
        return json_response([{"symbol": s, "history": self.liquidations(s, bucket, starts, usd)} for s in symbols])

    def liquidations(self, symbol: str, bucket: int, starts: np.ndarray, usd: bool) -> list[dict[str, Any]]:
        if symbol not in MARKETS or not starts.size:
            return []
        venue, asset = MARKETS[symbol]
        end = min(int(starts[-1]) + bucket, self.ctx.until_ms + 1)
        events = self.ctx.events.span(EXCHANGE_INDEX[venue], ASSET_INDEX[asset], int(starts[0]), end)
        sums = bucket_sums(events, int(starts[0]), bucket, starts.size, usd)
        digits = 2 if usd else 6
        history = [
            {"t": int(t) // 1000, "l": round(float(lo), digits), "s": round(float(sh), digits)}
            for t, (lo, sh) in zip(starts, sums, strict=True)
            if lo or sh
        ]
        return self.with_fault(history, asset, int(starts[0]))

    def with_fault(self, history: list[dict[str, Any]], asset: str, start_ms: int) -> list[dict[str, Any]]:
        """Data faults of the day the window starts on hit the first series of the fault asset."""
        if asset != FAULT_ASSET or not history:
            return history
        for kind in self.ctx.faults.data_faults(self.source, ms_to_day(start_ms)):
            i = len(history) // 2
            if kind == "duplicate_event":
                history = history[: i + 1] + [dict(history[i])] + history[i + 1 :]
            elif kind == "negative_size":
                history = history[:i] + [{**history[i], "l": -abs(history[i]["l"]) or -1.0}] + history[i + 1 :]
        return history

    def open_interest_history(self, req: Request) -> Response:
        symbols, bucket, starts, usd = self.request(self.params(req))
        return json_response([{"symbol": s, "history": self.open_interest(s, bucket, starts, usd)} for s in symbols])

    def open_interest(self, symbol: str, bucket: int, starts: np.ndarray, usd: bool) -> list[dict[str, Any]]:
        """OHLC of open interest inside each bucket, sampled every five minutes."""
        if symbol not in MARKETS or not starts.size:
            return []
        venue, asset = MARKETS[symbol]
        per_bucket = bucket // STEP_MS
        samples = int(starts[0]) + STEP_MS * np.arange(starts.size * per_bucket + 1, dtype=np.int64)
        samples = np.minimum(samples, self.ctx.until_ms)
        coins, dollars = self.ctx.market.open_interest(EXCHANGE_INDEX[venue], ASSET_INDEX[asset], samples)
        values = dollars if usd else coins
        marks = np.arange(starts.size) * per_bucket
        closes = values[marks + per_bucket]
        highs = np.maximum(np.maximum.reduceat(values[:-1], marks), closes)
        lows = np.minimum(np.minimum.reduceat(values[:-1], marks), closes)
        digits = 2 if usd else 4
        return [
            {
                "t": int(t) // 1000,
                "o": round(float(o), digits),
                "h": round(float(h), digits),
                "l": round(float(lo), digits),
                "c": round(float(c), digits),
            }
            for t, o, h, lo, c in zip(starts, values[marks], highs, lows, closes, strict=True)
        ]
