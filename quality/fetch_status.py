"""What each source endpoint delivered per day, in words a person reads: fetched, missing
(unavailable), partial (fetched with a gap) or with rejected rows, and why. ``levstress status``
prints it from the published copy; the fetch_status check shows it in the Dagster UI."""

from __future__ import annotations

from collections.abc import Mapping
from datetime import date, timedelta

import pandas as pd

COLUMNS = ["date", "source", "endpoint", "state", "rows", "rejected", "why"]
WHOLE = ("fetched", "not needed")
LEVEL_ORDER = {"missing": 0, "partial": 1}


def status_table(
    fetches: pd.DataFrame,
    coverage: pd.DataFrame,
    retry_days: Mapping[str, int | None],
    today: date | None,
) -> pd.DataFrame:
    """One row per (date, source table) of ``fetches`` (fct_source_fetch_daily), worst first.
    ``coverage`` (fct_source_coverage_daily) grades what was fetched; ``today`` (live) says which
    missing days can still be retried within the endpoint's look-back."""
    gaps = _coverage_gaps(coverage)
    rows = []
    for fetch in fetches.sort_values(["date", "source_table"]).itertuples(index=False):
        day = pd.Timestamp(fetch.date).date()
        gap = gaps.get((day, fetch.source_table))
        if fetch.status == "unavailable":
            state, why = "missing", f"{fetch.reason}; {_retry(day, retry_days.get(fetch.source_table), today)}"
        elif fetch.status == "not_needed":
            state, why = "not needed", fetch.reason
        elif gap is not None:
            state, why = gap
        elif fetch.rows_rejected:
            state, why = (
                "rejected rows",
                f"{fetch.rows_rejected} row(s) rejected, kept in raw.rejected_rows with the reason",
            )
        else:
            state, why = "fetched", ""
        rows.append([day, fetch.source, fetch.endpoint, state, int(fetch.rows_loaded), int(fetch.rows_rejected), why])
    table = pd.DataFrame(rows, columns=COLUMNS)
    rank = table["state"].map({"missing": 0, "partial": 1, "rejected rows": 2}).fillna(3)
    return table.assign(_rank=rank).sort_values(["_rank", "date", "source", "endpoint"]).drop(columns="_rank")


def _coverage_gaps(coverage: pd.DataFrame) -> dict[tuple[date, str], tuple[str, str]]:
    """(day, source table) -> (level, reason) of its worst partial or missing series that day,
    as the venue's own source (primary) or as the source a row uses."""
    found: dict[tuple[date, str], tuple[str, str]] = {}
    for columns in (("source", "coverage_level"), ("primary_source", "primary_coverage_level")):
        part = coverage[coverage[columns[1]].isin(LEVEL_ORDER)]
        for row in part[["date", *columns, "asset", "gap_reason"]].itertuples(index=False):
            key = (pd.Timestamp(row[0]).date(), row[1])
            level, asset, reason = row[2], row[3], row[4]
            why = f"{asset}: {reason}" if isinstance(reason, str) else f"{asset} {level}"
            if key not in found or LEVEL_ORDER[level] < LEVEL_ORDER[found[key][0]]:
                found[key] = (level, why)
    return found


def _retry(day: date, look_back: int | None, today: date | None) -> str:
    if today is None or look_back is None:
        return "retried by the next run of that day"
    earliest = today - timedelta(days=look_back)
    if day >= earliest:
        return f"retried after each daily run until {day + timedelta(days=look_back)} (look-back {look_back} d)"
    return f"can no longer be fetched (beyond the {look_back}-day look-back)"


def status_markdown(table: pd.DataFrame, limit: int = 40) -> str:
    if table.empty:
        return "No fetch outcomes for these days."
    lines = ["| date | source | endpoint | state | rows | rejected | why |", "|---|---|---|---|---|---|---|"]
    for row in table.head(limit).itertuples(index=False):
        why = str(row.why).replace("|", "/")
        lines.append(
            f"| {row.date} | {row.source} | {row.endpoint} | {row.state} | {row.rows} | {row.rejected} | {why} |"
        )
    if len(table) > limit:
        lines.append(f"\n... and {len(table) - limit} more rows (marts.fct_source_fetch_daily).")
    return "\n".join(lines)
