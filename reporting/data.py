"""Read-only queries on a published snapshot: small frames aggregated in DuckDB, never a row after as_of."""

from __future__ import annotations

import math
from dataclasses import dataclass
from datetime import date, datetime, time, timedelta

import duckdb
import pandas as pd

SCHEMA = "marts"
STRESS = "fct_leverage_stress_daily"
IMBALANCE = "fct_liquidation_imbalance_daily"
HOURLY = "fct_liquidations_hourly"
MARKET_CAP = "fct_market_cap_daily"
BREADTH = "fct_market_breadth_daily"
CLUSTERS = "fct_liquidation_clusters"
EVENT_STUDY = "fct_stress_event_study"
LEVELS = "fct_estimated_liquidation_levels"
MAP_VALIDATION = "fct_liquidation_map_validation"
LEVELS_RANGE_PCT = 20  # the map's bands within this % of the close are drawn

HEATMAP_COINS = 20
MONTH_DAYS = 30
WEEK_DAYS = 7

_STRESS_SQL = f"""
SELECT date, asset, long_liquidations_usd, short_liquidations_usd, long_share, funding_rate_8h,
       open_interest_usd, oi_change_pct_1d, price_close, stress_score, stress_level,
       coalesce(is_pressure_cooker, false) AS is_pressure_cooker,
       coalesce(is_deleveraging, false) AS is_deleveraging
FROM {SCHEMA}.{STRESS}
WHERE date BETWEEN ? AND ?
ORDER BY asset, date
"""

_EXCHANGE_DAILY_SQL = f"""
SELECT date, exchange,
       sum(long_liquidations_usd) AS long_usd,
       sum(short_liquidations_usd) AS short_usd
FROM {SCHEMA}.{IMBALANCE}
WHERE date BETWEEN ? AND ?
GROUP BY ALL
ORDER BY date, exchange
"""

_HOURLY_SQL = f"""
SELECT hour_start, asset,
       sum(long_liquidations_usd) AS long_usd,
       sum(short_liquidations_usd) AS short_usd,
       count(*) FILTER (WHERE is_spike) AS spikes
FROM {SCHEMA}.{HOURLY}
WHERE hour_start >= ? AND hour_start < ?
GROUP BY ALL
ORDER BY hour_start, asset
"""

# The coin list is fixed at the latest day up to as_of, so the heatmap's rows do not depend on later ranks.
_MARKET_CAP_SQL = f"""
WITH latest AS (
    SELECT max(date) AS day FROM {SCHEMA}.{MARKET_CAP} WHERE date BETWEEN ? AND ?
),
top_coins AS (
    SELECT coin_id, upper(symbol) AS symbol, market_cap_usd
    FROM {SCHEMA}.{MARKET_CAP}, latest
    WHERE date = latest.day
    ORDER BY market_cap_usd DESC, coin_id
    LIMIT ?
)
SELECT m.date, m.coin_id, t.symbol, t.market_cap_usd AS latest_market_cap_usd, m.market_cap_change_pct_1d
FROM {SCHEMA}.{MARKET_CAP} AS m
JOIN top_coins AS t USING (coin_id)
WHERE m.date BETWEEN ? AND ?
ORDER BY latest_market_cap_usd DESC, m.date
"""

_BREADTH_SQL = f"""
SELECT date, total_market_cap_usd, btc_dominance_pct, large_caps_negative_share, advancers, decliners
FROM {SCHEMA}.{BREADTH}
WHERE date BETWEEN ? AND ?
ORDER BY date
"""

_CLUSTERS_SQL = f"""
SELECT date, asset, price_band_low, price_band_high, long_liquidations_usd, short_liquidations_usd,
       total_liquidations_usd, price_close, distance_from_close_pct, local_low_price,
       coalesce(near_local_low, false) AS near_local_low
FROM {SCHEMA}.{CLUSTERS}
WHERE date = ?
ORDER BY asset, price_band_low
"""


_LEVELS_SQL = f"""
SELECT date, asset, price_band_low, price_band_high, long_liquidation_usd, short_liquidation_usd, price_close,
       distance_from_close_pct,
       coalesce(is_nearest_large_long_band, false) AS is_nearest_large_long_band,
       coalesce(is_nearest_large_short_band, false) AS is_nearest_large_short_band
FROM {SCHEMA}.{LEVELS}
WHERE date = ? AND abs(distance_from_close_pct) <= {LEVELS_RANGE_PCT}
ORDER BY asset, price_band_low
"""

# Every test of the map up to as_of, averaged over asset-days.
_MAP_VALIDATION_SQL = f"""
SELECT count(*) AS asset_days, avg(largest_bands_share) AS largest_bands_share,
       avg(nearest_bands_share) AS nearest_bands_share, avg(uniform_share) AS uniform_share
FROM {SCHEMA}.{MAP_VALIDATION}
WHERE date <= ?
HAVING count(*) > 0
"""

# The study as it stood at the end of as_of (its latest row up to then: a day the pipeline did not
# build keeps the day before's study).
_EVENT_STUDY_SQL = f"""
SELECT date, signal, threshold, horizon_days, evaluated_days, alerts, hits, events, events_caught,
       alert_rate, precision, recall, base_rate, lift, false_alarms_per_month, noise_to_signal, median_lead_days
FROM {SCHEMA}.{EVENT_STUDY}
WHERE date = (SELECT max(date) FROM {SCHEMA}.{EVENT_STUDY} WHERE date <= ?)
ORDER BY horizon_days, threshold, signal
"""


@dataclass(frozen=True)
class Windows:
    """The date ranges the panels cover; every one ends on as_of."""

    as_of: date
    history_start: date
    month_start: date
    week_start: date

    @classmethod
    def ending(cls, as_of: date, history_days: int) -> Windows:
        if history_days < 1:
            raise ValueError(f"history_days must be >= 1, got {history_days}")
        return cls(
            as_of=as_of,
            history_start=as_of - timedelta(days=history_days - 1),
            month_start=as_of - timedelta(days=MONTH_DAYS - 1),
            week_start=as_of - timedelta(days=WEEK_DAYS - 1),
        )

    @property
    def week_start_hour(self) -> datetime:
        return datetime.combine(self.week_start, time())

    @property
    def end_hour_exclusive(self) -> datetime:
        return datetime.combine(self.as_of + timedelta(days=1), time())


@dataclass(frozen=True)
class SnapshotData:
    """One frame per source; None when the mart is missing from the snapshot."""

    stress: pd.DataFrame | None
    exchange_daily: pd.DataFrame | None
    hourly: pd.DataFrame | None
    market_caps: pd.DataFrame | None
    breadth: pd.DataFrame | None
    clusters: pd.DataFrame | None
    event_study: pd.DataFrame | None
    levels: pd.DataFrame | None
    map_validation: pd.DataFrame | None


@dataclass(frozen=True)
class AssetDay:
    """One asset's as-of figures for the header table and the summary (None = NULL or no row)."""

    asset: str
    has_row: bool
    stress_score: float | None
    stress_level: str | None
    long_usd: float | None
    short_usd: float | None
    long_share: float | None
    funding_8h: float | None
    open_interest_usd: float | None
    oi_change_pct: float | None
    is_pressure_cooker: bool
    is_deleveraging: bool
    spike_hours: int

    @property
    def total_usd(self) -> float:
        return (self.long_usd or 0.0) + (self.short_usd or 0.0)


def existing_marts(con: duckdb.DuckDBPyConnection) -> set[str]:
    rows = con.execute(
        "SELECT table_name FROM information_schema.tables WHERE table_schema = ?",
        [SCHEMA],
    ).fetchall()
    return {r[0] for r in rows}


def _frame(
    con: duckdb.DuckDBPyConnection, tables: set[str], table: str, sql: str, params: list[object]
) -> pd.DataFrame | None:
    if table not in tables:
        return None
    return con.execute(sql, params).df()


def load(con: duckdb.DuckDBPyConnection, w: Windows) -> SnapshotData:
    tables = existing_marts(con)
    return SnapshotData(
        stress=_frame(con, tables, STRESS, _STRESS_SQL, [w.history_start, w.as_of]),
        exchange_daily=_frame(con, tables, IMBALANCE, _EXCHANGE_DAILY_SQL, [w.month_start, w.as_of]),
        hourly=_frame(con, tables, HOURLY, _HOURLY_SQL, [w.week_start_hour, w.end_hour_exclusive]),
        market_caps=_frame(
            con,
            tables,
            MARKET_CAP,
            _MARKET_CAP_SQL,
            [w.month_start, w.as_of, HEATMAP_COINS, w.month_start, w.as_of],
        ),
        breadth=_frame(con, tables, BREADTH, _BREADTH_SQL, [w.month_start, w.as_of]),
        clusters=_frame(con, tables, CLUSTERS, _CLUSTERS_SQL, [w.as_of]),
        event_study=_frame(con, tables, EVENT_STUDY, _EVENT_STUDY_SQL, [w.as_of]),
        levels=_frame(con, tables, LEVELS, _LEVELS_SQL, [w.as_of]),
        map_validation=_frame(con, tables, MAP_VALIDATION, _MAP_VALIDATION_SQL, [w.as_of]),
    )


def tracked_assets(data: SnapshotData) -> list[str]:
    """Assets in the stress mart's window, largest open interest first (BTC, ETH, ... in practice)."""
    frame = data.stress if data.stress is not None and not data.stress.empty else data.hourly
    if frame is None or frame.empty:
        return []
    if "open_interest_usd" in frame:
        size = frame.groupby("asset")["open_interest_usd"].max().fillna(0.0)
    else:
        size = frame.groupby("asset")["long_usd"].sum()
    return sorted(size.index, key=lambda a: (-size[a], a))


def _value(row: pd.Series | None, column: str) -> float | None:
    if row is None:
        return None
    v = row[column]
    if v is None or (isinstance(v, float) and math.isnan(v)) or v is pd.NA:
        return None
    return float(v)


def _spike_hours(hourly: pd.DataFrame | None, as_of: date) -> dict[str, int]:
    if hourly is None or hourly.empty:
        return {}
    day = hourly[hourly["hour_start"].dt.date == as_of]
    return {str(k): int(v) for k, v in day.groupby("asset")["spikes"].sum().items()}


def asset_days(data: SnapshotData, assets: list[str], as_of: date) -> list[AssetDay]:
    stress = data.stress if data.stress is not None else pd.DataFrame(columns=["date", "asset"])
    today = stress[pd.to_datetime(stress["date"]).dt.date == as_of].set_index("asset")
    spikes = _spike_hours(data.hourly, as_of)
    out = []
    for asset in assets:
        row = today.loc[asset] if asset in today.index else None
        level = None if row is None or pd.isna(row["stress_level"]) else str(row["stress_level"])
        out.append(
            AssetDay(
                asset=asset,
                has_row=row is not None,
                stress_score=_value(row, "stress_score"),
                stress_level=level,
                long_usd=_value(row, "long_liquidations_usd"),
                short_usd=_value(row, "short_liquidations_usd"),
                long_share=_value(row, "long_share"),
                funding_8h=_value(row, "funding_rate_8h"),
                open_interest_usd=_value(row, "open_interest_usd"),
                oi_change_pct=_value(row, "oi_change_pct_1d"),
                is_pressure_cooker=bool(row is not None and row["is_pressure_cooker"]),
                is_deleveraging=bool(row is not None and row["is_deleveraging"]),
                spike_hours=spikes.get(asset, 0),
            )
        )
    return out
