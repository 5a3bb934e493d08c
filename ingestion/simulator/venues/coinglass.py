"""CoinGlass API v4 (open-api-v4.coinglass.com): aggregated liquidation history per coin.

Like Coinalyze, the aggregator sees every liquidation of a venue, so a bucket is the plain sum of
the simulator's events on the exchanges in ``exchange_list``: one exchange's hour here equals
Coinalyze's hour for that exchange. Values are JSON numbers, as in CoinGlass's own example of this
endpoint. Plan limits (interval floor, look-back) are not simulated. Which HTTP status comes with
an error code is not documented: here a missing key is HTTP 401, parameter errors are HTTP 200
with a non-zero ``code`` (CoinGlass says to check both), rate limits 429 and failures 500.
"""

from __future__ import annotations

from typing import Any

import numpy as np

from ingestion.simulator.catalog import ASSET_INDEX, ASSETS, EXCHANGE_INDEX
from ingestion.simulator.events import bucket_sums
from ingestion.simulator.timegrid import MINUTE_MS, ORIGIN_MS, ceil_to, floor_to
from ingestion.simulator.venues.base import SimContext, VenueApp, first_int, interval_minutes
from ingestion.simulator.wire import Params, Reply, Request, Response, json_response

# Exchange names as CoinGlass spells them -> simulated venue.
EXCHANGES = {"Binance": "binance", "Bybit": "bybit", "OKX": "okx", "Hyperliquid": "hyperliquid"}
INTERVALS = interval_minutes("1m", "3m", "5m", "15m", "30m", "1h", "4h", "6h", "8h", "12h", "1d")  # 1w is not simulated
MAX_LIMIT = 1000
DECIMALS = 5  # as in the official example (5916885.14234)


def envelope(code: str, msg: str, status: int = 200) -> Response:
    return json_response({"code": code, "msg": msg}, status)


class CoinGlass(VenueApp):
    source = "coinglass"

    def __init__(self, ctx: SimContext) -> None:
        super().__init__(ctx)
        self.routes = {
            ("GET", "/api/futures/supported-coins"): lambda req: self.ok(list(ASSETS)),
            ("GET", "/api/futures/liquidation/aggregated-history"): self.aggregated_history,
        }

    @staticmethod
    def ok(data: list[Any]) -> Response:
        return json_response({"code": "0", "msg": "success", "data": data})

    def handle(self, req: Request) -> Response:
        if not req.header("CG-API-KEY"):
            return envelope("401", "API key missing or invalid (CG-API-KEY header)", 401)
        return super().handle(req)

    def invalid(self, name: str, missing: bool) -> Response:
        return envelope("400", f"{'Missing' if missing else 'Invalid'} parameter: {name}")

    def not_found(self, req: Request) -> Response:
        return envelope("404", "Resource does not exist", 404)

    def rate_limited(self) -> Response:
        return envelope("429", "Too Many Requests", 429)

    def server_error(self) -> Response:
        return envelope("500", "Internal Server Error", 500)

    def window_start_ms(self, req: Request) -> int | None:
        return first_int(req, "start_time")

    def buckets(self, p: Params, bucket: int) -> np.ndarray:
        """Bucket starts in [start_time, end_time] (both inclusive, ms), none after the clock; more
        than ``limit`` of them keep the newest, as a request without a range does."""
        limit = p.integer("limit", MAX_LIMIT, lo=1, hi=MAX_LIMIT) or MAX_LIMIT
        start, end = p.integer("start_time"), p.integer("end_time")
        last = floor_to(min(self.ctx.until_ms if end is None else end, self.ctx.until_ms), bucket)
        first = max(ORIGIN_MS, ceil_to(start, bucket) if start is not None else last - (limit - 1) * bucket)
        if last < first:
            return np.zeros(0, np.int64)
        return np.arange(first, last + 1, bucket, dtype=np.int64)[-limit:]

    def aggregated_history(self, req: Request) -> Response:
        p = self.params(req)
        names = (p.text("exchange_list", required=True) or "").split(",")
        if any(name not in EXCHANGES for name in names):  # no spaces: tolerance of them is unverified
            raise Reply(self.invalid("exchange_list", False))
        asset = p.text("symbol", required=True) or ""
        if asset not in ASSET_INDEX:
            raise Reply(self.invalid("symbol", False))
        interval = p.choice("interval", INTERVALS, required=True) or "1h"
        bucket = INTERVALS[interval] * MINUTE_MS
        starts = self.buckets(p, bucket)
        if not starts.size:
            return self.ok([])
        first, end = int(starts[0]), min(int(starts[-1]) + bucket, self.ctx.until_ms + 1)
        sums = np.zeros((starts.size, 2))
        for name in dict.fromkeys(names):  # an exchange listed twice counts once
            events = self.ctx.events.span(EXCHANGE_INDEX[EXCHANGES[name]], ASSET_INDEX[asset], first, end)
            sums += bucket_sums(events, first, bucket, starts.size, True)
        return self.ok(
            [
                {
                    "time": int(t),
                    "aggregated_long_liquidation_usd": round(float(lo), DECIMALS),
                    "aggregated_short_liquidation_usd": round(float(sh), DECIMALS),
                }
                for t, (lo, sh) in zip(starts, sums, strict=True)
            ]
        )
