from __future__ import annotations

from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from datetime import date
from pathlib import Path
from typing import TYPE_CHECKING, Protocol

import pyarrow as pa

if TYPE_CHECKING:  # pandas costs ~1 s to import; DuckDB's .df() imports it when needed
    import pandas as pd


@dataclass(frozen=True)
class Paths:
    """Where everything lives under ``$LEVSTRESS_HOME`` (the configuration contract)."""

    home: Path

    @property
    def warehouse(self) -> Path:
        return self.home / "levstress.duckdb"

    @property
    def serving(self) -> Path:
        return self.home / "serving.duckdb"

    @property
    def export(self) -> Path:
        return self.home / "export"

    @property
    def landing(self) -> Path:
        return self.home / "landing"

    @property
    def dbt_runs(self) -> Path:
        """dbt's artifacts (manifest, run_results, compiled SQL, log) of recent runs."""
        return self.home / "dbt_runs"

    @property
    def dbt_parse_state(self) -> Path:
        """dbt's partial-parse state of the last run on this home (orchestration.dbt_assets)."""
        return self.home / "dbt_partial_parse.msgpack"

    @property
    def views_fingerprint(self) -> Path:
        """The project version whose views and seeds the warehouse holds (its last good dbt build)."""
        return self.home / "dbt_views.fingerprint"

    @property
    def reports(self) -> Path:
        """The daily HTML stress reports, one file per day."""
        return self.home / "reports"

    @property
    def alert_ledger(self) -> Path:
        """Alerts already handled (one JSON line per alert_id), so none is sent twice."""
        return self.home / "alerts" / "ledger.ndjson"

    @property
    def lock(self) -> Path:
        """Held for each single write to the warehouse file."""
        return self.home / ".writer.lock"

    @property
    def run_lock(self) -> Path:
        """Held for a whole pipeline run (storage/run_lock.py)."""
        return self.home / ".run.lock"

    @property
    def run_lock_holder(self) -> Path:
        return self.home / ".run.lock.holder"


class Engine(Protocol):
    paths: Paths

    def replace_partitions(
        self, table: str, rows: pa.Table, rejects: pa.Table, days: list[date], outcomes: pa.Table | None = None
    ) -> None:
        """Atomically replace the given days of ``raw.<table>`` (and its rejects) with ``rows``,
        and the days in ``outcomes`` of the table's rows in ``raw.fetch_outcomes``: an unavailable
        day has an outcome but is not in ``days``, so its rows are kept."""

    def ensure_tables(self, schemas: Mapping[str, pa.Schema]) -> None:
        """Create each ``raw.<table>`` that does not exist yet, empty, with its schema (a home
        whose runs never selected a source still builds every model over it)."""

    def read_days(self, schema: str, table: str, date_column: str, days: list[date] | None) -> pd.DataFrame:
        """The rows of ``schema.table`` whose ``date_column`` falls on one of ``days`` (all if None)."""

    def last_day(self, schema: str, table: str, date_column: str) -> date | None:
        """The latest ``date_column`` of ``schema.table``; None when it is empty or does not exist."""

    def row_counts(self, relations: list[tuple[str, str]]) -> dict[tuple[str, str], int]:
        """Rows per (schema, table); views and relations that do not exist are left out."""

    def table_columns(self, schema: str) -> dict[str, set[str]]:
        """Column names of every table and view in ``schema`` (an upgrade check reads them)."""

    def publish(self, marts: Mapping[str, Sequence[str]]) -> dict[str, int]:
        """Write the read-only serving snapshot and the Parquet exports of ``marts`` (name -> the
        contract's columns, in order; one file per mart and month, all switched in one rename);
        returns row counts."""


def outcome_days(outcomes: pa.Table) -> list[date]:
    return sorted(set(outcomes["partition_date"].to_pylist()))
