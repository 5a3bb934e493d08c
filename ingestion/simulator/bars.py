"""Candles of any multiple of five minutes, aggregated from the market's 5-minute steps, and the
time grids the venues page over."""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np

from ingestion.simulator.market import TRADE_SIZE_USD, VENUE_LIST, Market
from ingestion.simulator.timegrid import ORIGIN_MS, STEP_MS, STEPS_PER_HOUR, ceil_to, floor_to


@dataclass(frozen=True)
class Bars:
    open_ms: np.ndarray
    open: np.ndarray
    high: np.ndarray
    low: np.ndarray
    close: np.ndarray
    volume_usd: np.ndarray
    volume_coins: np.ndarray
    taker_buy_usd: np.ndarray
    taker_buy_coins: np.ndarray
    trades: np.ndarray
    complete: np.ndarray  # False for the candle still forming at the simulator's clock

    def __len__(self) -> int:
        return int(self.open_ms.size)


def aligned(start_ms: int, end_ms: int, period_ms: int, lo_ms: int, hi_ms: int, offset_ms: int = 0) -> np.ndarray:
    """Period boundaries t with start <= t <= end and lo <= t <= hi (all inclusive)."""
    first = ceil_to(max(start_ms, lo_ms), period_ms, offset_ms)
    last = floor_to(min(end_ms, hi_ms), period_ms, offset_ms)
    if last < first:
        return np.zeros(0, dtype=np.int64)
    return np.arange(first, last + 1, period_ms, dtype=np.int64)


def candle_opens(start_ms: int, end_ms: int, interval_ms: int, until_ms: int, offset_ms: int = 0) -> np.ndarray:
    """Open times of the candles in [start, end] that have at least one finished 5-minute step."""
    return aligned(start_ms, end_ms, interval_ms, ORIGIN_MS, until_ms - STEP_MS, offset_ms)


def bars(market: Market, venue: int, asset: int, opens_ms: np.ndarray, interval_ms: int, until_ms: int) -> Bars:
    """OHLCV for contiguous candles opening at ``opens_ms`` (ascending, one interval apart), cut at
    the last 5-minute step finished by ``until_ms``."""
    if interval_ms % STEP_MS or not opens_ms.size:
        raise ValueError("bars need a multiple of 5 minutes and at least one candle")
    finished = (until_ms - ORIGIN_MS) // STEP_MS
    k_start = (opens_ms - ORIGIN_MS) // STEP_MS
    k_stop = np.minimum(k_start + interval_ms // STEP_MS, finished)
    k0, k1 = int(k_start[0]), int(k_stop[-1])
    marks = k_start - k0
    steps = np.arange(k0, k1)
    basis = market.basis[steps // STEPS_PER_HOUR, venue]
    share = VENUE_LIST[venue].volume_share
    volume = market.volume5[k0:k1, asset] * share
    buy_share = 0.5 + 0.08 * np.tanh(market.norm_move[k0:k1, asset])
    mid = 0.5 * (market.price[k0:k1, asset] + market.price[k0 + 1 : k1 + 1, asset]) * basis
    open_px = market.price[k_start, asset] * market.basis[k_start // STEPS_PER_HOUR, venue]
    close_px = market.price[k_stop, asset] * market.basis[(k_stop - 1) // STEPS_PER_HOUR, venue]
    high = np.maximum.reduceat(market.high5[k0:k1, asset] * basis, marks)
    low = np.minimum.reduceat(market.low5[k0:k1, asset] * basis, marks)
    volume_usd = np.add.reduceat(volume, marks)
    return Bars(
        open_ms=opens_ms,
        open=open_px,
        high=np.maximum(high, np.maximum(open_px, close_px)),
        low=np.minimum(low, np.minimum(open_px, close_px)),
        close=close_px,
        volume_usd=volume_usd,
        volume_coins=np.add.reduceat(volume / mid, marks),
        taker_buy_usd=np.add.reduceat(volume * buy_share, marks),
        taker_buy_coins=np.add.reduceat(volume * buy_share / mid, marks),
        trades=np.rint(volume_usd / TRADE_SIZE_USD[asset]).astype(np.int64),
        complete=k_start + interval_ms // STEP_MS <= finished,
    )
