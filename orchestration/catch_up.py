"""Where the catch-up's plan comes from: the coverage mart, read from the warehouse inside a run
(the fill asset) or from the published copy outside one (the sensor and ``levstress catch-up``,
which must not open the warehouse a run may be writing)."""

from __future__ import annotations

from collections.abc import Sequence
from datetime import date
from pathlib import Path

import duckdb
import pandas as pd

from ingestion.catch_up import CoverageRow, FillPlan, plan_fills
from ingestion.registry import ENDPOINTS
from quality.coverage import coverage_rows
from storage import Engine

COVERAGE_MART = "fct_source_coverage_daily"
OUTCOMES_TABLE = "fetch_outcomes"  # raw.fetch_outcomes (storage engines)
FETCH_MART = "fct_source_fetch_daily"
FILL_ENDPOINTS = [e for e in ENDPOINTS.values() if e.fills is not None]


def warehouse_fill_plan(
    engine: Engine, days: list[date] | None, today: date | None, also: Sequence[CoverageRow] = ()
) -> FillPlan:
    """The plan for these days from the warehouse's coverage mart (none before its first build)
    and ``also``: rows the coverage mart will have once these days are built."""
    built = []
    if COVERAGE_MART in engine.table_columns("marts"):
        built = coverage_rows(engine.read_days("marts", COVERAGE_MART, "date", days))
    return plan_fills([*built, *also], FILL_ENDPOINTS, today)


def unavailable_outcomes(engine: Engine, days: list[date]) -> list[tuple[str, date, str]]:
    """(source table, day, reason) of every endpoint-day of these days whose source was unavailable."""
    if OUTCOMES_TABLE not in engine.table_columns("raw"):
        return []
    frame = engine.read_days("raw", OUTCOMES_TABLE, "partition_date", days)
    gaps = frame[frame["status"] == "unavailable"].sort_values(["source_table", "partition_date"])
    return [
        (table, pd.Timestamp(day).date(), reason)
        for table, day, reason in gaps[["source_table", "partition_date", "reason"]].itertuples(index=False)
    ]


def last_loaded_day(engine: Engine) -> date | None:
    """The latest day any raw endpoint was asked for (raw.fetch_outcomes), or None."""
    return engine.last_day("raw", OUTCOMES_TABLE, "partition_date")


def published_fill_plan(serving: Path, today: date | None) -> FillPlan:
    """The plan from the published copy: readable while a run writes the warehouse."""
    if not serving.exists():
        return FillPlan()
    with duckdb.connect(str(serving), read_only=True) as con:
        frame = con.execute(f"SELECT * FROM marts.{COVERAGE_MART}").df()
    return plan_fills(coverage_rows(frame), FILL_ENDPOINTS, today)


def published_retry_days(serving: Path, today: date | None) -> dict[date, list[str]]:
    """Days with an unavailable endpoint that a re-run could still fetch (``Endpoint.worth_retrying``:
    inside its look-back from ``today``, any day without a live date; never a collector day gone
    by or a day before an archive's first), and which endpoints, from the published copy."""
    if not serving.exists():
        return {}
    with duckdb.connect(str(serving), read_only=True) as con:
        if not con.execute("SELECT count(*) FROM duckdb_tables() WHERE table_name = ?", [FETCH_MART]).fetchone()[0]:
            return {}
        rows = con.execute(
            f"SELECT date, source_table FROM marts.{FETCH_MART} WHERE status = 'unavailable' ORDER BY 1, 2"
        ).fetchall()
    retry: dict[date, list[str]] = {}
    for day, table in rows:
        if table not in ENDPOINTS or ENDPOINTS[table].worth_retrying(day, today):
            retry.setdefault(day, []).append(table)
    return retry
