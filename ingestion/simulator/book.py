"""The simulator's leveraged positions, and the liquidations that follow from them.

Every hour each venue opens positions at the hour's close: its open interest's rise plus the
positions that churn (closed and reopened) that hour. Each is given a leverage and a liquidation
price, shrinks as open interest falls or churns away, and is liquidated the first 5-minute step
whose low (a long) or high (a short) reaches its price.

This is the demo's hidden truth for `fct_estimated_liquidation_levels` to be right or wrong
about, so it deliberately shares none of that model's assumptions beyond the mechanism: leverage
is a continuous distribution per asset (the map uses five fixed tiers), maintenance rates differ
per asset (the map uses one), churn is invisible in open interest (the map sees net rises only),
and the leveraged side follows taker flow as well as the account ratio (the map reads the ratio
alone). Nothing here reads the warehouse, and nothing in dbt reads this.
"""

from __future__ import annotations

from dataclasses import dataclass
from statistics import NormalDist

import numpy as np

CHURN_PER_HOUR = 0.02  # share of every venue's positions closed and reopened each hour
LEVERAGE_MEDIAN = np.array([12.0, 10.0, 7.0, 7.0, 6.0])  # per asset (BTC, ETH, SOL, XRP, DOGE)
LEVERAGE_SIGMA = 0.8  # lognormal spread of leverage around the median
LEVERAGE_MAX = np.array([100.0, 100.0, 50.0, 50.0, 50.0])
MAINTENANCE_RATE = np.array([0.004, 0.005, 0.01, 0.01, 0.01])
LEVERAGE_BUCKETS = 12  # equal-probability slices of the leverage distribution
LEGACY_SPREAD = 0.08  # positions already open at the origin: entries within +-8 % of its price


@dataclass(frozen=True)
class Cohorts:
    """Positions of one asset and side that share a liquidation price: from ``first_hour`` on the
    price can reach ``level``; ``usd`` per venue is their value at that level before any closes."""

    first_hour: np.ndarray  # int64 (n,)
    level: np.ndarray  # (n,)
    usd: np.ndarray  # (n, venues)


def leverage_buckets(asset: int) -> np.ndarray:
    """The asset's leverage distribution as equal-weight quantile midpoints."""
    quantiles = (np.arange(LEVERAGE_BUCKETS) + 0.5) / LEVERAGE_BUCKETS
    z = np.array([NormalDist().inv_cdf(q) for q in quantiles])
    return np.clip(LEVERAGE_MEDIAN[asset] * np.exp(LEVERAGE_SIGMA * z), 1.5, LEVERAGE_MAX[asset])


def liquidation_factor(leverage: np.ndarray, mmr: float, is_long: bool) -> np.ndarray:
    """Liquidation price over entry price, isolated margin on a linear contract."""
    return (1 - 1 / leverage) / (1 - mmr) if is_long else (1 + 1 / leverage) / (1 + mmr)


def opened_cohorts(
    entry: np.ndarray, opened_usd: np.ndarray, asset: int, is_long: bool, legacy_usd: np.ndarray, origin_price: float
) -> Cohorts:
    """Cohorts of one asset and side: ``opened_usd`` (hours, venues) at each hour's close price
    ``entry`` (hours,), reachable from the next hour; ``legacy_usd`` (venues,) open before the
    origin, entered around ``origin_price`` and reachable from the first hour."""
    factor = liquidation_factor(leverage_buckets(asset), MAINTENANCE_RATE[asset], is_long)
    legacy_entries = origin_price * np.exp(np.linspace(-LEGACY_SPREAD, LEGACY_SPREAD, 9))
    legacy_weight = np.bartlett(11)[1:-1] / np.bartlett(11)[1:-1].sum()
    entries = np.concatenate([legacy_entries, entry])
    amounts = np.concatenate([np.outer(legacy_weight, legacy_usd), opened_usd])
    first_hour = np.concatenate([np.zeros(legacy_entries.size, np.int64), np.arange(1, entry.size + 1)])
    level = np.outer(entries, factor).ravel()
    usd = np.repeat(amounts, factor.size, axis=0) * np.tile(factor / factor.size, entries.size)[:, None]
    return Cohorts(np.repeat(first_hour, factor.size), level, usd)


def first_reach(hourly_low: np.ndarray, first_hour: np.ndarray, level: np.ndarray) -> np.ndarray:
    """First hour >= first_hour whose low is at or below level (len(hourly_low) if none), by binary
    lifting over a sparse table of range minima: millions of cohorts in a few vectorised passes."""
    hours = hourly_low.size
    table = [hourly_low]
    while 2 * (width := 1 << (len(table) - 1)) <= hours:
        previous = table[-1]
        table.append(np.minimum(previous[:-width], previous[width:]))
    position = first_hour.copy()
    for power in range(len(table) - 1, -1, -1):
        span = table[power]
        inside = position < span.size
        clear = np.zeros_like(inside)
        clear[inside] = span[position[inside]] > level[inside]
        position[clear] += 1 << power
    return position


def first_step(step_low: np.ndarray, hour: np.ndarray, level: np.ndarray) -> np.ndarray:
    """The step of its hour at which each level is first reached (hours given by first_reach)."""
    running = np.minimum.accumulate(step_low[hour], axis=1)
    return (running > level[:, None]).sum(axis=1).clip(0, step_low.shape[1] - 1)


def liquidated(cohorts: Cohorts, step_low: np.ndarray, log_keep: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
    """USD liquidated per (hour, venue) and per step (all venues) for cohorts reached by lows.

    ``step_low`` is (hours, steps per hour); ``log_keep`` (hours, venues) is the log share of each
    venue's positions that stay open through each hour. For shorts pass negated highs and levels."""
    hours, steps = step_low.shape
    hour = first_reach(step_low.min(axis=1), cohorts.first_hour, cohorts.level)
    hit = hour < hours
    hour, level, first_hour, usd = hour[hit], cohorts.level[hit], cohorts.first_hour[hit], cohorts.usd[hit]
    kept = np.vstack([np.zeros(log_keep.shape[1]), np.cumsum(log_keep, axis=0)])
    usd = usd * np.exp(kept[hour] - kept[first_hour])
    per_hour = np.stack([np.bincount(hour, weights=usd[:, v], minlength=hours) for v in range(usd.shape[1])], axis=1)
    step = hour * steps + first_step(step_low, hour, level)
    per_step = np.bincount(step, weights=usd.sum(axis=1), minlength=hours * steps)
    return per_hour, per_step
