"""Gate futures v4 (api.gateio.ws/api/v4): contract statistics with historical long/short
liquidations, funding history and candles of the USDT perpetuals."""

from __future__ import annotations

import re
from typing import Any

import numpy as np

from ingestion.simulator.bars import aligned, bars, candle_opens
from ingestion.simulator.catalog import ASSET_INDEX, ASSETS, EXCHANGE_INDEX, SPECS, gate_contract
from ingestion.simulator.events import bucket_sums
from ingestion.simulator.market import FUNDING_HOURS
from ingestion.simulator.timegrid import DAY_MS, MINUTE_MS, ORIGIN_MS, ms_to_day
from ingestion.simulator.venues.base import FAULT_ASSET, SimContext, VenueApp, first_int, interval_minutes, newest_first
from ingestion.simulator.wire import Params, Reply, Request, Response, json_response, trimmed

VENUE = EXCHANGE_INDEX["gate"]
INTERVALS = interval_minutes("5m", "15m", "30m", "1h", "4h", "1d")
CANDLE_INTERVALS = {**INTERVALS, "8h": 480}  # 1m/10s/7d are not simulated
CONTRACT = re.compile(r"^/futures/usdt/contracts/([A-Z]+_USDT)$")


def label(name: str, message: str, status: int = 400) -> Response:
    return json_response({"label": name, "message": message}, status)


class Gate(VenueApp):
    source = "gate"

    def __init__(self, ctx: SimContext) -> None:
        super().__init__(ctx)
        self.routes = {
            ("GET", "/futures/usdt/contract_stats"): self.contract_stats,
            ("GET", "/futures/usdt/funding_rate"): self.funding_rate,
            ("GET", "/futures/usdt/candlesticks"): self.candlesticks,
            ("GET", "/futures/usdt/contracts"): lambda req: json_response([self.contract(a) for a in ASSETS]),
        }

    def handle(self, req: Request) -> Response:
        match = CONTRACT.match(req.path)
        if req.method == "GET" and match:
            asset = match.group(1).removesuffix("_USDT")
            if asset not in ASSET_INDEX:
                return label("CONTRACT_NOT_FOUND", "Contract not found", 404)
            return json_response(self.contract(asset))
        return super().handle(req)

    def invalid(self, name: str, missing: bool) -> Response:
        kind = "MISSING_REQUIRED_PARAM" if missing else "INVALID_PARAM_VALUE"
        return label(kind, f"Invalid request parameter `{name}`")

    def rate_limited(self) -> Response:
        return label("TOO_MANY_REQUESTS", "Request Rate Limit Exceeded", 429)

    def server_error(self) -> Response:
        return label("SERVER_ERROR", "Internal server error", 500)

    def window_start_ms(self, req: Request) -> int | None:
        return first_int(req, "from", "to", scale=1000)

    def asset(self, p: Params) -> int:
        contract = p.text("contract", required=True) or ""
        asset = contract.removesuffix("_USDT")
        if asset not in ASSET_INDEX or gate_contract(asset) != contract:
            raise Reply(label("CONTRACT_NOT_FOUND", "Contract not found"))
        return ASSET_INDEX[asset]

    def contract(self, asset: str) -> dict[str, Any]:
        spec = SPECS[asset]
        mark = self.ctx.market.price_at(ASSET_INDEX[asset], np.array([self.ctx.until_ms]))[0]
        return {
            "name": gate_contract(asset),
            "type": "direct",
            "quanto_multiplier": trimmed(spec.gate_quanto, 10),
            "mark_price": trimmed(mark, spec.price_decimals),
            "order_price_round": trimmed(spec.tick, 10),
            "funding_interval": FUNDING_HOURS * 3600,
            "settle_currency": "usdt",
            "in_delisting": False,
        }

    # --- contract statistics ------------------------------------------------------------
    def contract_stats(self, req: Request) -> Response:
        p = self.params(req)
        asset = self.asset(p)
        interval = INTERVALS[p.choice("interval", INTERVALS, "5m") or "5m"] * MINUTE_MS
        limit = p.integer("limit", 30, lo=1, hi=2000) or 30
        start = p.integer("from")
        last_full = self.ctx.until_ms - interval  # only finished buckets
        if start is None:
            starts = aligned(ORIGIN_MS, last_full, interval, ORIGIN_MS, last_full)[-limit:]
        else:
            starts = aligned(start * 1000, last_full, interval, ORIGIN_MS, last_full)[:limit]
        if not starts.size:
            return json_response([])
        return json_response(self.with_fault(self.stats(asset, starts, interval), asset, int(starts[0])))

    def stats(self, asset: int, starts: np.ndarray, interval: int) -> list[dict[str, Any]]:
        market, coin = self.ctx.market, ASSETS[asset]
        quanto = SPECS[coin].gate_quanto
        events = self.ctx.events.span(VENUE, asset, int(starts[0]), int(starts[-1]) + interval)
        usd = bucket_sums(events, int(starts[0]), interval, starts.size, usd=True)
        coins = bucket_sums(events, int(starts[0]), interval, starts.size, usd=False)
        oi_coins, oi_usd = market.open_interest(VENUE, asset, starts)
        mark = market.price_at(asset, starts) * market.basis_at(VENUE, starts)
        ratios = market.long_short(VENUE, asset, starts)
        decimals = SPECS[coin].price_decimals
        return [
            {
                "time": t // 1000,
                "lsr_taker": round(taker, 4),
                "lsr_account": round(account, 4),
                "long_liq_size": round(lc / quanto),
                "long_liq_amount": round(lc, 6),
                "long_liq_usd": round(lu, 4),
                "short_liq_size": round(sc / quanto),
                "short_liq_amount": round(sc, 6),
                "short_liq_usd": round(su, 4),
                "open_interest": round(oc / quanto),
                "open_interest_usd": round(ou, 4),
                "top_lsr_account": round(top_account, 4),
                "top_lsr_size": round(top_position, 4),
                "mark_price": round(m, decimals),
            }
            # plain Python numbers (tolist): rounding numpy scalars one by one costs several times more
            for t, taker, account, top_account, top_position, (lc, sc), (lu, su), oc, ou, m in zip(
                starts.tolist(),
                *(ratios[k].tolist() for k in ("taker", "account", "top_account", "top_position")),
                coins.tolist(),
                usd.tolist(),
                oi_coins.tolist(),
                oi_usd.tolist(),
                mark.tolist(),
                strict=True,
            )
        ]

    def with_fault(self, rows: list[dict[str, Any]], asset: int, start_ms: int) -> list[dict[str, Any]]:
        """The day's data faults hit one bucket with liquidations on the window's first day."""
        if ASSETS[asset] != FAULT_ASSET:
            return rows
        day_end = (start_ms - ORIGIN_MS) // DAY_MS * DAY_MS + ORIGIN_MS + DAY_MS
        hit = [i for i, r in enumerate(rows) if r["time"] * 1000 < day_end and r["long_liq_usd"] > 0]
        for kind in self.ctx.faults.data_faults(self.source, ms_to_day(start_ms)):
            if not hit:
                break
            i = hit[len(hit) // 2]
            if kind == "duplicate_event":
                rows = rows[: i + 1] + [dict(rows[i])] + rows[i + 1 :]
            elif kind == "negative_size":
                rows = rows[:i] + [{**rows[i], "long_liq_usd": -rows[i]["long_liq_usd"]}] + rows[i + 1 :]
        return rows

    # --- funding and candles ------------------------------------------------------------
    def funding_rate(self, req: Request) -> Response:
        p = self.params(req)
        asset = self.asset(p)
        limit = p.integer("limit", 100, lo=1, hi=1000) or 100
        start, end = p.integer("from"), p.integer("to")
        lo = ORIGIN_MS if start is None else start * 1000
        hi = self.ctx.until_ms if end is None else min(end * 1000, self.ctx.until_ms)
        times, rates = self.ctx.market.settled(VENUE, asset, lo, hi)
        times, rates = newest_first(times, limit), newest_first(rates, limit)
        return json_response([{"t": int(t) // 1000, "r": trimmed(r, 8)} for t, r in zip(times, rates, strict=True)])

    def candlesticks(self, req: Request) -> Response:
        p = self.params(req)
        asset = self.asset(p)
        step = CANDLE_INTERVALS[p.choice("interval", CANDLE_INTERVALS, "5m") or "5m"] * MINUTE_MS
        start, end, limit = p.integer("from"), p.integer("to"), p.integer("limit", lo=1, hi=2000)
        until = self.ctx.until_ms
        if start is not None and end is not None:  # an explicit range: all of it, or an error
            if limit is not None:
                raise Reply(label("INVALID_PARAM_VALUE", "limit cannot be used together with from and to"))
            opens = candle_opens(start * 1000, end * 1000, step, until)
            if opens.size > 2000:
                raise Reply(label("INVALID_PARAM_VALUE", "Too many points requested"))
        elif start is not None:
            opens = candle_opens(start * 1000, until, step, until)[: limit or 100]
        else:
            opens = candle_opens(ORIGIN_MS, until if end is None else end * 1000, step, until)[-(limit or 100) :]
        if not opens.size:
            return json_response([])
        b = bars(self.ctx.market, VENUE, asset, opens, step, until)
        spec = SPECS[ASSETS[asset]]
        px = spec.price_decimals
        return json_response(
            [
                {
                    "t": int(b.open_ms[i]) // 1000,
                    "v": round(float(b.volume_coins[i]) / spec.gate_quanto),
                    "c": trimmed(b.close[i], px),
                    "h": trimmed(b.high[i], px),
                    "l": trimmed(b.low[i], px),
                    "o": trimmed(b.open[i], px),
                    "sum": trimmed(b.volume_usd[i], 4),
                }
                for i in range(len(b))
            ]
        )
