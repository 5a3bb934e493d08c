"""Older history than the demo can serve, by copying built rows back in time.

The simulator's story starts at ``orchestration.settings.DEMO_WINDOW`` (2025-09-01), so a real
build reaches back ~15 months at most. To stand for three years, every base table of the
``raw`` and ``marts`` schemas gets copies of its real rows with every DATE / TIMESTAMP column
shifted back by whole multiples of the real span (span = number of real days, so the copies tile
the calendar without gaps or overlaps and keep every key unique), down to the first wanted day.
The staging and intermediate layers are views over ``raw``, so they see the copies too; the
Dagster event log does not (it only holds the real runs).
"""

from __future__ import annotations

from datetime import date
from pathlib import Path

from storage import DuckDBEngine, Paths

SCHEMAS = ("raw", "marts")
TEMPORAL = ("DATE", "TIMESTAMP", "TIMESTAMP WITH TIME ZONE", "TIMESTAMP_NS", "TIMESTAMP_MS", "TIMESTAMP_S")
DAY_COLUMNS = ("partition_date", "date", "hour_start")  # the column a table's rows are dated by
REFERENCE_PREFIX = "ref_"  # dbt seeds (past episodes): reference rows, not history to tile
HASHED_KEYS = ("alert_id",)  # keys hashed from a date: a copy gets its own, as a rebuilt day would


def _q(name: str) -> str:
    return '"' + name.replace('"', '""') + '"'


def extend_history(home: Path, real_first: date, real_last: date, wanted_first: date) -> dict[str, int]:
    """Copy rows dated ``real_first..real_last`` back until ``wanted_first``; rows added per table."""
    span = (real_last - real_first).days + 1
    copies = -(-(real_first - wanted_first).days // span) if wanted_first < real_first else 0
    added: dict[str, int] = {}
    with DuckDBEngine(Paths(home)).connect() as con:
        tables = con.execute(
            "SELECT table_schema, table_name FROM information_schema.tables WHERE table_type = 'BASE TABLE' "
            "AND table_catalog = current_database() AND table_schema IN (SELECT unnest(?::VARCHAR[])) ORDER BY ALL",
            [list(SCHEMAS)],
        ).fetchall()
        con.execute("BEGIN TRANSACTION")
        for schema, table in tables:
            columns = con.execute(
                "SELECT column_name, data_type FROM information_schema.columns "
                "WHERE table_catalog = current_database() AND table_schema = ? AND table_name = ? "
                "ORDER BY ordinal_position",
                [schema, table],
            ).fetchall()
            temporal = {name: kind for name, kind in columns if kind in TEMPORAL}
            day_column = next((c for c in DAY_COLUMNS if c in temporal), next(iter(temporal), None))
            if day_column is None or copies == 0 or table.startswith(REFERENCE_PREFIX):
                continue
            target = f"{_q(schema)}.{_q(table)}"
            total = 0
            for k in range(1, copies + 1):
                shift = k * span
                select = ", ".join(_shifted(n, kind, shift, n in temporal) for n, kind in columns)
                day = f"CAST({_q(day_column)} AS DATE)"
                total += con.execute(
                    f"INSERT INTO {target} BY NAME SELECT {select} FROM {target} "
                    f"WHERE {day} BETWEEN ? AND ? AND {day} - INTERVAL {shift} DAY >= ?",
                    [real_first, real_last, wanted_first],
                ).fetchone()[0]
            added[f"{schema}.{table}"] = total
        con.execute("COMMIT")
        con.execute("CHECKPOINT")
    return added


def _shifted(name: str, kind: str, shift: int, temporal: bool) -> str:
    if temporal:
        return f"CAST({_q(name)} - INTERVAL {shift} DAY AS {kind}) AS {_q(name)}"
    if name in HASHED_KEYS:
        return f"{_q(name)} || '-{shift}d' AS {_q(name)}"
    return _q(name)
