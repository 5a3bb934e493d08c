"""The market model: every series the venues serve, precomputed once from a fixed origin.

All randomness here comes from one generator seeded with ``seed`` and consumed in a fixed order,
so a given moment has the same value whatever window is later requested. Per-event detail
(individual liquidations) is drawn later, per day, in :mod:`ingestion.simulator.events`.
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np

from ingestion.simulator import book, story
from ingestion.simulator.catalog import ASSETS, EXCHANGES
from ingestion.simulator.streams import Streams
from ingestion.simulator.timegrid import (
    HORIZON_MS,
    HOUR_MS,
    N_HOURS,
    N_STEPS,
    ORIGIN_MS,
    PAST_HOURS,
    PAST_STEPS,
    STEP_MS,
    STEPS_PER_DAY,
    STEPS_PER_HOUR,
    parse_ts,
)

N_ASSETS = len(ASSETS)
N_VENUES = len(EXCHANGES)
LONG, SHORT = 0, 1
FUNDING_HOURS = 8  # settlement interval of every venue except Hyperliquid (hourly)

# Per 5-minute step, before regime multipliers: roughly 45/65/80/80/85 % annualised.
BASE_VOL = np.array([0.00139, 0.0020, 0.00247, 0.00247, 0.0026])
BTC_LOADING = np.array([1.0, 0.85, 0.75, 0.70, 0.72])  # correlation of each asset with the common factor
LIQ_ASSET_SHARE = np.array([0.38, 0.30, 0.14, 0.10, 0.08])
FUNDING_ASSET_MULT = np.array([1.0, 1.1, 1.3, 1.2, 1.3])
VOLUME_USD_PER_DAY = np.array([12e9, 8e9, 2.5e9, 1.6e9, 1.1e9])  # Binance-sized perp volume
TRADE_SIZE_USD = np.array([6000.0, 4000.0, 2000.0, 1500.0, 1200.0])
OI_PRICE_ELASTICITY = 0.2  # OI in USD follows price only partly: traders resize positions
Z_CAP = 8.0  # beyond this a move liquidates no more per unit of move: the book is already cleared
BACKGROUND_SHARE = 0.15  # of an ordinary day's liquidations: accounts outside the position book
ORDINARY_DAYS = 120  # June-September 2025 sets the yardstick of an ordinary day, for every year
ORDINARY_HOURS = slice(PAST_HOURS, PAST_HOURS + ORDINARY_DAYS * 24)


@dataclass(frozen=True)
class Venue:
    daily_liq_usd: float  # liquidations on an ordinary day, all tracked assets, both sides
    mean_event_usd: float
    price_offset: tuple[float, float]  # how far the recorded price sits beyond the market price
    volume_share: float  # of VOLUME_USD_PER_DAY
    oi_usd: tuple[float, float, float, float, float]  # open interest at the origin, per asset
    funding_mult: float


VENUES: dict[str, Venue] = {
    "binance": Venue(60e6, 100e3, (0.0, 0.001), 1.0, (8.2e9, 5.6e9, 1.8e9, 1.2e9, 0.9e9), 1.0),
    "bybit": Venue(55e6, 90e3, (0.001, 0.006), 0.55, (5.6e9, 3.4e9, 1.2e9, 0.8e9, 0.5e9), 1.05),
    "okx": Venue(42e6, 80e3, (0.001, 0.006), 0.4, (3.1e9, 1.9e9, 0.55e9, 0.32e9, 0.25e9), 0.95),
    "hyperliquid": Venue(55e6, 120e3, (0.0, 0.001), 0.35, (4.6e9, 2.5e9, 0.8e9, 0.4e9, 0.3e9), 1.15),
    "gate": Venue(16e6, 40e3, (0.0, 0.001), 0.25, (2.4e9, 1.1e9, 0.35e9, 0.22e9, 0.15e9), 1.0),
}
VENUE_LIST: tuple[Venue, ...] = tuple(VENUES[e] for e in EXCHANGES)


def lerp(series: np.ndarray, times_ms: np.ndarray, period_ms: int) -> np.ndarray:
    """Linear interpolation in a series sampled every ``period_ms`` from the origin (index
    arithmetic: np.interp would copy the whole time axis on every call)."""
    offset = np.clip(np.asarray(times_ms, dtype=np.int64) - ORIGIN_MS, 0, (series.shape[0] - 1) * period_ms - 1)
    index = offset // period_ms
    frac = (offset - index * period_ms) / period_ms
    return series[index] + (series[index + 1] - series[index]) * frac


def knots(table: tuple[tuple[str, object], ...]) -> tuple[np.ndarray, np.ndarray]:
    times = np.array([parse_ts(t) for t, _ in table], dtype=np.float64)
    values = np.array([v for _, v in table], dtype=np.float64)
    return times, values


def interp_knots(table: tuple[tuple[str, object], ...], times_ms: np.ndarray) -> np.ndarray:
    """Piecewise-linear story curve at ``times_ms``; columns for tuple-valued knots."""
    kt, kv = knots(table)
    if kv.ndim == 1:
        return np.interp(times_ms, kt, kv)
    return np.stack([np.interp(times_ms, kt, kv[:, j]) for j in range(kv.shape[1])], axis=-1)


class Market:
    """Precomputed series on the 5-minute grid (prices, volume, liquidation intensity, DVOL) and
    the hourly grid (open interest, funding, venue basis, liquidation USD targets)."""

    def __init__(self, seed: int) -> None:
        self.seed = seed
        rng = Streams([seed, 20250601])
        self.step_times = ORIGIN_MS + STEP_MS * np.arange(N_STEPS + 1, dtype=np.int64)
        self.hour_times = ORIGIN_MS + HOUR_MS * np.arange(N_HOURS + 1, dtype=np.int64)
        mid_steps = self.step_times[:-1] + STEP_MS // 2
        step_vol, z = self._returns(rng, mid_steps)
        self.price = self._bridge(step_vol * z)
        self.high5, self.low5 = self._intrastep_range(rng, step_vol)
        self.norm_move = np.diff(np.log(self.price), axis=0) / BASE_VOL  # moves in "ordinary" sigmas
        self.volume5 = self._volume(rng)
        self.basis = np.exp(0.00015 * rng.ar1((N_HOURS, N_VENUES), PAST_HOURS, 0.9))
        self.oi_log = self._open_interest(rng)
        self.funding8 = self._funding(rng)
        self.settled8 = self.funding8.reshape(-1, FUNDING_HOURS, N_VENUES, N_ASSETS).mean(axis=1)
        self.dvol = self._dvol(rng)
        self.liq_shape, self.liq_target = self._liquidations()
        self.exact_hour = self._episodes(self.liq_target)

    # --- prices -------------------------------------------------------------------------
    def _returns(self, rng: Streams, mid_steps: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
        """Correlated, fat-tailed unit shocks and the volatility that scales them per step."""
        common = rng.normal((N_STEPS,), PAST_STEPS)
        idio = rng.normal((N_STEPS, N_ASSETS), PAST_STEPS)
        z = BTC_LOADING * common[:, None] + np.sqrt(1 - BTC_LOADING**2) * idio
        chi2 = rng.draw(lambda r, size: r.chisquare(5, size), (N_STEPS,), PAST_STEPS)
        z *= np.sqrt(3.0 / chi2)[:, None]  # Student-t(5) tails, unit variance
        clustering = np.exp(0.3 * rng.ar1((N_HOURS,), PAST_HOURS, 0.97))
        regime = interp_knots(story.VOL_REGIME, mid_steps)
        step_vol = BASE_VOL * (regime * np.repeat(clustering, STEPS_PER_HOUR))[:, None]
        return step_vol, z

    @staticmethod
    def _bridge(increments: np.ndarray) -> np.ndarray:
        """Pins the random walk to the story's anchors with a Brownian bridge per segment; the
        past and the present walk apart (both hold the present's anchor), each from its start."""
        anchors = [((parse_ts(t) - ORIGIN_MS) // STEP_MS, np.log(np.array(p))) for t, p in story.PRICE_ANCHORS]
        parts = []
        for first, last in ((0, PAST_STEPS), (PAST_STEPS, N_STEPS)):
            walk = np.vstack([np.zeros(N_ASSETS), np.cumsum(increments[first:last], axis=0)])
            path = np.empty_like(walk)
            pins = [(k - first, log_price) for k, log_price in anchors if first <= k <= last]
            for (k0, l0), (k1, l1) in zip(pins, pins[1:], strict=False):
                frac = (np.arange(k0, k1 + 1) - k0)[:, None] / (k1 - k0)
                drift = walk[k1] - walk[k0] - (l1 - l0)
                path[k0 : k1 + 1] = l0 + walk[k0 : k1 + 1] - walk[k0] - frac * drift
            k_last, l_last = pins[-1]
            path[k_last:] = l_last + walk[k_last:] - walk[k_last]
            parts.append(path)
        return np.exp(np.vstack([parts[0][:-1], parts[1]]))

    def _intrastep_range(self, rng: Streams, step_vol: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
        """High and low inside each step: the endpoints plus a short exponential wick."""
        reach = (0.3 * step_vol).astype(np.float32)

        def wick(r: np.random.Generator, size: tuple[int, ...]) -> np.ndarray:
            return r.standard_exponential(size, dtype=np.float32)

        up = rng.draw(wick, step_vol.shape, PAST_STEPS) * reach
        down = rng.draw(wick, step_vol.shape, PAST_STEPS) * reach
        high = np.maximum(self.price[:-1], self.price[1:]) * (1.0 + up)
        low = np.minimum(self.price[:-1], self.price[1:]) * (1.0 - np.minimum(down, 0.5))
        return high, low

    def _volume(self, rng: Streams) -> np.ndarray:
        hour_of_day = (np.arange(N_STEPS) % STEPS_PER_DAY) / STEPS_PER_HOUR
        session = 0.8 + 0.5 * np.exp(-(((hour_of_day - 15.0) / 4.0) ** 2))  # US hours are busier
        activity = 0.55 + 0.45 * np.minimum(np.abs(self.norm_move), 20.0)
        noise = np.exp(0.25 * rng.normal((N_STEPS, N_ASSETS), PAST_STEPS, np.float32) - 0.03)
        return VOLUME_USD_PER_DAY / STEPS_PER_DAY * session[:, None] * activity * noise

    # --- hourly series ------------------------------------------------------------------
    def _open_interest(self, rng: Streams) -> np.ndarray:
        """Log open interest per hour point, venue and asset, relative to the venue's base."""
        level = interp_knots(story.OI_LEVEL, self.hour_times.astype(np.float64))
        per_asset = 0.05 * rng.ar1((N_HOURS + 1, N_ASSETS), PAST_HOURS, 1 - 1 / 150)
        per_venue = 0.03 * rng.ar1((N_HOURS + 1, N_VENUES, N_ASSETS), PAST_HOURS, 1 - 1 / 48)
        return level[:, None, None] + per_asset[:, None, :] + per_venue

    def _funding(self, rng: Streams) -> np.ndarray:
        """8-hour-equivalent funding prevailing during each hour, per venue and asset."""
        level = interp_knots(story.FUNDING_LEVEL, self.hour_times[:-1].astype(np.float64))
        hourly = np.log(self.price[::STEPS_PER_HOUR][: N_HOURS + 1])
        momentum = np.zeros((N_HOURS, N_ASSETS))
        momentum[24:] = hourly[24:-1] - hourly[:-25]
        momentum[PAST_HOURS : PAST_HOURS + 24] = 0.0  # the present's first day as it always was
        per_asset = 0.00003 * rng.ar1((N_HOURS, N_ASSETS), PAST_HOURS, 0.98)
        per_venue = 0.00001 * rng.ar1((N_HOURS, N_VENUES, N_ASSETS), PAST_HOURS, 0.9)
        base = level[:, None] * FUNDING_ASSET_MULT + 0.004 * np.clip(momentum, -0.1, 0.1) + per_asset
        venue_mult = np.array([v.funding_mult for v in VENUE_LIST])
        return np.clip(base[:, None, :] * venue_mult[None, :, None] + per_venue, -0.003, 0.003)

    def _dvol(self, rng: Streams) -> np.ndarray:
        level = interp_knots(story.DVOL_LEVEL, self.step_times.astype(np.float64))
        hourly_noise = 0.035 * rng.ar1((N_HOURS + 1, 2), PAST_HOURS, 0.97)
        noise = np.stack([np.interp(self.step_times, self.hour_times, hourly_noise[:, j]) for j in range(2)], axis=1)
        jitter = 0.004 * rng.normal((N_STEPS + 1, 2), PAST_STEPS, np.float32)  # index ticks within the hour
        return level * np.exp(noise + jitter)

    # --- liquidations -------------------------------------------------------------------
    def _liquidations(self) -> tuple[np.ndarray, np.ndarray]:
        """Liquidation intensity per step, asset and side (relative, for timing within an hour)
        and USD per hour, venue, asset and side: mostly the position book's, plus a background."""
        background = self._background_shape()
        background_hourly = background.reshape(N_HOURS, STEPS_PER_HOUR, N_ASSETS, 2).sum(axis=1, dtype=np.float64)
        daily = np.array([v.daily_liq_usd for v in VENUE_LIST])
        shape = np.empty_like(background)
        target = np.empty((N_HOURS, N_VENUES, N_ASSETS, 2))
        for asset in range(N_ASSETS):
            per_hour, per_step = self._book_liquidations(asset)
            usual = (1 - BACKGROUND_SHARE) * daily * LIQ_ASSET_SHARE[asset] * ORDINARY_DAYS
            levered = usual / per_hour[ORDINARY_HOURS].sum(axis=(0, 2))  # (venues,): the levered share of OI
            target[:, :, asset, :] = per_hour * levered[None, :, None] + (
                BACKGROUND_SHARE * daily[None, :, None] * LIQ_ASSET_SHARE[asset] * background_hourly[:, None, asset, :]
            )
            mean_levered = usual.sum() / per_hour[ORDINARY_HOURS].sum()
            shape[:, asset, :] = per_step * mean_levered + (
                BACKGROUND_SHARE * daily.sum() * LIQ_ASSET_SHARE[asset] * background[:, asset, :]
            )
        return shape, target

    def _book_liquidations(self, asset: int) -> tuple[np.ndarray, np.ndarray]:
        """(hours, venues, sides) and (steps, sides) USD liquidated from the asset's position book,
        before scaling to the venues' usual liquidation volume. The book starts afresh at the
        present (what is open then is its legacy), so the years before it leave it as it was."""
        coins = np.stack([self.open_interest(v, asset, self.hour_times)[0] for v in range(N_VENUES)], axis=1)
        long_share = self._levered_long_share(asset)
        parts = [
            self._book_part(asset, coins[first : last + 1], long_share[first:last], first)
            for first, last in ((0, PAST_HOURS), (PAST_HOURS, N_HOURS))
        ]
        return np.concatenate([p[0] for p in parts]), np.concatenate([p[1] for p in parts])

    def _book_part(
        self, asset: int, coins: np.ndarray, long_share: np.ndarray, first_hour: int
    ) -> tuple[np.ndarray, np.ndarray]:
        """The book from hour ``first_hour``: ``coins`` (hour points, venues) of open interest."""
        hours = coins.shape[0] - 1
        steps = slice(first_hour * STEPS_PER_HOUR, (first_hour + hours) * STEPS_PER_HOUR)
        start_price = self.price[steps.start, asset]
        entry = self.price[steps.start + STEPS_PER_HOUR : steps.stop + 1 : STEPS_PER_HOUR, asset]
        opened = (np.maximum(np.diff(coins, axis=0), 0.0) + book.CHURN_PER_HOUR * coins[:-1]) * entry[:, None]
        closed = book.CHURN_PER_HOUR + np.maximum(-np.diff(coins, axis=0), 0.0) / coins[:-1]
        log_keep = np.log(np.clip(1.0 - closed, 0.01, 1.0))
        legacy = coins[0] * start_price
        low = self.low5[steps, asset].reshape(hours, STEPS_PER_HOUR).astype(np.float64)
        high = self.high5[steps, asset].reshape(hours, STEPS_PER_HOUR).astype(np.float64)
        per_hour = np.empty((hours, N_VENUES, 2))
        per_step = np.empty((hours * STEPS_PER_HOUR, 2))
        for side, share, extreme, sign in ((LONG, long_share, low, 1.0), (SHORT, 1.0 - long_share, high, -1.0)):
            cohorts = book.opened_cohorts(entry, opened * share, asset, side == LONG, legacy * share[0], start_price)
            reachable = book.Cohorts(cohorts.first_hour, sign * cohorts.level, cohorts.usd)
            per_hour[:, :, side], per_step[:, side] = book.liquidated(reachable, sign * extreme, log_keep)
        return per_hour, per_step

    def _levered_long_share(self, asset: int) -> np.ndarray:
        """(hours, venues): the share of each hour's new leveraged positions held long: crowded
        accounts and the hour's last move (buyers chase a rise), not the account ratio alone."""
        account = np.clip(1.6 + 8000 * self.funding8[:, :, asset], 0.4, 4.5)
        flow = np.tanh(self.norm_move[STEPS_PER_HOUR - 1 :: STEPS_PER_HOUR, asset])
        return np.clip(0.5 + 0.8 * (account / (1 + account) - 0.5) + 0.1 * flow[:, None], 0.1, 0.9)

    def _background_shape(self) -> np.ndarray:
        """Liquidations the book does not hold (cross margin, positions older than the origin):
        longs on drops, shorts on rallies, scaled by open interest; one "day unit" per asset and
        ordinary day."""
        move = self.norm_move.astype(np.float32)
        down = np.clip(-move, 0.0, Z_CAP)
        up = np.clip(move, 0.0, Z_CAP)
        down *= np.sqrt(down)  # convex: a move twice as large liquidates ~3x as much
        up *= np.sqrt(up)
        bias = interp_knots(story.SIDE_BIAS, self.step_times[:-1].astype(np.float64)).astype(np.float32)
        oi_level = np.exp(self.oi_log[:-1].mean(axis=1)).astype(np.float32)
        oi_level = np.repeat(oi_level, STEPS_PER_HOUR, axis=0)
        shape = np.empty((N_STEPS, N_ASSETS, 2), dtype=np.float32)
        shape[:, :, LONG] = (0.3 + down) * bias[:, :1] * oi_level
        shape[:, :, SHORT] = (0.3 + up) * bias[:, 1:] * oi_level
        ordinary = slice(PAST_STEPS, PAST_STEPS + ORDINARY_DAYS * STEPS_PER_DAY)
        scale = shape[ordinary].sum(axis=2, dtype=np.float64).mean(axis=0) * STEPS_PER_DAY
        shape /= scale.astype(np.float32)[None, :, None]
        return shape

    @staticmethod
    def _episodes(target: np.ndarray) -> np.ndarray:
        """Scales the story's episode hours to their totals in place; which hours are exact."""
        exact = np.zeros(N_HOURS, dtype=bool)
        for episode in story.EPISODES:
            h0 = (parse_ts(episode.start) - ORIGIN_MS) // HOUR_MS
            h1 = (parse_ts(episode.end) - ORIGIN_MS) // HOUR_MS
            for side, totals in ((LONG, episode.long_usd), (SHORT, episode.short_usd)):
                for venue, usd in totals.items():
                    e = EXCHANGES.index(venue)
                    target[h0:h1, e, :, side] *= usd / target[h0:h1, e, :, side].sum()
            exact[h0:h1] = True
        return exact

    # --- lookups ------------------------------------------------------------------------
    def price_at(self, asset: int, times_ms: np.ndarray) -> np.ndarray:
        """Market price at arbitrary moments (linear between 5-minute points)."""
        return lerp(self.price[:, asset], times_ms, STEP_MS)

    def basis_at(self, venue: int, times_ms: np.ndarray) -> np.ndarray:
        hours = np.clip((np.asarray(times_ms) - ORIGIN_MS) // HOUR_MS, 0, N_HOURS - 1)
        return self.basis[hours, venue]

    def open_interest(self, venue: int, asset: int, times_ms: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
        """(coins, USD) of one side's open interest at the given moments."""
        log_level = lerp(self.oi_log[:, venue, asset], times_ms, HOUR_MS)
        price = self.price_at(asset, times_ms) * self.basis_at(venue, times_ms)
        relative_price = price / self.price[PAST_STEPS, asset]  # sizes are the present's
        usd = VENUE_LIST[venue].oi_usd[asset] * np.exp(log_level) * relative_price**OI_PRICE_ELASTICITY
        return usd / price, usd

    def long_short(self, venue: int, asset: int, times_ms: np.ndarray) -> dict[str, np.ndarray]:
        """Positioning at the given moments: accounts crowd long when funding is rich (top traders a
        little less), top traders' positions and taker flow follow the price's latest move."""
        hours = np.clip((np.asarray(times_ms) - ORIGIN_MS) // HOUR_MS, 0, self.funding8.shape[0] - 1)
        steps = np.clip((np.asarray(times_ms) - ORIGIN_MS) // STEP_MS, 0, self.norm_move.shape[0] - 1)
        account = np.clip(1.6 + 8000 * self.funding8[hours, venue, asset], 0.4, 4.5)
        flow = np.tanh(self.norm_move[steps, asset])
        return {
            "account": account,
            "top_account": 0.85 * account,
            "top_position": 1 + 0.4 * flow,
            "taker": 1 + 0.3 * flow,
        }

    def settled(self, venue: int, asset: int, lo_ms: int, hi_ms: int) -> tuple[np.ndarray, np.ndarray]:
        """Settlements in [lo, hi], ascending: (times, rates). The rate settled at the end of an
        interval is the interval's mean; the first settlement is 8 h after the origin."""
        period = FUNDING_HOURS * HOUR_MS
        first = max(lo_ms, ORIGIN_MS + period)
        first = -(-(first - ORIGIN_MS) // period) * period + ORIGIN_MS
        last = min(hi_ms, HORIZON_MS)
        times = np.arange(first, last + 1, period, dtype=np.int64) if last >= first else np.zeros(0, np.int64)
        return times, self.settled8[(times - ORIGIN_MS) // period - 1, venue, asset]
