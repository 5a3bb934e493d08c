"""Coverage gates: which days of a dataset have a hole (fct_source_coverage_daily rows that are
partial or missing). They warn and never block: a gap in one venue's data is something to see
and fill, not a reason to hold back every other venue's numbers."""

from __future__ import annotations

import pandas as pd

from ingestion.catch_up import CoverageRow
from quality.suites import BELOW_WHOLE

COVERAGE_DATASETS = ("liquidations", "funding", "open_interest", "prices")
SHOWN_GAPS = 20


def coverage_gaps(frame: pd.DataFrame, dataset: str) -> pd.DataFrame:
    """The dataset's rows below a whole day, worst first (longest gap)."""
    gaps = frame[(frame["dataset"] == dataset) & frame["coverage_level"].isin(BELOW_WHOLE)]
    return gaps.sort_values(["longest_gap_minutes", "date", "exchange", "asset"], ascending=[False, True, True, True])


def coverage_rows(frame: pd.DataFrame) -> list[CoverageRow]:
    """The mart's rows as the catch-up planner reads them (one per exchange, day, dataset and level)."""
    columns = ["date", "exchange", "dataset", "source", "coverage_level"]
    distinct = frame[columns].drop_duplicates()
    return [
        CoverageRow(pd.Timestamp(day).date(), exchange, dataset, source, level)
        for day, exchange, dataset, source, level in distinct.itertuples(index=False)
    ]


def gaps_markdown(gaps: pd.DataFrame) -> str:
    if gaps.empty:
        return "No partial or missing day."
    lines = [
        "| date | exchange | asset | level | points | longest gap (UTC) | minutes |",
        "|---|---|---|---|---|---|---|",
    ]
    for row in gaps.head(SHOWN_GAPS).itertuples():
        expected = "" if pd.isna(row.expected_points) else f" of {int(row.expected_points)}"
        gap = f"{_minute(row.longest_gap_start)} -> {_minute(row.longest_gap_end)}"
        lines.append(
            f"| {row.date:%Y-%m-%d} | {row.exchange} | {row.asset} | {row.coverage_level} "
            f"| {row.observed_points}{expected} | {gap} | {row.longest_gap_minutes} |"
        )
    if len(gaps) > SHOWN_GAPS:
        lines.append(f"\n... and {len(gaps) - SHOWN_GAPS} more rows (marts.fct_source_coverage_daily).")
    return "\n".join(lines)


def _minute(moment: object) -> str:
    return "?" if pd.isna(moment) else f"{moment:%Y-%m-%d %H:%M}"
