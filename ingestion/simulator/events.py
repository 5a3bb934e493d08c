"""Individual liquidations, drawn per (venue, asset, UTC day) from the market's hourly targets.

Each day's draw is seeded from (seed, day, venue, asset) alone, so a day looks the same whether it
is requested by itself, inside a wider window, or after any other request.
"""

from __future__ import annotations

import threading
from collections import OrderedDict
from dataclasses import dataclass, replace

import numpy as np

from ingestion.simulator.catalog import ASSETS, EXCHANGES, OKX_LOT, SPECS
from ingestion.simulator.market import LIQ_ASSET_SHARE, LONG, VENUE_LIST, Market
from ingestion.simulator.streams import PAST_TAG
from ingestion.simulator.timegrid import DAY_MS, HOUR_MS, N_DAYS, ORIGIN_MS, PAST_DAYS, STEP_MS, STEPS_PER_HOUR

SIZE_SIGMA = 1.5  # lognormal spread of event sizes
MIN_USD, MAX_USD = 1e3, 5e6
MEAN_SCALE_MAX = 3.0  # busy hours liquidate larger positions, up to this multiple of the usual mean
EXACT_PASSES = 3
PER_EVENT = ("time_ms", "side", "size", "price", "delay_ms", "hedge")  # the array fields of Events


@dataclass(frozen=True)
class Events:
    """One venue's liquidations of one asset, time-ordered. ``size`` is in the venue's own unit
    (coins, or contracts for OKX and Gate); ``coins_per_unit`` converts it."""

    venue: str
    asset: str
    time_ms: np.ndarray  # int64
    side: np.ndarray  # 0 = a long was liquidated, 1 = a short
    size: np.ndarray
    price: np.ndarray  # the price the venue reports for the event
    delay_ms: np.ndarray  # latency of the websocket message after the event
    hedge: np.ndarray  # OKX: account in long/short (hedge) mode rather than net mode
    coins_per_unit: float

    def __len__(self) -> int:
        return int(self.time_ms.size)

    @property
    def usd(self) -> np.ndarray:
        return self.size * self.coins_per_unit * self.price

    def take(self, index: np.ndarray) -> Events:
        return replace(self, **{name: getattr(self, name)[index] for name in PER_EVENT})

    def window(self, start_ms: int, end_ms: int) -> Events:
        """Events with start_ms <= time < end_ms."""
        lo, hi = np.searchsorted(self.time_ms, [start_ms, end_ms], side="left")
        return self.take(np.arange(lo, hi))

    def throttled(self) -> Events:
        """What a stream that pushes only the latest event per symbol per second delivers."""
        return self.take(np.flatnonzero(_last_in_second(self.time_ms)))

    def with_fault(self, kind: str) -> Events:
        """The day's data fault: one event repeated, or one event with a negative size."""
        if not len(self):
            return self
        if kind == "duplicate_event":
            i = len(self) // 2
            return self.take(np.insert(np.arange(len(self)), i + 1, i))
        if kind == "negative_size":
            size = self.size.copy()
            size[len(self) // 3] *= -1  # not the duplicated one, so both faults stay visible together
            return replace(self, size=size)
        return self


def unit_and_lot(venue: str, asset: str) -> tuple[float, float]:
    """(coins per size unit, size increment) of a venue's liquidation reports."""
    spec = SPECS[asset]
    return {
        "binance": (1.0, spec.binance_step),
        "bybit": (1.0, spec.bybit_step),
        "okx": (spec.okx_ct_val, OKX_LOT),
        "gate": (spec.gate_quanto, 1.0),
        "hyperliquid": (1.0, 10.0**-spec.hl_sz_decimals),
    }[venue]


def empty(venue: str, asset: str) -> Events:
    unit, _ = unit_and_lot(venue, asset)
    z = np.zeros(0)
    return Events(venue, asset, z.astype(np.int64), z.astype(np.int8), z, z, z.astype(np.int64), z.astype(bool), unit)


THROTTLED = frozenset({"binance"})  # venues whose public stream keeps one event per symbol per second


def _last_in_second(time_ms: np.ndarray) -> np.ndarray:
    """Mask of the events a one-per-second stream would push (the latest of each second)."""
    seconds = time_ms // 1000
    return np.r_[seconds[1:] != seconds[:-1], True] if time_ms.size else np.zeros(0, dtype=bool)


def _hit_targets(
    usd: np.ndarray, group: np.ndarray, targets: np.ndarray, exact: np.ndarray, counted: np.ndarray
) -> np.ndarray:
    """Rescale the story's hours so that the events that are ``counted`` (those a venue's public
    feed shows) sum to the episode's figure exactly, keeping every event inside the size bounds."""
    ngroups = targets.size
    for _ in range(EXACT_PASSES):
        sums = np.bincount(group, weights=np.where(counted, usd, 0.0), minlength=ngroups)
        factor = np.where(exact & (sums > 0), targets / np.where(sums > 0, sums, 1.0), 1.0)
        usd = np.where(counted, np.clip(usd * factor[group], MIN_USD, MAX_USD), usd)
    return usd


def _event_steps(rng: np.random.Generator, weights: np.ndarray, hour: np.ndarray, side: np.ndarray) -> np.ndarray:
    """Which 5-minute step of its hour each event falls in, in proportion to the intensity:
    liquidations cluster where the price moved."""
    cum = np.cumsum(weights, axis=1, dtype=np.float64)  # (24, steps, 2)
    cum /= np.where(cum[:, -1:, :] > 0, cum[:, -1:, :], 1.0)
    u = rng.random(hour.size)
    return (u[:, None] > cum[hour, :, side]).sum(axis=1).clip(0, STEPS_PER_HOUR - 1)


@dataclass(frozen=True)
class _Plan:
    """Hourly targets of one (venue, asset, day): 24 hours x 2 sides, flattened to 48 groups."""

    target: np.ndarray
    mean: np.ndarray
    exact: np.ndarray


def _plan(market: Market, venue: int, asset: int, day: int) -> _Plan:
    params = VENUE_LIST[venue]
    hours = slice(day * 24, day * 24 + 24)
    target = market.liq_target[hours, venue, asset, :]
    usual = params.daily_liq_usd * LIQ_ASSET_SHARE[asset] / 48
    mean = params.mean_event_usd * np.clip(np.sqrt(target / usual), 1.0, MEAN_SCALE_MAX)
    return _Plan(target.ravel(), mean.ravel(), np.repeat(market.exact_hour[hours], 2))


def _counts(rng: np.random.Generator, plan: _Plan) -> np.ndarray:
    expected = plan.target / plan.mean
    drawn = rng.poisson(expected)
    return np.where(plan.exact & (expected > 0), np.maximum(np.rint(expected), 1), drawn).astype(np.int64)


def _times(
    rng: np.random.Generator, market: Market, asset: int, day: int, hour: np.ndarray, side: np.ndarray
) -> np.ndarray:
    first_step = day * 24 * STEPS_PER_HOUR
    weights = market.liq_shape[first_step : first_step + 24 * STEPS_PER_HOUR, asset, :].reshape(24, STEPS_PER_HOUR, 2)
    step = _event_steps(rng, weights, hour, side)
    offset = (rng.random(hour.size) * STEP_MS).astype(np.int64)
    return ORIGIN_MS + day * DAY_MS + hour * HOUR_MS + step * STEP_MS + offset


def _prices(
    rng: np.random.Generator, market: Market, venue: int, asset: int, time_ms: np.ndarray, side: np.ndarray
) -> np.ndarray:
    """The price each venue reports: beyond the market, on the side the liquidation pushes."""
    lo, hi = VENUE_LIST[venue].price_offset
    beyond = lo + (hi - lo) * rng.random(time_ms.size)
    market_px = market.price_at(asset, time_ms) * market.basis_at(venue, time_ms)
    price = market_px * np.where(side == LONG, 1.0 - beyond, 1.0 + beyond)
    tick = SPECS[ASSETS[asset]].tick
    return np.maximum(np.round(price / tick), 1) * tick


def _day_entropy(seed: int, venue: int, asset: int, day: int) -> np.random.SeedSequence:
    """A day of the present keeps the draws it always had (days counted from the present); a day
    before it draws from entropy of its own."""
    since_present = day - PAST_DAYS
    if since_present >= 0:
        return np.random.SeedSequence([seed, since_present, venue, asset, 0x11D])
    return np.random.SeedSequence([seed, -since_present, venue, asset, 0x11D, PAST_TAG])


def draw_day(market: Market, seed: int, venue: int, asset: int, day: int) -> Events:
    name, coin = EXCHANGES[venue], ASSETS[asset]
    if not 0 <= day < N_DAYS:
        return empty(name, coin)
    rng = np.random.default_rng(_day_entropy(seed, venue, asset, day))
    plan = _plan(market, venue, asset, day)
    group = np.repeat(np.arange(plan.target.size), _counts(rng, plan))
    usd = plan.mean[group] * np.exp(SIZE_SIGMA * rng.standard_normal(group.size) - SIZE_SIGMA**2 / 2)
    time_ms = _times(rng, market, asset, day, group // 2, group % 2)
    order = np.argsort(time_ms, kind="stable")
    time_ms, group, usd = time_ms[order], group[order], usd[order]
    side = group % 2

    counted = _last_in_second(time_ms) if name in THROTTLED else np.ones(group.size, dtype=bool)
    usd = _hit_targets(np.clip(usd, MIN_USD, MAX_USD), group, plan.target, plan.exact, counted)
    price = _prices(rng, market, venue, asset, time_ms, side)
    delay = rng.integers(1, 9, group.size)
    hedge = rng.random(group.size) < 0.6
    unit, lot = unit_and_lot(name, coin)
    size = np.maximum(np.round(usd / price / unit / lot), 1) * lot
    return Events(name, coin, time_ms, side.astype(np.int8), size, price, delay, hedge, unit)


class EventStore:
    """Per-day draws, kept in a bounded cache (a cascade day is the expensive one)."""

    def __init__(self, market: Market, seed: int, max_days: int = 4096) -> None:
        self.market, self.seed, self.max_days = market, seed, max_days
        self._cache: OrderedDict[tuple[int, int, int], Events] = OrderedDict()
        self._lock = threading.Lock()

    def day(self, venue: int, asset: int, day: int) -> Events:
        key = (venue, asset, day)
        with self._lock:
            if key in self._cache:
                self._cache.move_to_end(key)
                return self._cache[key]
        events = draw_day(self.market, self.seed, venue, asset, day)
        with self._lock:
            self._cache[key] = events
            while len(self._cache) > self.max_days:
                self._cache.popitem(last=False)
        return events

    def span(self, venue: int, asset: int, start_ms: int, end_ms: int) -> Events:
        """All events with start_ms <= time < end_ms, across days."""
        first = max((start_ms - ORIGIN_MS) // DAY_MS, 0)
        last = min((end_ms - 1 - ORIGIN_MS) // DAY_MS, N_DAYS - 1)
        parts = [self.day(venue, asset, d).window(start_ms, end_ms) for d in range(first, last + 1)]
        if not parts:
            return empty(EXCHANGES[venue], ASSETS[asset])
        return concat(parts)


def concat(parts: list[Events]) -> Events:
    if len(parts) == 1:
        return parts[0]
    return replace(parts[0], **{name: np.concatenate([getattr(p, name) for p in parts]) for name in PER_EVENT})


def bucket_sums(events: Events, start_ms: int, bucket_ms: int, n_buckets: int, usd: bool) -> np.ndarray:
    """(n_buckets, 2) long/short totals per bucket, in USD or in coins."""
    index = (events.time_ms - start_ms) // bucket_ms
    inside = (index >= 0) & (index < n_buckets)
    values = events.usd if usd else events.size * events.coins_per_unit
    out = np.zeros((n_buckets, 2))
    np.add.at(out, (index[inside], events.side[inside].astype(np.int64)), values[inside])
    return out
