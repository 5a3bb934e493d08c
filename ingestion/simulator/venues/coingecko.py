"""CoinGecko API v3 (api.coingecko.com/api/v3): markets snapshot, market-chart history, global."""

from __future__ import annotations

import re
from datetime import UTC, datetime
from typing import Any

import numpy as np

from ingestion.simulator.bars import aligned
from ingestion.simulator.coins import COIN_INDEX, COINS, Coin, Universe, supply_of
from ingestion.simulator.timegrid import DAY_MS, HOUR_MS, ORIGIN_MS
from ingestion.simulator.venues.base import SimContext, VenueApp
from ingestion.simulator.wire import Params, Reply, Request, Response, iso_utc, json_response, significant

CHART = re.compile(r"^/coins/([^/]+)/market_chart(/range)?$")
RATE_LIMIT_MESSAGE = (
    "You've exceeded the Rate Limit. Please visit https://www.coingecko.com/en/api/pricing "
    "to subscribe to our API plans for higher rate limits."
)
HOURLY_SPAN_MS = 90 * DAY_MS  # longer windows come back as daily points stamped 00:00 UTC
UNIVERSE_SHARE = 0.93  # of the total market our ~70 coins stand for
CHANGE_WINDOWS = {
    "1h": HOUR_MS,
    "24h": DAY_MS,
    "7d": 7 * DAY_MS,
    "14d": 14 * DAY_MS,
    "30d": 30 * DAY_MS,
    "200d": 200 * DAY_MS,
    "1y": 365 * DAY_MS,
}
ORDERS = ("market_cap_desc", "market_cap_asc", "volume_desc", "volume_asc", "id_asc", "id_desc")


def parse_time_ms(text: str) -> int:
    """UNIX seconds, or an ISO date / date-time (newer API versions accept both)."""
    try:
        return int(float(text) * 1000)
    except ValueError:
        moment = datetime.fromisoformat(text)
        return int(moment.replace(tzinfo=moment.tzinfo or UTC).timestamp() * 1000)


class CoinGecko(VenueApp):
    source = "coingecko"

    def __init__(self, ctx: SimContext) -> None:
        super().__init__(ctx)
        self.routes = {
            ("GET", "/coins/markets"): self.markets,
            ("GET", "/global"): self.global_,
            ("GET", "/ping"): lambda req: json_response({"gecko_says": "(V3) To the Moon!"}),
        }

    def handle(self, req: Request) -> Response:
        match = CHART.match(req.path)
        if req.method == "GET" and match:
            try:
                return self.market_chart(req, match.group(1), bool(match.group(2)))
            except Reply as reply:
                return reply.response
        return super().handle(req)

    # --- venue conventions --------------------------------------------------------------
    def invalid(self, name: str, missing: bool) -> Response:
        return json_response({"error": f"{'Missing' if missing else 'invalid'} parameter {name}"}, 400)

    def not_found(self, req: Request) -> Response:
        return json_response({"error": "Not Found"}, 404)

    def rate_limited(self) -> Response:
        return json_response({"status": {"error_code": 429, "error_message": RATE_LIMIT_MESSAGE}}, 429)

    def server_error(self) -> Response:
        return json_response({"status": {"error_code": 500, "error_message": "Internal Server Error"}}, 500)

    def window_start_ms(self, req: Request) -> int | None:
        start = req.query.get("from")
        return None if start in (None, "") else parse_time_ms(start)

    def time_param(self, p: Params, name: str) -> int:
        raw = p.text(name, required=True) or ""
        try:
            return parse_time_ms(raw)
        except ValueError:
            raise Reply(self.invalid(name, False)) from None

    def currency(self, p: Params) -> None:
        if (p.text("vs_currency", required=True) or "").lower() != "usd":
            raise Reply(json_response({"error": "invalid vs_currency"}, 400))

    @property
    def universe(self) -> Universe:
        return self.ctx.universe

    # --- history ------------------------------------------------------------------------
    def market_chart(self, req: Request, coin_id: str, ranged: bool) -> Response:
        if coin_id not in COIN_INDEX:
            return json_response({"error": "coin not found"}, 404)
        p = self.params(req)
        self.currency(p)
        until = self.ctx.until_ms
        if ranged:
            start, end = self.time_param(p, "from"), self.time_param(p, "to")
        else:
            days = p.text("days", required=True) or "1"
            end = until
            start = ORIGIN_MS if days == "max" else end - int(float(days) * DAY_MS)
        return json_response(self.chart(coin_id, start, end))

    def chart(self, coin_id: str, start: int, end: int) -> dict[str, list[list[float]]]:
        until = self.ctx.until_ms
        daily = end - start > HOURLY_SPAN_MS
        times = aligned(start, end, DAY_MS if daily else HOUR_MS, ORIGIN_MS, until)
        if daily and end >= until > (times[-1] if times.size else start - 1) and until >= start:
            times = np.append(times, until)  # the last daily point is the live value
        index = COIN_INDEX[coin_id]
        price = self.universe.price_at(index, times)
        caps = price * supply_of(COINS[index], times)
        volume = self.universe.volume_at(index, times)
        return {
            "prices": [[int(t), significant(v, 10)] for t, v in zip(times, price, strict=True)],
            "market_caps": [[int(t), round(float(v), 1)] for t, v in zip(times, caps, strict=True)],
            "total_volumes": [[int(t), round(float(v), 1)] for t, v in zip(times, volume, strict=True)],
        }

    # --- snapshots ----------------------------------------------------------------------
    def snapshot(self) -> dict[str, np.ndarray]:
        """Price, market cap and volume of every coin now and 24 h ago."""
        now = self.ctx.until_ms
        times = np.array([now, now - DAY_MS])
        u = self.universe
        price = np.array([u.price_at(i, times) for i in range(len(COINS))])
        supply = np.array([supply_of(c, times) for c in COINS])
        volume = np.array([u.volume_at(i, times[:1])[0] for i in range(len(COINS))])
        return {
            "price": price[:, 0],
            "price_24h": price[:, 1],
            "cap": price[:, 0] * supply[:, 0],
            "cap_24h": price[:, 1] * supply[:, 1],
            "volume": volume,
        }

    def markets(self, req: Request) -> Response:
        p = self.params(req)
        self.currency(p)
        order = p.choice("order", ORDERS, "market_cap_desc") or "market_cap_desc"
        per_page = p.integer("per_page", 100, lo=1, hi=250) or 100
        page = p.integer("page", 1, lo=1) or 1
        ids = [i for i in (p.text("ids") or "").split(",") if i]
        changes = [c for c in (p.text("price_change_percentage") or "").split(",") if c in CHANGE_WINDOWS]
        snap = self.snapshot()
        ranks = np.empty(len(COINS), dtype=int)
        ranks[np.argsort(-snap["cap"], kind="stable")] = np.arange(1, len(COINS) + 1)
        chosen = [i for i in range(len(COINS)) if not ids or COINS[i].id in ids]
        chosen.sort(key=self.sort_key(order, snap), reverse=order.endswith("_desc"))
        rows = [
            self.market_row(i, snap, int(ranks[i]), changes, p.flag("sparkline"))
            for i in chosen[(page - 1) * per_page : page * per_page]
        ]
        return json_response(rows)

    @staticmethod
    def sort_key(order: str, snap: dict[str, np.ndarray]) -> Any:
        if order.startswith("id"):
            return lambda i: COINS[i].id
        column = snap["volume"] if order.startswith("volume") else snap["cap"]
        return lambda i: float(column[i])

    def market_row(
        self, i: int, snap: dict[str, np.ndarray], rank: int, changes: list[str], sparkline: bool
    ) -> dict[str, Any]:
        coin, now, u = COINS[i], self.ctx.until_ms, self.universe
        price, price_24h = float(snap["price"][i]), float(snap["price_24h"][i])
        cap, cap_24h = float(snap["cap"][i]), float(snap["cap_24h"][i])
        day = np.append(u.price_at(i, np.arange(now - DAY_MS + HOUR_MS, now, HOUR_MS)), price)
        supply = float(supply_of(coin, np.array([now]))[0])
        ath, ath_date, atl, atl_date = self.extremes(coin, i, price)
        row: dict[str, Any] = {
            "id": coin.id,
            "symbol": coin.symbol,
            "name": coin.name,
            "image": f"https://coin-images.coingecko.com/coins/images/{coin.image}/large/{coin.symbol}.png",
            "current_price": significant(price, 8),
            "market_cap": round(cap),
            "market_cap_rank": rank,
            "fully_diluted_valuation": round(price * (coin.max_supply or supply)),
            "total_volume": round(float(snap["volume"][i])),
            "high_24h": significant(float(day.max()), 8),
            "low_24h": significant(float(day.min()), 8),
            "price_change_24h": significant(price - price_24h, 8),
            "price_change_percentage_24h": round(100 * (price / price_24h - 1), 5),
            "market_cap_change_24h": round(cap - cap_24h, 1),
            "market_cap_change_percentage_24h": round(100 * (cap / cap_24h - 1), 5),
            "circulating_supply": round(supply, 1),
            "total_supply": round(supply, 1),
            "max_supply": coin.max_supply,
            "ath": significant(ath, 8),
            "ath_change_percentage": round(100 * (price / ath - 1), 5),
            "ath_date": ath_date,
            "atl": significant(atl, 8),
            "atl_change_percentage": round(100 * (price / atl - 1), 5),
            "atl_date": atl_date,
            "roi": None,
            "last_updated": iso_utc(now - 37_000),
        }
        if sparkline:
            week = u.price_at(i, np.arange(now - 7 * DAY_MS, now, HOUR_MS))
            row["sparkline_in_7d"] = {"price": [significant(float(v), 8) for v in week]}
        for window in changes:
            before = float(u.price_at(i, np.array([now - CHANGE_WINDOWS[window]]))[0])
            row[f"price_change_percentage_{window}_in_currency"] = round(100 * (price / before - 1), 5)
        return row

    def extremes(self, coin: Coin, i: int, price: float) -> tuple[float, str, float, str]:
        """All-time high/low: the pre-simulation record, unless the simulated path has beaten it."""
        hours = self.universe.price[: (self.ctx.until_ms - ORIGIN_MS) // HOUR_MS + 1, i]
        ath, ath_date = coin.ath or price * 3, coin.ath_date
        atl, atl_date = coin.atl or price / 40, coin.atl_date
        if hours.size and hours.max() > ath:
            top = int(hours.argmax())
            ath, ath_date = float(hours[top]), iso_utc(ORIGIN_MS + top * HOUR_MS)
        if hours.size and hours.min() < atl:
            bottom = int(hours.argmin())
            atl, atl_date = float(hours[bottom]), iso_utc(ORIGIN_MS + bottom * HOUR_MS)
        return ath, ath_date, atl, atl_date

    def global_(self, req: Request) -> Response:
        snap = self.snapshot()
        total, total_24h = snap["cap"].sum() / UNIVERSE_SHARE, snap["cap_24h"].sum() / UNIVERSE_SHARE
        volume = snap["volume"].sum() / UNIVERSE_SHARE
        btc, eth = snap["price"][COIN_INDEX["bitcoin"]], snap["price"][COIN_INDEX["ethereum"]]
        top = np.argsort(-snap["cap"], kind="stable")[:10]
        return json_response(
            {
                "data": {
                    "active_cryptocurrencies": 17423,
                    "upcoming_icos": 0,
                    "ongoing_icos": 49,
                    "ended_icos": 3376,
                    "markets": 1297,
                    "total_market_cap": {
                        "btc": round(total / btc, 4),
                        "eth": round(total / eth, 4),
                        "usd": round(total, 1),
                    },
                    "total_volume": {
                        "btc": round(volume / btc, 4),
                        "eth": round(volume / eth, 4),
                        "usd": round(volume, 1),
                    },
                    "market_cap_percentage": {COINS[i].symbol: round(100 * snap["cap"][i] / total, 6) for i in top},
                    "market_cap_change_percentage_24h_usd": round(100 * (total / total_24h - 1), 6),
                    "updated_at": self.ctx.until_ms // 1000,
                }
            }
        )
