"""OKX v5 REST (www.okx.com): liquidation orders, instruments, funding, open interest, candles."""

from __future__ import annotations

from collections.abc import Callable

import numpy as np

from ingestion.simulator.bars import aligned, bars, candle_opens
from ingestion.simulator.catalog import ASSET_INDEX, ASSETS, EXCHANGE_INDEX, OKX_LOT, SPECS, decimals_of, okx_inst
from ingestion.simulator.events import Events
from ingestion.simulator.timegrid import DAY_MS, HOUR_MS, MINUTE_MS, ORIGIN_MS, STEP_MS
from ingestion.simulator.venues.base import SimContext, VenueApp, newest_first
from ingestion.simulator.wire import Params, Reply, Request, Response, fixed, json_response, trimmed

VENUE = EXCHANGE_INDEX["okx"]
HK = 8 * HOUR_MS  # OKX's plain 6H/12H/1D bars are aligned to Hong Kong time (UTC+8)
BARS = {
    "5m": (5, 0),
    "15m": (15, 0),
    "30m": (30, 0),
    "1H": (60, 0),
    "2H": (120, 0),
    "4H": (240, 0),
    "6H": (360, HK),
    "12H": (720, HK),
    "1D": (1440, HK),
    "2D": (2880, HK),
    "3D": (4320, HK),
    "6Hutc": (360, 0),
    "12Hutc": (720, 0),
    "1Dutc": (1440, 0),
    "2Dutc": (2880, 0),
    "3Dutc": (4320, 0),
}  # 1m/3m/1W/1M are not simulated
TAKER_UNITS = ("0", "1", "2")  # coins, contracts, USD
OI_PERIODS = {
    **{k: v for k, v in BARS.items() if k not in ("2D", "3D", "2Dutc", "3Dutc")},
    "5D": (7200, HK),
    "5Dutc": (7200, 0),
}
LEVERAGE = {"BTC": "100", "ETH": "100", "SOL": "50", "XRP": "75", "DOGE": "75"}
LIST_TIME = {
    "BTC": "1573557408000",
    "ETH": "1573557408000",
    "SOL": "1611916828000",
    "XRP": "1573557408000",
    "DOGE": "1617095024000",
}


def contracts_text(value: float) -> str:
    return trimmed(value, decimals_of(OKX_LOT))


class Okx(VenueApp):
    source = "okx"

    def __init__(self, ctx: SimContext) -> None:
        super().__init__(ctx)
        self.routes = {
            ("GET", "/api/v5/public/liquidation-orders"): self.liquidation_orders,
            ("GET", "/api/v5/public/instruments"): self.instruments,
            ("GET", "/api/v5/public/funding-rate-history"): self.funding_history,
            ("GET", "/api/v5/rubik/stat/contracts/open-interest-history"): self.open_interest_history,
            ("GET", "/api/v5/rubik/stat/contracts/long-short-account-ratio-contract"): self.ratio_series("account"),
            ("GET", "/api/v5/rubik/stat/contracts/long-short-account-ratio-contract-top-trader"): self.ratio_series(
                "top_account"
            ),
            ("GET", "/api/v5/rubik/stat/contracts/long-short-position-ratio-contract-top-trader"): self.ratio_series(
                "top_position"
            ),
            ("GET", "/api/v5/rubik/stat/taker-volume-contract"): self.taker_volume,
            ("GET", "/api/v5/market/history-candles"): lambda req: self.candles(req, 300),
            ("GET", "/api/v5/market/candles"): lambda req: self.candles(req, 300),
        }

    # --- venue conventions: HTTP 200 envelopes with a code string ----------------------------
    @staticmethod
    def ok(data: list[object]) -> Response:
        return json_response({"code": "0", "msg": "", "data": data})

    @staticmethod
    def fail(code: str, msg: str, status: int = 200) -> Reply:
        return Reply(json_response({"code": code, "msg": msg, "data": []}, status))

    def invalid(self, name: str, missing: bool) -> Response:
        reply = (
            self.fail("50014", f"Parameter {name} can not be empty.")
            if missing
            else self.fail("51000", f"Parameter {name} error")
        )
        return reply.response

    def rate_limited(self) -> Response:
        return self.fail("50011", "Too Many Requests", 429).response

    def server_error(self) -> Response:
        return self.fail("50001", "Service temporarily unavailable. Please try again later.", 500).response

    def window_start_ms(self, req: Request) -> int | None:
        """The oldest moment asked for: begin/before are exclusive lower bounds, after/end
        exclusive upper bounds of pages that walk backwards."""
        for name, shift in (("begin", 1), ("after", -1), ("end", -1), ("before", 1)):
            value = req.query.get(name)
            if value not in (None, ""):
                return int(value) + shift
        return None

    def inst(self, p: Params, name: str = "instId") -> int:
        inst_id = p.text(name, required=True) or ""
        asset = inst_id.split("-")[0]
        if asset not in ASSET_INDEX or okx_inst(asset) != inst_id:
            raise self.fail("51001", "Instrument ID does not exist")
        return ASSET_INDEX[asset]

    def cursor_range(self, p: Params, newer: str, older: str) -> tuple[int, int]:
        """Inclusive [lo, hi] from exclusive cursors (newer-than, older-than), capped by the clock."""
        after, before = p.integer(older), p.integer(newer)
        hi = self.ctx.until_ms if after is None else min(after - 1, self.ctx.until_ms)
        return (ORIGIN_MS if before is None else before + 1), hi

    # --- liquidations -------------------------------------------------------------------
    def liquidation_orders(self, req: Request) -> Response:
        p = self.params(req)
        inst_type = p.choice("instType", ("SWAP", "FUTURES", "MARGIN", "OPTION"), required=True)
        family = p.text("instFamily") or p.text("uly")
        if inst_type in ("SWAP", "FUTURES", "OPTION") and not family:
            raise self.fail("50015", "Either parameter instFamily or uly is required.")
        state = p.choice("state", ("filled", "unfilled"), "unfilled")
        limit = p.integer("limit", 100, lo=1, hi=100) or 100
        lo, hi = self.cursor_range(p, "before", "after")
        asset = (family or "").removesuffix("-USDT")
        if inst_type == "SWAP" and (asset not in ASSET_INDEX or family != f"{asset}-USDT"):
            raise self.fail("51001", "Instrument ID does not exist")
        if inst_type != "SWAP" or state != "filled" or hi < lo:
            return self.ok([])  # only filled swap liquidations are simulated
        details = self.newest_liquidations(asset, lo, hi, limit)
        if not details:
            return self.ok([])
        inst = okx_inst(asset)
        return self.ok(
            [
                {
                    "instFamily": family,
                    "instId": inst,
                    "instType": "SWAP",
                    "uly": family,
                    "totalLoss": "",
                    "details": details,
                }
            ]
        )

    def newest_liquidations(self, asset: str, lo: int, hi: int, limit: int) -> list[dict[str, str]]:
        details: list[dict[str, str]] = []
        day = (hi - ORIGIN_MS) // DAY_MS
        while len(details) < limit and day >= 0 and ORIGIN_MS + (day + 1) * DAY_MS > lo:
            events = self.ctx.liquidations("okx", asset, day).window(lo, hi + 1)
            newest = range(len(events) - 1, max(len(events) - 1 - (limit - len(details)), -1), -1)
            details += [self.detail(events, i) for i in newest]
            day -= 1
        return details

    @staticmethod
    def detail(events: Events, i: int) -> dict[str, str]:
        long = events.side[i] == 0
        pos_side = ("long" if long else "short") if events.hedge[i] else "net"
        return {
            "bkLoss": "0",
            "bkPx": trimmed(events.price[i], SPECS[events.asset].price_decimals),
            "ccy": "",
            "posSide": pos_side,
            "side": "sell" if long else "buy",
            "sz": contracts_text(events.size[i]),
            "ts": str(int(events.time_ms[i])),
        }

    # --- reference data and history -----------------------------------------------------------
    def instruments(self, req: Request) -> Response:
        p = self.params(req)
        inst_type = p.choice("instType", ("SPOT", "MARGIN", "SWAP", "FUTURES", "OPTION"), required=True)
        family, only = p.text("instFamily") or p.text("uly"), p.text("instId")
        if inst_type != "SWAP":
            return self.ok([])
        return self.ok(
            [self._instrument(a) for a in ASSETS if family in (None, f"{a}-USDT") and only in (None, okx_inst(a))]
        )

    @staticmethod
    def _instrument(asset: str) -> dict[str, str]:
        spec = SPECS[asset]
        return {
            "instType": "SWAP",
            "instId": okx_inst(asset),
            "uly": f"{asset}-USDT",
            "instFamily": f"{asset}-USDT",
            "baseCcy": "",
            "quoteCcy": "",
            "settleCcy": "USDT",
            "ctVal": trimmed(spec.okx_ct_val, 8),
            "ctMult": "1",
            "ctValCcy": asset,
            "ctType": "linear",
            "lotSz": trimmed(OKX_LOT, 8),
            "minSz": trimmed(OKX_LOT, 8),
            "tickSz": trimmed(spec.tick, 8),
            "lever": LEVERAGE[asset],
            "listTime": LIST_TIME[asset],
            "expTime": "",
            "state": "live",
        }

    def funding_history(self, req: Request) -> Response:
        p = self.params(req)
        asset = self.inst(p)
        limit = p.integer("limit", 100, lo=1, hi=400) or 100
        lo, hi = self.cursor_range(p, "before", "after")
        times, rates = self.ctx.market.settled(VENUE, asset, lo, hi)
        times, rates = newest_first(times, limit), newest_first(rates, limit)
        inst = okx_inst(ASSETS[asset])
        return self.ok(
            [
                {
                    "instType": "SWAP",
                    "instId": inst,
                    "formulaType": "noRate",
                    "fundingRate": fixed(r, 16),
                    "realizedRate": fixed(r, 16),
                    "fundingTime": str(int(t)),
                    "method": "current_period",
                }
                for t, r in zip(times, rates, strict=True)
            ]
        )

    def rubik_points(self, req: Request) -> tuple[int, np.ndarray, int]:
        """(asset, period starts newest first, period length in ms) of a per-instrument rubik request."""
        p = self.params(req)
        asset = self.inst(p)
        minutes, offset = OI_PERIODS[p.choice("period", OI_PERIODS, "5m") or "5m"]
        limit = p.integer("limit", 100, lo=1, hi=100) or 100
        lo, hi = self.cursor_range(p, "begin", "end")
        period = minutes * MINUTE_MS
        return asset, newest_first(aligned(lo, hi, period, ORIGIN_MS, hi, offset), limit), period

    def ratio_series(self, measure: str) -> Callable[[Request], Response]:
        """``[ts, ratio]`` rows of one of the market's positioning measures."""

        def respond(req: Request) -> Response:
            asset, times, _ = self.rubik_points(req)
            ratios = self.ctx.market.long_short(VENUE, asset, times)[measure]
            return self.ok([[str(int(t)), fixed(float(r), 2)] for t, r in zip(times, ratios, strict=True)])

        return respond

    def taker_volume(self, req: Request) -> Response:
        """``[ts, sellVol, buyVol]``: the period's traded volume and taker buys as the candles
        have them, in coins (unit 0), contracts (1) or USD (2)."""
        unit = self.params(req).choice("unit", TAKER_UNITS, "0") or "0"
        asset, times, period = self.rubik_points(req)
        times = times[times <= self.ctx.until_ms - STEP_MS]  # periods with a finished step
        if not times.size:
            return self.ok([])
        ascending = bars(self.ctx.market, VENUE, asset, times[::-1], period, self.ctx.until_ms)
        if unit == "2":
            volume, buys = ascending.volume_usd, ascending.taker_buy_usd
        else:
            per_unit = SPECS[ASSETS[asset]].okx_ct_val if unit == "1" else 1.0
            volume, buys = ascending.volume_coins / per_unit, ascending.taker_buy_coins / per_unit
        rows = zip(ascending.open_ms.tolist(), (volume - buys).tolist(), buys.tolist(), strict=True)
        return self.ok([[str(t), fixed(sell, 2), fixed(buy, 2)] for t, sell, buy in reversed(list(rows))])

    def open_interest_history(self, req: Request) -> Response:
        asset, times, _ = self.rubik_points(req)
        coins, usd = self.ctx.market.open_interest(VENUE, asset, times)
        ct_val = SPECS[ASSETS[asset]].okx_ct_val
        contracts = np.round(coins / ct_val, 2)
        ccy_decimals = 2 + decimals_of(ct_val)
        return self.ok(
            [
                [str(int(t)), fixed(c, 2), trimmed(c * ct_val, ccy_decimals), fixed(u, 2)]
                for t, c, u in zip(times, contracts, usd, strict=True)
            ]
        )

    def candles(self, req: Request, max_limit: int) -> Response:
        p = self.params(req)
        asset = self.inst(p)
        bar = p.text("bar", "1m") or "1m"
        if bar not in BARS:
            raise self.fail("51000", "Parameter bar error")
        minutes, offset = BARS[bar]
        limit = p.integer("limit", 100, lo=1, hi=max_limit) or 100
        lo, hi = self.cursor_range(p, "before", "after")
        step = minutes * MINUTE_MS
        opens = newest_first(candle_opens(lo, hi, step, self.ctx.until_ms, offset), limit)
        if not opens.size:
            return self.ok([])
        b = bars(self.ctx.market, VENUE, asset, opens[::-1], step, self.ctx.until_ms)
        spec = SPECS[ASSETS[asset]]
        px = spec.price_decimals
        contracts = b.volume_coins / spec.okx_ct_val
        return self.ok(
            [
                [
                    str(int(b.open_ms[i])),
                    trimmed(b.open[i], px),
                    trimmed(b.high[i], px),
                    trimmed(b.low[i], px),
                    trimmed(b.close[i], px),
                    contracts_text(contracts[i]),
                    trimmed(b.volume_coins[i], 6),
                    trimmed(b.volume_usd[i], 2),
                    "1" if b.complete[i] else "0",
                ]
                for i in reversed(range(len(b)))
            ]
        )
