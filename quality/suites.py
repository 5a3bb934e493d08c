"""Great Expectations suites as code: one per raw dataset (derived from its schema) and one per
gated mart. Expectation objects are built lazily because importing GX costs seconds."""

from __future__ import annotations

from collections.abc import Callable
from datetime import date, datetime, timedelta
from typing import Any

import pandas as pd

from ingestion.schemas import Check, Dataset
from quality.validate import imported_gx

# An event above this is a unit bug (contracts read as coins, cents as dollars), not a market.
MAX_EVENT_USD = 2e9
MAX_HOURLY_BUCKET_USD = 2e10

Expectations = list[Any]
Prepare = Callable[[pd.DataFrame], pd.DataFrame]


def raw_suite(dataset: Dataset, days: list[date]) -> Expectations:
    gxe = imported_gx().expectations

    expectations: Expectations = [
        gxe.ExpectTableColumnsToMatchSet(
            column_set=[c.name for c in dataset.columns] + ["partition_date", "payload_ref"], exact_match=False
        ),
        gxe.ExpectCompoundColumnsToBeUnique(column_list=list(dataset.natural_key)),
    ]
    start = datetime.combine(min(days), datetime.min.time())
    end = datetime.combine(max(days), datetime.min.time()) + timedelta(days=1) - timedelta(microseconds=1)
    for column in dataset.columns:
        for check in column.checks:
            if check is Check.REQUIRED:
                expectations.append(gxe.ExpectColumnValuesToNotBeNull(column=column.name))
            elif check is Check.POSITIVE:
                expectations.append(gxe.ExpectColumnValuesToBeBetween(column=column.name, min_value=0, strict_min=True))
            elif check is Check.NON_NEGATIVE:
                expectations.append(gxe.ExpectColumnValuesToBeBetween(column=column.name, min_value=0))
            elif check is Check.SIDE:
                expectations.append(gxe.ExpectColumnValuesToBeInSet(column=column.name, value_set=["long", "short"]))
            elif check is Check.IN_DAY:
                # min and max inside the window <=> every value inside it; GX's per-value check on
                # timestamps maps a Python function over the column (~1 s per 80k rows).
                expectations.append(gxe.ExpectColumnMinToBeBetween(column=column.name, min_value=start, max_value=end))
                expectations.append(gxe.ExpectColumnMaxToBeBetween(column=column.name, min_value=start, max_value=end))
    if "usd_value" in dataset.schema.names:
        expectations.append(gxe.ExpectColumnValuesToBeBetween(column="usd_value", max_value=MAX_EVENT_USD))
    for column in ("long_usd", "short_usd"):
        if column in dataset.schema.names:
            expectations.append(gxe.ExpectColumnValuesToBeBetween(column=column, max_value=MAX_HOURLY_BUCKET_USD))
    return expectations


def _with_total_gap(frame: pd.DataFrame) -> pd.DataFrame:
    parts = frame["long_liquidations_usd"].fillna(0) + frame["short_liquidations_usd"].fillna(0)
    return frame.assign(total_minus_parts=(frame["total_liquidations_usd"] - parts).abs())


def imbalance_suite() -> tuple[Expectations, Prepare]:
    gxe = imported_gx().expectations

    return [
        gxe.ExpectCompoundColumnsToBeUnique(column_list=["date", "exchange", "asset"]),
        gxe.ExpectColumnValuesToNotBeNull(column="total_liquidations_usd"),
        gxe.ExpectColumnValuesToBeBetween(column="long_share", min_value=0, max_value=1),
        gxe.ExpectColumnValuesToBeBetween(column="long_liquidations_usd", min_value=0),
        gxe.ExpectColumnValuesToBeBetween(column="short_liquidations_usd", min_value=0),
        gxe.ExpectColumnValuesToBeBetween(column="total_minus_parts", max_value=0.01),
        gxe.ExpectColumnValuesToNotBeNull(column="coverage_level"),
    ], _with_total_gap


def stress_suite() -> tuple[Expectations, Prepare]:
    gxe = imported_gx().expectations

    return [
        gxe.ExpectCompoundColumnsToBeUnique(column_list=["date", "asset"]),
        gxe.ExpectColumnValuesToNotBeNull(column="price_close"),
        gxe.ExpectColumnValuesToBeBetween(column="stress_score", min_value=0, max_value=100),
        gxe.ExpectColumnValuesToBeInSet(column="stress_level", value_set=["calm", "elevated", "high", "extreme"]),
        gxe.ExpectColumnValuesToBeBetween(column="long_share", min_value=0, max_value=1),
        gxe.ExpectColumnValuesToBeBetween(column="open_interest_usd", min_value=0, strict_min=True),
        gxe.ExpectColumnValuesToBeBetween(column="complete_exchange_share", min_value=0, max_value=1),
    ], lambda frame: frame


def _with_band_width(frame: pd.DataFrame) -> pd.DataFrame:
    return _with_total_gap(frame).assign(band_width=frame["price_band_high"] - frame["price_band_low"])


def clusters_suite() -> tuple[Expectations, Prepare]:
    gxe = imported_gx().expectations

    return [
        gxe.ExpectCompoundColumnsToBeUnique(column_list=["date", "asset", "price_band_low"]),
        gxe.ExpectColumnValuesToBeBetween(column="band_width", min_value=0, strict_min=True),
        gxe.ExpectColumnValuesToBeBetween(column="total_liquidations_usd", min_value=0, strict_min=True),
        gxe.ExpectColumnValuesToBeBetween(column="long_share", min_value=0, max_value=1),
        gxe.ExpectColumnValuesToBeBetween(column="total_minus_parts", max_value=0.01),
        gxe.ExpectColumnValuesToNotBeNull(column="near_local_low"),
        # A week's liquidations can sit 50 % above the close after a crash (DOGE on 10 Oct 2025); a
        # band 10x above the close or 95 % below it is a price in the wrong unit, not a market.
        gxe.ExpectColumnValuesToBeBetween(column="distance_from_close_pct", min_value=-95, max_value=1000),
    ], _with_band_width


def episodes_comparison_suite() -> tuple[Expectations, Prepare]:
    gxe = imported_gx().expectations

    return [
        gxe.ExpectColumnValuesToBeUnique(column="date"),
        gxe.ExpectColumnValuesToBeBetween(column="total_liquidations_usd", min_value=0),
        gxe.ExpectColumnValuesToBeBetween(column="long_share", min_value=0, max_value=1),
        gxe.ExpectColumnValuesToBeBetween(column="own_history_percentile", min_value=0, max_value=100),
        gxe.ExpectColumnValuesToBeBetween(column="ratio_to_closest_episode", min_value=0, strict_min=True),
    ], _with_total_gap


COVERAGE_LEVELS = ["complete", "throttled", "estimate", "partial", "missing"]
BELOW_WHOLE = ("partial", "missing")  # a gap: what the coverage checks warn about


def coverage_suite() -> tuple[Expectations, Prepare]:
    gxe = imported_gx().expectations

    return [
        gxe.ExpectCompoundColumnsToBeUnique(column_list=["date", "exchange", "asset", "dataset"]),
        gxe.ExpectColumnValuesToBeInSet(column="coverage_level", value_set=COVERAGE_LEVELS),
        gxe.ExpectColumnValuesToBeBetween(column="longest_gap_minutes", min_value=0, max_value=1440),
        gxe.ExpectColumnValuesToBeBetween(column="observed_points", min_value=0),
    ], lambda frame: frame


MART_SUITES: dict[str, Callable[[], tuple[Expectations, Prepare]]] = {
    "fct_liquidation_imbalance_daily": imbalance_suite,
    "fct_leverage_stress_daily": stress_suite,
    "fct_liquidation_clusters": clusters_suite,
    "fct_stress_vs_episodes": episodes_comparison_suite,
    "fct_source_coverage_daily": coverage_suite,
}
