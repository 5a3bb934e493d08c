"""Deribit API v2 (www.deribit.com/api/v2): the DVOL volatility index over JSON-RPC-on-GET."""

from __future__ import annotations

from typing import Any

import numpy as np

from ingestion.simulator.bars import aligned
from ingestion.simulator.catalog import DVOL_CURRENCIES
from ingestion.simulator.market import lerp
from ingestion.simulator.timegrid import DAY_MS, HOUR_MS, MINUTE_MS, ORIGIN_MS, SECOND_MS, STEP_MS
from ingestion.simulator.venues.base import SimContext, VenueApp, first_int
from ingestion.simulator.wire import Request, Response, json_response

RESOLUTIONS = {"1": SECOND_MS, "60": MINUTE_MS, "3600": HOUR_MS, "43200": 12 * HOUR_MS, "1D": DAY_MS}
CURRENCIES = ("BTC", "ETH", "USDC", "USDT", "EURR", "SOL", "XRP", "BNB", "PAXG")
MAX_CANDLES = 1000


class Deribit(VenueApp):
    source = "deribit"

    def __init__(self, ctx: SimContext) -> None:
        super().__init__(ctx)
        self.routes = {("GET", "/public/get_volatility_index_data"): self.volatility_index}

    def envelope(self, key: str, value: Any, status: int = 200) -> Response:
        us_in = self.ctx.now_ms * 1000
        return json_response(
            {"jsonrpc": "2.0", key: value, "usIn": us_in, "usOut": us_in + 1333, "usDiff": 1333, "testnet": False},
            status,
        )

    def error(self, code: int, message: str, data: dict[str, str] | None = None, status: int = 400) -> Response:
        return self.envelope("error", {"message": message, **({"data": data} if data else {}), "code": code}, status)

    def invalid(self, name: str, missing: bool) -> Response:
        reason = "missing" if missing else "wrong format"
        return self.error(-32602, "Invalid params", {"reason": reason, "param": name})

    def not_found(self, req: Request) -> Response:
        return self.error(-32601, "Method not found")

    def rate_limited(self) -> Response:
        return self.error(10028, "too_many_requests", status=429)

    def server_error(self) -> Response:
        return self.error(11094, "internal_server_error", status=500)

    def window_start_ms(self, req: Request) -> int | None:
        return first_int(req, "start_timestamp")

    def volatility_index(self, req: Request) -> Response:
        p = self.params(req)
        currency = p.choice("currency", CURRENCIES, required=True) or "BTC"
        start = p.integer("start_timestamp", required=True) or 0
        end = p.integer("end_timestamp", required=True) or 0
        resolution = RESOLUTIONS[p.choice("resolution", RESOLUTIONS, required=True) or "3600"]
        if currency not in DVOL_CURRENCIES:
            return self.envelope("result", {"data": [], "continuation": None})
        until = self.ctx.until_ms
        opens = aligned(start, end, resolution, ORIGIN_MS, until - resolution)  # finished candles only
        continuation = None
        if opens.size > MAX_CANDLES:  # newest page first; the caller walks back via continuation
            opens = opens[-MAX_CANDLES:]
            continuation = int(opens[0])
        rows = self.candles(DVOL_CURRENCIES.index(currency), opens, resolution)
        return self.envelope("result", {"data": rows, "continuation": continuation})

    def candles(self, column: int, opens: np.ndarray, resolution: int) -> list[list[float]]:
        if not opens.size:
            return []
        series = self.ctx.market.dvol[:, column]
        first, last = lerp(series, opens, STEP_MS), lerp(series, opens + resolution, STEP_MS)
        high, low = np.maximum(first, last), np.minimum(first, last)
        if resolution >= STEP_MS:  # include the 5-minute points inside the candle
            per = resolution // STEP_MS
            k0 = int((opens[0] - ORIGIN_MS) // STEP_MS)
            inner = series[k0 : k0 + opens.size * per + 1]
            marks = np.arange(opens.size) * per
            high = np.maximum(high, np.maximum.reduceat(inner[:-1], marks))
            low = np.minimum(low, np.minimum.reduceat(inner[:-1], marks))
        return [
            [int(t), round(float(o), 2), round(float(h), 2), round(float(lo), 2), round(float(c), 2)]
            for t, o, h, lo, c in zip(opens, first, high, low, last, strict=True)
        ]
