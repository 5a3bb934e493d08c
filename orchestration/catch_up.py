"""Where the catch-up's plan comes from: the coverage mart, read from the warehouse inside a run
(the fill asset) or from the published copy outside one (the sensor and ``levstress catch-up``,
which must not open the warehouse a run may be writing)."""

from __future__ import annotations

from datetime import date
from pathlib import Path

import duckdb

from ingestion.catch_up import FillPlan, plan_fills
from ingestion.registry import ENDPOINTS
from quality.coverage import coverage_rows
from storage import Engine

COVERAGE_MART = "fct_source_coverage_daily"
FILL_ENDPOINTS = [e for e in ENDPOINTS.values() if e.fills is not None]


def warehouse_fill_plan(engine: Engine, days: list[date] | None, today: date | None) -> FillPlan:
    """The plan for these days from the warehouse's coverage mart (empty before its first build)."""
    if COVERAGE_MART not in engine.table_columns("marts"):
        return FillPlan()
    frame = engine.read_days("marts", COVERAGE_MART, "date", days)
    return plan_fills(coverage_rows(frame), FILL_ENDPOINTS, today)


def published_fill_plan(serving: Path, today: date | None) -> FillPlan:
    """The plan from the published copy: readable while a run writes the warehouse."""
    if not serving.exists():
        return FillPlan()
    with duckdb.connect(str(serving), read_only=True) as con:
        frame = con.execute(f"SELECT * FROM marts.{COVERAGE_MART}").df()
    return plan_fills(coverage_rows(frame), FILL_ENDPOINTS, today)
