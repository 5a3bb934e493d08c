"""Which coverage gaps a catch-up can still fill, from which endpoint, and which it cannot (and why).

A gap is an exchange-day whose coverage of a dataset is below whole (partial or missing, see
fct_source_coverage_daily). It can be filled by a registered catch-up endpoint (``Endpoint.fills``)
that serves that dataset for that exchange, as long as the day is inside the endpoint's look-back.
An exchange-day already filled is asked for again whenever its day is re-run, so that replacing a
day's partition never drops a fill.
"""

from __future__ import annotations

from collections.abc import Callable, Iterable
from dataclasses import dataclass, field
from datetime import date, timedelta

from ingestion.sources.base import Endpoint


@dataclass(frozen=True)
class CoverageRow:
    """One exchange-day-dataset of the coverage mart, as the catch-up sees it."""

    day: date
    exchange: str
    dataset: str
    source: str  # the source the marts use for it (a fill endpoint's table once filled)
    level: str


BELOW_WHOLE = frozenset({"partial", "missing"})
# The coverage dataset (fct_source_coverage_daily.dataset) of each raw dataset that is graded.
COVERAGE_DATASET = {
    "liquidation_events": "liquidations",
    "liquidation_buckets": "liquidations",
    "funding_rates": "funding",
    "open_interest": "open_interest",
    "candles": "prices",
}


def unavailable_rows(
    unavailable: Iterable[tuple[Endpoint, date]], exchanges: Callable[[Endpoint], Iterable[str]]
) -> list[CoverageRow]:
    """The coverage rows a day's unavailable endpoints will have once built (``missing``), for a
    run whose catch-up endpoint runs before the marts of that day exist: a venue whose collector
    recorded nothing that day is filled in the same run."""
    return [
        CoverageRow(day, exchange, COVERAGE_DATASET[endpoint.dataset.name], endpoint.table, "missing")
        for endpoint, day in unavailable
        if endpoint.fills is None and endpoint.coverage is not None
        for exchange in exchanges(endpoint)
    ]


@dataclass
class FillPlan:
    requests: dict[str, dict[date, frozenset[str]]] = field(default_factory=dict)  # table -> day -> exchanges
    new_gaps: set[tuple[str, date, str]] = field(default_factory=set)  # (table, day, exchange) not filled yet
    unrecoverable: list[tuple[CoverageRow, str]] = field(default_factory=list)

    def days(self, table: str) -> dict[date, frozenset[str]]:
        return self.requests.get(table, {})

    def new_days(self) -> list[date]:
        return sorted({day for _, day, _ in self.new_gaps})

    def ask(self, table: str, row: CoverageRow) -> None:
        days = self.requests.setdefault(table, {})
        days[row.day] = days.get(row.day, frozenset()) | {row.exchange}


def plan_fills(rows: Iterable[CoverageRow], endpoints: Iterable[Endpoint], today: date | None) -> FillPlan:
    """``today`` is the live date (look-backs apply); None in demo and replay, where every day can be served."""
    fillers = [e for e in endpoints if e.fills is not None]
    by_table = {e.table: e for e in fillers}
    plan = FillPlan()
    for row in {(r.day, r.exchange, r.dataset, r.source, r.level): r for r in rows}.values():
        if row.source in by_table:
            plan.ask(row.source, row)
            continue
        if row.level not in BELOW_WHOLE:
            continue
        candidates = [e for e in fillers if e.fills == row.dataset and row.exchange in e.fill_exchanges]
        if not candidates:
            plan.unrecoverable.append((row, f"no catch-up source serves {row.dataset} for {row.exchange}"))
            continue
        servable = [e for e in candidates if row.day >= _earliest(e, today)]
        if not servable:
            first = candidates[0]
            reason = f"beyond {first.source}'s {first.look_back_days}-day look-back (from {_earliest(first, today)})"
            plan.unrecoverable.append((row, reason))
            continue
        plan.ask(servable[0].table, row)
        plan.new_gaps.add((servable[0].table, row.day, row.exchange))
    plan.unrecoverable.sort(key=lambda item: (item[0].day, item[0].exchange, item[0].dataset))
    return plan


def _earliest(endpoint: Endpoint, today: date | None) -> date:
    """The oldest day the endpoint still serves (any day without a live look-back)."""
    if today is None or endpoint.look_back_days is None:
        return date.min
    return today - timedelta(days=endpoint.look_back_days)
