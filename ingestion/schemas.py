"""Canonical shapes of the raw tables.

Every source endpoint parses its wire format into one of these datasets, so a raw table's
columns depend only on what kind of data it holds, never on which exchange sent it. The
pipeline adds ``partition_date`` (the UTC day) and ``payload_ref`` (the archived landing file
the row came from) to every table.
"""

from __future__ import annotations

from dataclasses import dataclass
from enum import StrEnum

import pyarrow as pa


class Check(StrEnum):
    """Row-level rules applied by :mod:`ingestion.rows` before anything is loaded."""

    REQUIRED = "required"  # not null
    POSITIVE = "positive"  # > 0
    NON_NEGATIVE = "non_negative"  # >= 0
    IN_DAY = "in_day"  # timestamp inside the partition's UTC day
    SIDE = "side"  # 'long' or 'short'


@dataclass(frozen=True)
class Column:
    name: str
    type: pa.DataType
    checks: tuple[Check, ...] = ()
    description: str = ""


@dataclass(frozen=True)
class Dataset:
    name: str
    columns: tuple[Column, ...]
    natural_key: tuple[str, ...]
    description: str

    @property
    def schema(self) -> pa.Schema:
        return pa.schema([(c.name, c.type) for c in self.columns])


R, P, NN, D, S = Check.REQUIRED, Check.POSITIVE, Check.NON_NEGATIVE, Check.IN_DAY, Check.SIDE
TS = pa.timestamp("us")

LIQUIDATION_EVENTS = Dataset(
    name="liquidation_events",
    description="One row per liquidation event (a forced close of a position).",
    natural_key=("exchange", "symbol", "event_time", "side", "price", "quantity"),
    columns=(
        Column("exchange", pa.string(), (R,), "binance | bybit | okx | ..."),
        Column("asset", pa.string(), (R,), "BTC, ETH, SOL, XRP, DOGE"),
        Column("symbol", pa.string(), (R,), "the venue's instrument name"),
        Column("event_time", TS, (R, D), "UTC time of the liquidation"),
        Column("side", pa.string(), (R, S), "long = a long position was liquidated"),
        Column("price", pa.float64(), (R, P), "fill or bankruptcy price in USD(T)"),
        Column("quantity", pa.float64(), (R, P), "size in base coin"),
        Column("usd_value", pa.float64(), (R, P), "price x quantity"),
    ),
)

LIQUIDATION_BUCKETS = Dataset(
    name="liquidation_buckets",
    description="Aggregated long/short liquidations per time bucket (aggregator sources).",
    natural_key=("exchange", "symbol", "bucket_start"),
    columns=(
        Column("exchange", pa.string(), (R,)),
        Column("asset", pa.string(), (R,)),
        Column("symbol", pa.string(), (R,)),
        Column("bucket_start", TS, (R, D), "UTC start of the bucket"),
        Column("bucket_minutes", pa.int32(), (R, P)),
        Column("long_usd", pa.float64(), (R, NN), "long positions liquidated, USD"),
        Column("short_usd", pa.float64(), (R, NN), "short positions liquidated, USD"),
    ),
)

FUNDING_RATES = Dataset(
    name="funding_rates",
    description="Settled funding rates, one row per settlement.",
    natural_key=("exchange", "symbol", "funding_time"),
    columns=(
        Column("exchange", pa.string(), (R,)),
        Column("asset", pa.string(), (R,)),
        Column("symbol", pa.string(), (R,)),
        Column("funding_time", TS, (R, D), "settlement time floored to the hour, UTC"),
        Column("funding_rate", pa.float64(), (R,), "fraction per funding interval"),
        Column("interval_hours", pa.float64(), (R, P), "length of the funding interval"),
    ),
)

OPEN_INTEREST = Dataset(
    name="open_interest",
    description="Open interest observations (one side), in coins and/or USD.",
    natural_key=("exchange", "symbol", "observed_at"),
    columns=(
        Column("exchange", pa.string(), (R,)),
        Column("asset", pa.string(), (R,)),
        Column("symbol", pa.string(), (R,)),
        Column("observed_at", TS, (R, D), "UTC time of the observation (bar start)"),
        Column("open_interest_coins", pa.float64(), (NN,), "base coin, NULL if the venue gives only USD"),
        Column("open_interest_usd", pa.float64(), (NN,), "USD, NULL if the venue gives only coins"),
    ),
)

LONG_SHORT_RATIOS = Dataset(
    name="long_short_ratios",
    description="Positioning per venue, asset and time: long/short ratios of accounts, of top traders' accounts "
    "and positions, and the taker buy/sell volume ratio; an endpoint fills the measures its venue publishes.",
    natural_key=("exchange", "symbol", "observed_at"),
    columns=(
        Column("exchange", pa.string(), (R,)),
        Column("asset", pa.string(), (R,)),
        Column("symbol", pa.string(), (R,)),
        Column("observed_at", TS, (R, D), "UTC time of the observation (period start)"),
        Column("account_ratio", pa.float64(), (P,), "accounts long / accounts short, all accounts"),
        Column("top_account_ratio", pa.float64(), (P,), "the same among the venue's top traders"),
        Column("top_position_ratio", pa.float64(), (P,), "top traders' long / short position size"),
        Column("taker_buy_sell_ratio", pa.float64(), (P,), "taker buy / taker sell volume"),
    ),
)

CANDLES = Dataset(
    name="candles",
    description="OHLCV candles of the perpetual contract.",
    natural_key=("exchange", "symbol", "open_time"),
    columns=(
        Column("exchange", pa.string(), (R,)),
        Column("asset", pa.string(), (R,)),
        Column("symbol", pa.string(), (R,)),
        Column("open_time", TS, (R, D)),
        Column("interval_minutes", pa.int32(), (R, P)),
        Column("open", pa.float64(), (R, P)),
        Column("high", pa.float64(), (R, P)),
        Column("low", pa.float64(), (R, P)),
        Column("close", pa.float64(), (R, P)),
        Column("volume_coins", pa.float64(), (NN,)),
    ),
)

MARKET_CAPS = Dataset(
    name="market_caps",
    description="Market capitalisation snapshots per coin (end of the UTC day).",
    natural_key=("coin_id", "observed_at"),
    columns=(
        Column("coin_id", pa.string(), (R,), "CoinGecko id, e.g. bitcoin"),
        Column("symbol", pa.string(), (R,), "upper-case ticker"),
        Column("observed_at", TS, (R,), "UTC time of the snapshot"),
        Column("market_cap_usd", pa.float64(), (R, P)),
        Column("price_usd", pa.float64(), (R, P)),
        Column("volume_usd", pa.float64(), (NN,)),
    ),
)

VOLATILITY_INDEX = Dataset(
    name="volatility_index",
    description="Volatility index candles (Deribit DVOL), annualised percentage points.",
    natural_key=("currency", "open_time"),
    columns=(
        Column("currency", pa.string(), (R,)),
        Column("open_time", TS, (R, D)),
        Column("interval_minutes", pa.int32(), (R, P)),
        Column("open", pa.float64(), (R, P)),
        Column("high", pa.float64(), (R, P)),
        Column("low", pa.float64(), (R, P)),
        Column("close", pa.float64(), (R, P)),
    ),
)

COLLECTOR_UPTIME = Dataset(
    name="collector_uptime",
    description="Stretches of a UTC day during which the liquidation collector was connected to the venue's "
    "stream, from its session log; outside them it heard nothing, so the day's tape has a hole there.",
    natural_key=("exchange", "connected_from"),
    columns=(
        Column("exchange", pa.string(), (R,)),
        Column("connected_from", TS, (R, D), "start of the stretch (midnight if it began the day before)"),
        Column("connected_until", TS, (R,), "end of the stretch (next midnight if it went on into the next day)"),
        Column("ended_by", pa.string(), (R,), "why it ended: the disconnect reason, or that it goes on"),
    ),
)

DATASETS = {
    d.name: d
    for d in (
        LIQUIDATION_EVENTS,
        LIQUIDATION_BUCKETS,
        FUNDING_RATES,
        OPEN_INTEREST,
        CANDLES,
        MARKET_CAPS,
        VOLATILITY_INDEX,
        COLLECTOR_UPTIME,
    )
}

# Columns the loader adds to every raw table.
LINEAGE_COLUMNS = (
    Column("partition_date", pa.date32(), (R,), "UTC day of the partition"),
    Column("payload_ref", pa.string(), (R,), "landing file the row was parsed from"),
)

REJECTS_SCHEMA = pa.schema(
    [
        ("source_table", pa.string()),
        ("partition_date", pa.date32()),
        ("reason", pa.string()),
        ("record", pa.string()),
        ("payload_ref", pa.string()),
    ]
)

# raw.fetch_outcomes: what each raw asset run got for each (endpoint, day) it was asked for.
FETCH_OUTCOMES_SCHEMA = pa.schema(
    [
        ("source_table", pa.string()),
        ("partition_date", pa.date32()),
        ("source", pa.string()),
        ("endpoint", pa.string()),
        ("status", pa.string()),  # fetched | unavailable
        ("reason", pa.string()),
        ("attempts", pa.int32()),
        ("rows_loaded", pa.int64()),
        ("rows_rejected", pa.int64()),
        ("recorded_at", pa.timestamp("us")),
    ]
)
