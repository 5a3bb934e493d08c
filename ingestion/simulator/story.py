"""The default story, as data: what the market does and when.

Prices are pinned at anchor moments (a Brownian bridge fills the gaps), the other series follow
piecewise-linear knots with noise on top, and liquidation episodes fix the USD totals of the
hours the story is about; every other hour's liquidations follow from the positions the
simulator opens (ingestion/simulator/book.py). Changing the narrative means editing these tables
only.

Narrative: ordinary summer months; a record cascade on the evening of 2025-10-10 (alts -20..-40%
intraday, BTC -8%, billions of longs liquidated, open interest collapsing); a drift down through
November; then a January 2026 "pressure cooker": spot range-bound, open interest building,
funding fading to flat/negative, and long-heavy liquidation spikes from wicks, the largest at
2026-01-20 14:00 UTC.
"""

from __future__ import annotations

from dataclasses import dataclass

# (UTC moment, (BTC, ETH, SOL, XRP, DOGE) prices in USD). After the last anchor the path walks freely.
PRICE_ANCHORS: tuple[tuple[str, tuple[float, float, float, float, float]], ...] = (
    ("2025-06-01T00:00", (105000, 2520, 156.0, 2.18, 0.190)),
    ("2025-06-22T00:00", (101000, 2250, 134.0, 2.02, 0.160)),
    ("2025-07-01T00:00", (107000, 2450, 150.0, 2.25, 0.165)),
    ("2025-07-14T12:00", (121500, 3020, 165.0, 2.95, 0.205)),
    ("2025-07-20T00:00", (118000, 3650, 180.0, 3.45, 0.265)),
    ("2025-07-28T00:00", (118500, 3800, 185.0, 3.20, 0.225)),
    ("2025-08-05T00:00", (114000, 3600, 165.0, 2.95, 0.200)),
    ("2025-08-14T00:00", (121000, 4700, 198.0, 3.15, 0.235)),
    ("2025-08-24T00:00", (113000, 4800, 205.0, 3.00, 0.225)),
    ("2025-09-01T00:00", (109000, 4350, 200.0, 2.78, 0.215)),
    ("2025-09-06T00:00", (110800, 4300, 205.0, 2.85, 0.222)),
    ("2025-09-13T00:00", (115800, 4700, 245.0, 3.05, 0.285)),
    ("2025-09-19T00:00", (116500, 4450, 240.0, 3.00, 0.265)),
    ("2025-09-25T00:00", (109200, 3900, 200.0, 2.75, 0.225)),
    ("2025-10-01T00:00", (117000, 4300, 220.0, 2.90, 0.245)),
    ("2025-10-06T00:00", (124500, 4680, 232.0, 2.98, 0.262)),
    ("2025-10-10T12:00", (121000, 4330, 220.0, 2.78, 0.248)),
    # The cascade: 35 minutes from the first crack to the bottom, then a partial rebound.
    ("2025-10-10T20:45", (119800, 4210, 212.0, 2.70, 0.240)),
    ("2025-10-10T21:20", (110300, 3440, 146.0, 1.74, 0.152)),
    ("2025-10-10T22:30", (112200, 3700, 170.0, 2.25, 0.185)),
    ("2025-10-11T06:00", (111800, 3780, 178.0, 2.36, 0.192)),
    ("2025-10-12T00:00", (111000, 3750, 182.0, 2.40, 0.196)),
    ("2025-10-27T00:00", (115000, 4150, 200.0, 2.65, 0.205)),
    ("2025-11-04T00:00", (104000, 3450, 162.0, 2.25, 0.165)),
    ("2025-11-14T00:00", (97000, 3150, 142.0, 2.30, 0.162)),
    ("2025-11-21T12:00", (84800, 2750, 128.0, 1.95, 0.140)),
    ("2025-12-01T00:00", (87000, 2850, 130.0, 2.05, 0.142)),
    ("2025-12-10T00:00", (91500, 3300, 138.0, 2.05, 0.145)),
    ("2025-12-18T00:00", (86500, 2850, 124.0, 1.85, 0.128)),
    ("2025-12-31T00:00", (87600, 2980, 125.0, 1.88, 0.126)),
    # January 2026: BTC inside ~85-89k, anchors every two or three days keep the ranges narrow.
    ("2026-01-02T00:00", (87700, 3020, 127.0, 1.95, 0.134)),
    ("2026-01-04T00:00", (87900, 3090, 131.0, 2.05, 0.141)),
    ("2026-01-06T00:00", (88000, 3190, 136.0, 2.22, 0.147)),
    ("2026-01-08T08:55", (87800, 3120, 134.0, 2.15, 0.142)),
    ("2026-01-08T09:25", (86600, 3010, 128.5, 2.05, 0.134)),
    ("2026-01-08T12:00", (87000, 3050, 130.0, 2.08, 0.137)),
    ("2026-01-10T12:00", (87400, 3090, 133.0, 2.10, 0.140)),
    ("2026-01-13T15:55", (87900, 3150, 137.0, 2.12, 0.142)),
    ("2026-01-13T16:25", (86500, 3040, 131.0, 2.03, 0.135)),
    ("2026-01-14T00:00", (87100, 3080, 133.0, 2.06, 0.138)),
    ("2026-01-16T00:00", (87800, 3180, 138.0, 2.08, 0.139)),
    ("2026-01-18T00:00", (88000, 3200, 137.0, 2.05, 0.137)),
    ("2026-01-20T00:00", (88100, 3180, 136.0, 2.02, 0.134)),
    # The spike hour: a wick from 14:05 to 14:30 UTC, partly recovered by 14:55.
    ("2026-01-20T14:05", (87900, 3150, 134.0, 2.00, 0.132)),
    ("2026-01-20T14:30", (85600, 2960, 124.5, 1.87, 0.122)),
    ("2026-01-20T14:55", (86400, 3010, 127.0, 1.90, 0.125)),
    ("2026-01-21T00:00", (86500, 3000, 127.5, 1.91, 0.126)),
    ("2026-01-22T00:00", (87100, 2980, 128.0, 1.93, 0.126)),
    ("2026-01-24T00:00", (86800, 2930, 126.0, 1.90, 0.125)),
    ("2026-01-26T02:55", (87300, 2950, 126.5, 1.90, 0.126)),
    ("2026-01-26T03:25", (86000, 2870, 121.5, 1.83, 0.120)),
    ("2026-01-26T06:00", (86300, 2890, 122.5, 1.84, 0.121)),
    ("2026-01-28T00:00", (86600, 2900, 121.0, 1.84, 0.121)),
    ("2026-01-29T20:55", (86400, 2890, 120.0, 1.83, 0.120)),
    ("2026-01-29T21:25", (85300, 2790, 115.0, 1.76, 0.115)),
    ("2026-01-30T00:00", (85500, 2830, 117.0, 1.79, 0.118)),
    ("2026-01-31T00:00", (85630, 2850, 118.0, 1.80, 0.119)),
    ("2026-02-01T00:00", (85300, 2830, 117.0, 1.78, 0.118)),
)

# Multiplier on each asset's base volatility between anchors (calm January, violent cascade).
VOL_REGIME: tuple[tuple[str, float], ...] = (
    ("2025-06-01T00:00", 1.0),
    ("2025-10-10T20:00", 1.0),
    ("2025-10-10T20:45", 3.0),
    ("2025-10-11T06:00", 2.0),
    ("2025-10-13T00:00", 1.3),
    ("2025-10-20T00:00", 1.0),
    ("2025-12-20T00:00", 0.8),
    ("2025-12-31T00:00", 0.4),
    ("2026-01-31T00:00", 0.4),
    ("2026-02-10T00:00", 0.9),
    ("2026-03-01T00:00", 1.0),
)

# Log open-interest level relative to each venue's base (same for all assets): building into
# October, collapsing ~26% in the cascade, shrinking in November, building again in January.
OI_LEVEL: tuple[tuple[str, float], ...] = (
    ("2025-06-01T00:00", 0.00),
    ("2025-08-15T00:00", 0.10),
    ("2025-10-10T20:00", 0.20),
    ("2025-10-10T22:00", -0.10),
    ("2025-10-20T00:00", -0.06),
    ("2025-11-25T00:00", -0.12),
    ("2025-12-31T00:00", -0.04),
    ("2026-01-28T00:00", 0.13),
    ("2026-01-31T00:00", 0.12),
    ("2026-03-01T00:00", 0.02),
)

# Funding, as an 8-hour-equivalent rate: positive carry, negative after the cascade, fading to
# flat/negative late in January.
FUNDING_LEVEL: tuple[tuple[str, float], ...] = (
    ("2025-06-01T00:00", 0.00008),
    ("2025-08-15T00:00", 0.00012),
    ("2025-10-10T20:00", 0.00015),
    ("2025-10-10T23:00", -0.00025),
    ("2025-10-12T00:00", 0.00002),
    ("2025-10-20T00:00", 0.00006),
    ("2025-11-15T00:00", 0.00002),
    ("2025-12-15T00:00", 0.00005),
    ("2026-01-01T00:00", 0.00009),
    ("2026-01-15T00:00", 0.00004),
    ("2026-01-22T00:00", 0.0),
    ("2026-01-31T00:00", -0.00003),
    ("2026-02-15T00:00", 0.00004),
    ("2026-03-15T00:00", 0.00008),
)

# Deribit DVOL levels (BTC, ETH): spiking in the cascade, low in January.
DVOL_LEVEL: tuple[tuple[str, tuple[float, float]], ...] = (
    ("2025-06-01T00:00", (46.0, 68.0)),
    ("2025-08-15T00:00", (40.0, 66.0)),
    ("2025-09-30T00:00", (42.0, 63.0)),
    ("2025-10-10T20:45", (41.0, 62.0)),
    ("2025-10-10T22:00", (66.0, 96.0)),
    ("2025-10-11T12:00", (55.0, 80.0)),
    ("2025-10-20T00:00", (48.0, 70.0)),
    ("2025-11-21T00:00", (53.0, 76.0)),
    ("2025-12-15T00:00", (45.0, 64.0)),
    ("2026-01-05T00:00", (40.0, 58.0)),
    ("2026-01-25T00:00", (38.0, 56.0)),
    ("2026-02-15T00:00", (44.0, 62.0)),
    ("2026-04-01T00:00", (46.0, 66.0)),
)

# Extra weight on long (first) and short (second) background liquidations (those outside the
# position book, ingestion/simulator/book.py) outside the episodes: leverage in January is long-heavy.
SIDE_BIAS: tuple[tuple[str, tuple[float, float]], ...] = (
    ("2025-06-01T00:00", (1.0, 1.0)),
    ("2025-12-25T00:00", (1.0, 1.0)),
    ("2026-01-02T00:00", (1.3, 0.8)),
    ("2026-01-31T00:00", (1.3, 0.8)),
    ("2026-02-07T00:00", (1.0, 1.0)),
)


@dataclass(frozen=True)
class Episode:
    """Hours whose liquidation totals the story fixes: USD per venue and side over [start, end),
    spread over the hours and assets in proportion to the model's own intensity."""

    start: str
    end: str
    long_usd: dict[str, float]
    short_usd: dict[str, float]


# How a total without per-venue figures is split across venues.
VENUE_SPLIT = {"binance": 0.22, "bybit": 0.30, "okx": 0.15, "hyperliquid": 0.26, "gate": 0.07}


def split(total: float) -> dict[str, float]:
    return {venue: total * share for venue, share in VENUE_SPLIT.items()}


EPISODES: tuple[Episode, ...] = (
    # 10-11 Oct 2025: the largest cascade on record, Hyperliquid > Bybit > Binance > OKX.
    Episode(
        "2025-10-10T20:00",
        "2025-10-11T04:00",
        {"hyperliquid": 9.3e9, "bybit": 4.4e9, "binance": 2.3e9, "okx": 1.1e9, "gate": 0.55e9},
        {"hyperliquid": 0.9e9, "bybit": 0.5e9, "binance": 0.3e9, "okx": 0.15e9, "gate": 0.07e9},
    ),
    # 2026-01-20 14:00: > $230M of longs against < $5M of shorts on the four main venues.
    Episode(
        "2026-01-20T14:00",
        "2026-01-20T15:00",
        {"binance": 36.5e6, "hyperliquid": 59e6, "bybit": 88e6, "okx": 54e6, "gate": 9e6},
        {"binance": 0.9e6, "hyperliquid": 1.1e6, "bybit": 1.2e6, "okx": 0.6e6, "gate": 0.3e6},
    ),
    Episode("2026-01-20T15:00", "2026-01-20T18:00", split(140e6), split(12e6)),
    Episode("2026-01-08T09:00", "2026-01-08T10:00", split(48e6), split(3e6)),
    Episode("2026-01-13T16:00", "2026-01-13T17:00", split(72e6), split(4e6)),
    Episode("2026-01-21T14:00", "2026-01-21T18:00", split(60e6), split(70e6)),  # two-sided whipsaw
    Episode("2026-01-26T03:00", "2026-01-26T04:00", split(61e6), split(3.5e6)),
    Episode("2026-01-29T21:00", "2026-01-29T22:00", split(95e6), split(5e6)),
)

# The simulated collector's scripted outages: (exchange, from, until, why the connection dropped).
# Its tape has nothing from those stretches and its session log says so; the aggregator (Coinalyze)
# still saw every liquidation, so the catch-up can fill the day.
COLLECTOR_OUTAGES: tuple[tuple[str, str, str, str], ...] = (
    ("bybit", "2026-01-16T03:10", "2026-01-16T07:45", "connection closed (received 1006 (abnormal closure))"),
)
