"""Binance USD-M futures REST (fapi.binance.com): funding, open-interest history, klines."""

from __future__ import annotations

from collections.abc import Callable

import numpy as np

from ingestion.simulator.bars import Bars, aligned, bars, candle_opens
from ingestion.simulator.catalog import ASSET_INDEX, ASSETS, EXCHANGE_INDEX, SPECS, asset_from_symbol, binance_symbol
from ingestion.simulator.coins import TRACKED_COIN, supply_of
from ingestion.simulator.market import FUNDING_HOURS
from ingestion.simulator.timegrid import HOUR_MS, MINUTE_MS, ORIGIN_MS
from ingestion.simulator.venues.base import SimContext, VenueApp, first_int, interval_minutes
from ingestion.simulator.wire import Params, Reply, Request, Response, fixed, json_response

VENUE = EXCHANGE_INDEX["binance"]
INTERVALS = interval_minutes(
    "5m", "15m", "30m", "1h", "2h", "4h", "6h", "8h", "12h", "1d", "3d"
)  # 1m/3m/1w/1M are not simulated
OI_PERIODS = interval_minutes("5m", "15m", "30m", "1h", "2h", "4h", "6h", "12h", "1d")


def error(code: int, msg: str, status: int = 400) -> Response:
    return json_response({"code": code, "msg": msg}, status)


def head_or_tail(items: np.ndarray, limit: int, from_start: bool) -> np.ndarray:
    """Binance pages forward from startTime; without it, the latest rows come back."""
    return items[:limit] if from_start else items[max(items.size - limit, 0) :]


def settle_jitter(index: np.ndarray, asset: int) -> np.ndarray:
    """Settlement lands a few ms after the hour, as on the real venue."""
    return (index * 7 + asset * 3) % 10


# Path under /futures/data -> the simulated measure it serves.
RATIO_PATHS = {
    "globalLongShortAccountRatio": "account",
    "topLongShortAccountRatio": "top_account",
    "topLongShortPositionRatio": "top_position",
    "takerlongshortRatio": "taker",
}


def _ratio_row(kind: str, symbol: str, time_ms: int, ratio: float) -> dict[str, object]:
    """A row as Binance sends it: every number a string, the time a string of milliseconds; the
    taker endpoint names no symbol and gives volumes, the others the two sides' shares."""
    if kind == "taker":
        sell = 1000.0
        return {
            "buySellRatio": fixed(ratio, 4),
            "buyVol": fixed(ratio * sell, 4),
            "sellVol": fixed(sell, 4),
            "timestamp": str(time_ms),
        }
    long_share = ratio / (1 + ratio)
    return {
        "symbol": symbol,
        "longShortRatio": fixed(ratio, 4),
        "longAccount": fixed(long_share, 4),
        "shortAccount": fixed(1 - long_share, 4),
        "timestamp": str(time_ms),
    }


class Binance(VenueApp):
    source = "binance"

    def __init__(self, ctx: SimContext) -> None:
        super().__init__(ctx)
        self.routes = {
            ("GET", "/fapi/v1/fundingRate"): self.funding_rate,
            ("GET", "/fapi/v1/fundingInfo"): lambda req: json_response([]),  # tracked symbols keep 8 h
            ("GET", "/futures/data/openInterestHist"): self.open_interest_hist,
            ("GET", "/fapi/v1/klines"): self.klines,
            **{("GET", f"/futures/data/{path}"): self.ratio_history(kind) for path, kind in RATIO_PATHS.items()},
            ("GET", "/fapi/v1/openInterest"): self.open_interest,
            ("GET", "/fapi/v1/premiumIndex"): self.premium_index,
        }

    # --- venue conventions --------------------------------------------------------------
    def invalid(self, name: str, missing: bool) -> Response:
        if missing:
            return error(-1102, f"Mandatory parameter '{name}' was not sent, was empty/null, or malformed.")
        return error(-1130, f"Data sent for parameter '{name}' is not valid.")

    def rate_limited(self) -> Response:
        return error(
            -1003,
            "Too many requests; current limit of IP(127.0.0.1) is 2400 requests per minute. "
            "Please use the websocket for live updates to avoid polling the API.",
            429,
        )

    def server_error(self) -> Response:
        return error(-1000, "An unknown error occured while processing the request.", 500)

    def window_start_ms(self, req: Request) -> int | None:
        return first_int(req, "startTime", "endTime")

    def asset(self, p: Params, required: bool = True) -> int | None:
        symbol = p.text("symbol", required=required)
        if symbol is None:
            return None
        asset = asset_from_symbol(symbol)
        if asset is None or binance_symbol(asset) != symbol:
            raise Reply(error(-1121, "Invalid symbol."))
        return ASSET_INDEX[asset]

    def window(self, p: Params, limit_default: int, limit_max: int) -> tuple[int, int, int, bool]:
        start, end = p.integer("startTime"), p.integer("endTime")
        limit = p.integer("limit", limit_default, lo=1, hi=limit_max) or limit_default
        lo = ORIGIN_MS if start is None else start
        hi = self.ctx.until_ms if end is None else min(end, self.ctx.until_ms)
        return lo, hi, limit, start is not None

    # --- endpoints ----------------------------------------------------------------------
    def funding_rate(self, req: Request) -> Response:
        p = self.params(req)
        only = self.asset(p, required=False)
        start, end = p.integer("startTime"), p.integer("endTime")
        limit = p.integer("limit", 100, lo=1, hi=1000) or 100
        rows = [row for a in (range(len(ASSETS)) if only is None else [only]) for row in self._settled(a)]
        rows.sort(key=lambda r: (r["fundingTime"], ASSETS.index(asset_from_symbol(r["symbol"]) or "")))
        selected = [
            r for r in rows if (start is None or r["fundingTime"] >= start) and (end is None or r["fundingTime"] <= end)
        ]
        if start is None and end is None:
            return json_response(selected[-200:])  # documented: the latest 200, whatever the limit
        return json_response(selected[:limit] if start is not None else selected[-limit:])

    def _settled(self, asset: int) -> list[dict[str, object]]:
        hours, rates = self.ctx.market.settled(VENUE, asset, ORIGIN_MS, self.ctx.until_ms)
        stamps = hours + settle_jitter(hours // HOUR_MS, asset)
        visible = stamps <= self.ctx.until_ms
        marks = self.mark_price(asset, hours[visible])
        symbol, decimals = binance_symbol(ASSETS[asset]), SPECS[ASSETS[asset]].price_decimals
        return [
            {
                "symbol": symbol,
                "fundingTime": int(t),
                "fundingRate": fixed(r, 8),
                "markPrice": fixed(round(m, decimals), 8),
            }
            for t, r, m in zip(stamps[visible], rates[visible], marks, strict=True)
        ]

    def mark_price(self, asset: int, times: np.ndarray) -> np.ndarray:
        market = self.ctx.market
        return market.price_at(asset, times) * market.basis_at(VENUE, times)

    def period_points(self, req: Request) -> tuple[int, np.ndarray]:
        """(asset, period starts) of a /futures/data request: symbol, period, window and limit."""
        p = self.params(req)
        asset = self.asset(p)
        period = p.choice("period", OI_PERIODS, required=True) or "1h"
        lo, hi, limit, from_start = self.window(p, 30, 500)
        assert asset is not None
        return asset, head_or_tail(aligned(lo, hi, OI_PERIODS[period] * MINUTE_MS, ORIGIN_MS, hi), limit, from_start)

    def open_interest_hist(self, req: Request) -> Response:
        asset, times = self.period_points(req)
        coins, usd = self.ctx.market.open_interest(VENUE, asset, times)
        supply = supply_of(TRACKED_COIN[ASSETS[asset]], times)
        symbol = binance_symbol(ASSETS[asset])
        return json_response(
            [
                {
                    "symbol": symbol,
                    "sumOpenInterest": fixed(round(c, 3), 8),
                    "sumOpenInterestValue": fixed(u, 8),
                    "CMCCirculatingSupply": fixed(s, 3),
                    "timestamp": int(t),
                }
                for t, c, u, s in zip(times, coins, usd, supply, strict=True)
            ]
        )

    def ratio_history(self, kind: str) -> Callable[[Request], Response]:
        """The long/short ratio endpoints: the same window and periods as openInterestHist."""

        def handler(req: Request) -> Response:
            asset, times = self.period_points(req)
            ratios = self.ctx.market.long_short(VENUE, asset, times)[kind]
            symbol = binance_symbol(ASSETS[asset])
            return json_response(
                [_ratio_row(kind, symbol, int(t), float(r)) for t, r in zip(times, ratios, strict=True)]
            )

        return handler

    def klines(self, req: Request) -> Response:
        p = self.params(req)
        asset = self.asset(p)
        interval = p.text("interval", required=True) or ""
        if interval not in INTERVALS:
            raise Reply(error(-1120, "Invalid interval."))
        lo, hi, limit, from_start = self.window(p, 500, 1500)
        step = INTERVALS[interval] * MINUTE_MS
        opens = head_or_tail(candle_opens(lo, hi, step, self.ctx.until_ms), limit, from_start)
        if not opens.size:
            return json_response([])
        assert asset is not None
        return json_response(
            kline_rows(bars(self.ctx.market, VENUE, asset, opens, step, self.ctx.until_ms), step, asset)
        )

    def open_interest(self, req: Request) -> Response:
        asset = self.asset(self.params(req))
        assert asset is not None
        now = np.array([self.ctx.until_ms])
        coins, _ = self.ctx.market.open_interest(VENUE, asset, now)
        return json_response(
            {"openInterest": fixed(coins[0], 3), "symbol": binance_symbol(ASSETS[asset]), "time": self.ctx.now_ms}
        )

    def premium_index(self, req: Request) -> Response:
        only = self.asset(self.params(req), required=False)
        rows = [self._premium(a) for a in (range(len(ASSETS)) if only is None else [only])]
        return json_response(rows[0] if only is not None else rows)

    def _premium(self, asset: int) -> dict[str, object]:
        now = self.ctx.until_ms
        period = FUNDING_HOURS * HOUR_MS
        next_funding = (now - ORIGIN_MS) // period * period + period + ORIGIN_MS
        hour = min((now - ORIGIN_MS) // HOUR_MS, self.ctx.market.funding8.shape[0] - 1)
        mark = float(self.mark_price(asset, np.array([now]))[0])
        index = float(self.ctx.market.price_at(asset, np.array([now]))[0])
        decimals = SPECS[ASSETS[asset]].price_decimals
        return {
            "symbol": binance_symbol(ASSETS[asset]),
            "markPrice": fixed(mark, 8),
            "indexPrice": fixed(index, 8),
            "estimatedSettlePrice": fixed(round(index, decimals), 8),
            "lastFundingRate": fixed(self.ctx.market.funding8[hour, VENUE, asset], 8),
            "interestRate": "0.00010000",
            "nextFundingTime": int(next_funding),
            "time": self.ctx.now_ms,
        }


def kline_rows(b: Bars, step_ms: int, asset: int) -> list[list[int | str]]:
    """Binance's twelve kline fields per candle: the REST array and the data archive's CSV row."""
    spec = SPECS[ASSETS[asset]]
    px, qty = spec.price_decimals, spec.qty_decimals_binance
    return [
        [
            int(b.open_ms[i]),
            fixed(b.open[i], px),
            fixed(b.high[i], px),
            fixed(b.low[i], px),
            fixed(b.close[i], px),
            fixed(b.volume_coins[i], qty),
            int(b.open_ms[i]) + step_ms - 1,
            fixed(b.volume_usd[i], 4),
            int(b.trades[i]),
            fixed(b.taker_buy_coins[i], qty),
            fixed(b.taker_buy_usd[i], 4),
            "0",
        ]
        for i in range(len(b))
    ]
