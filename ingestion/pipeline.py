"""Fetch -> archive -> parse -> validate for one endpoint over a window of UTC days.

A multi-day run pages through the whole window at once (a year of funding is a handful of
calls, not 365 x assets) and every row goes to the day of its own timestamp. Pages are archived
before parsing, also when a fetch fails half-way, so nothing that was received is lost and a
window can be rebuilt offline from the landing zone.
"""

from __future__ import annotations

import itertools
from collections.abc import Iterable, Iterator
from dataclasses import dataclass, field
from datetime import date, datetime, timedelta
from pathlib import Path
from typing import Any

import pyarrow as pa
import pyarrow.compute as pc

from ingestion.http import Page, SourceError, SourceUnavailable
from ingestion.landing import archive_pages, read_archive
from ingestion.rows import BulkUnfit, ColumnChunk, ParsedBatch, build_batch
from ingestion.schemas import FETCH_OUTCOMES_SCHEMA, Check, Dataset
from ingestion.sources.base import Absent, Endpoint, FetchContext, Window
from ingestion.sources.tape import CollectorTapes


@dataclass(frozen=True)
class NotFetched:
    """Why a day of an endpoint was not fetched: the source was unavailable (unreachable, no
    collector file, no key, beyond the look-back). Rows already loaded for the day are kept."""

    reason: str
    attempts: int = 0


@dataclass
class IngestReport:
    batch: ParsedBatch
    pages: int
    archives: list[str]
    days: list[date]  # the days this batch covers: only these may be replaced in the warehouse
    not_fetched: dict[date, NotFetched] = field(default_factory=dict)
    not_needed: dict[date, str] = field(default_factory=dict)  # days not asked for, and why that is no gap

    @property
    def skipped_days(self) -> list[date]:
        return sorted(self.not_fetched)

    @property
    def skipped_reason(self) -> str | None:
        """The reasons of the days not fetched, each once, in day order."""
        reasons = dict.fromkeys(self.not_fetched[d].reason for d in self.skipped_days)
        return "; ".join(reasons) or None


NO_GAP_TO_FILL = "no gap to fill on this day"


def servable_days(endpoint: Endpoint, days: list[date], today: date) -> list[date]:
    """The days a live API can still serve: it keeps only ``look_back_days`` of history, and an
    archive begins on ``history_from``."""
    earliest = endpoint.history_from or date.min
    if endpoint.look_back_days is not None:
        earliest = max(earliest, today - timedelta(days=endpoint.look_back_days))
    return [d for d in days if d >= earliest]


def skipped(endpoint: Endpoint, days: list[date], reason: str, attempts: int = 0) -> IngestReport:
    """Nothing fetched for these days, said out loud; existing rows for them are left alone."""
    empty = build_batch(endpoint.dataset, endpoint.table, iter(()))
    return IngestReport(empty, 0, [], [], dict.fromkeys(days, NotFetched(reason, attempts)))


def archive_path(landing: Path, endpoint: Endpoint, window: Window, suffix: str = "") -> Path:
    name = window.first.isoformat() if window.first == window.last else f"{window.first}_{window.last}"
    return landing / endpoint.source / endpoint.name / f"{name}{suffix}.ndjson"


def _fetch(
    endpoint: Endpoint, ctx: FetchContext, window: Window, landing: Path
) -> tuple[list[Page | Absent], list[str]]:
    pages: list[Page | Absent] = []
    try:
        for page in endpoint.fetch(ctx, window):
            pages.append(page)
    except SourceError:
        received = _received(pages)
        if received:  # keep what did arrive, under a name that never passes for a complete window
            archive_pages(archive_path(landing, endpoint, window, ".partial"), received)
        raise
    if endpoint.from_collector:  # the collector's files are themselves the landing files
        return pages, _collector_refs(_received(pages), landing)
    return pages, [str(archive_path(landing, endpoint, window).relative_to(landing))]


def _received(items: list[Page | Absent]) -> list[Page]:
    return [p for p in items if isinstance(p, Page)]


def _not_served(endpoint: Endpoint, today: date | None) -> NotFetched:
    if endpoint.look_back_days is None:
        return NotFetched(f"before the first day the source holds ({endpoint.history_from})")
    earliest = (today or date.max) - timedelta(days=endpoint.look_back_days or 0)
    return NotFetched(
        f"beyond the API's {endpoint.look_back_days}-day look-back (it serves from {earliest}); "
        "days archived earlier can be rebuilt with `levstress replay`"
    )


def ingest(
    endpoint: Endpoint, ctx: FetchContext, days: list[date], landing: Path, today: date | None = None
) -> IngestReport:
    """All days of the run in one batch, so the load is one bulk insert in one transaction.

    With ``today`` (live mode), days older than the endpoint's look-back are not asked for, nor
    a monthly archive's days of a month not over yet. A source that is unavailable
    (:class:`SourceUnavailable`, an absent collector day, every day beyond the look-back) is
    reported, not raised: the days it could not serve keep their rows. A payload that arrives
    broken still raises."""
    idle: dict[date, str] = {}
    if endpoint.fills is not None:  # a catch-up endpoint touches only the days it is asked to fill
        idle = {d: NO_GAP_TO_FILL for d in days if not ctx.fill.get(d)}
    if endpoint.whole_months and today is not None:
        idle |= {d: _month_not_over(d) for d in days if (d.year, d.month) >= (today.year, today.month)}
    report = _ingest_days(endpoint, ctx, [d for d in days if d not in idle], landing, today)
    report.not_needed = idle
    return report


def _month_not_over(day: date) -> str:
    return f"the archive's file for {day:%Y-%m} is published after the month ends; the live endpoint serves this day"


def _ingest_days(
    endpoint: Endpoint, ctx: FetchContext, days: list[date], landing: Path, today: date | None
) -> IngestReport:
    if not days:
        return skipped(endpoint, [], "nothing to fetch")
    wanted = servable_days(endpoint, days, today) if today else list(days)
    old = {d: _not_served(endpoint, today) for d in sorted(set(days) - set(wanted))}
    if not wanted:
        return IngestReport(build_batch(endpoint.dataset, endpoint.table, iter(())), 0, [], [], old)
    window = Window.of(wanted)
    try:
        items, refs = _fetch(endpoint, ctx, window, landing)
    except SourceUnavailable as exc:
        report = skipped(endpoint, wanted, exc.problem, exc.attempts)
        report.not_fetched.update(old)
        return report
    pages = _received(items)
    if not endpoint.from_collector:
        archive_pages(landing / refs[0], pages)
    report = _build(endpoint, window, items, refs)
    report.not_fetched.update(old)
    return report


def replay(endpoint: Endpoint, days: list[date], landing: Path) -> IngestReport:
    """Rebuild the batch from the landing zone only (no network): the collector's tapes, or for
    each day the most recent complete archive whose window covers it (a day fetched inside a
    backfill's window replays on its own). Each archive is parsed with the window it was fetched
    for, so every row lands on the same day, with the same rejects, as when it was fetched. Days
    with no archive are reported as not replayed and keep their rows; for a catch-up endpoint,
    which archives every request it makes, they are days it was not asked to fill."""
    report = _replay_days(endpoint, days, landing)
    if endpoint.fills is not None:
        report.not_needed = dict.fromkeys(sorted(report.not_fetched), NO_GAP_TO_FILL)
        report.not_fetched = {}
    return report


def _replay_days(endpoint: Endpoint, days: list[date], landing: Path) -> IngestReport:
    wanted = sorted(set(days))
    if endpoint.from_collector:
        window = Window.of(wanted)
        offline = FetchContext(None, (), CollectorTapes(landing))  # type: ignore[arg-type]  # collector fetches read files only
        try:
            items = list(endpoint.fetch(offline, window))
        except SourceUnavailable as exc:
            return skipped(endpoint, wanted, exc.problem, exc.attempts)
        return _build(endpoint, window, items, _collector_refs(_received(items), landing))
    sources = _latest_archives(landing, endpoint, wanted)
    covered = sorted(set().union(*(keep for _, keep in sources.values())))
    missing = sorted(set(wanted) - set(covered))
    reason = f"nothing archived for these days under {landing / endpoint.source / endpoint.name}"
    if not covered:
        return skipped(endpoint, wanted, reason)
    pages = {path: list(read_archive(path)) for path in sources}

    batch = _concat(
        _only_days(_parse(endpoint, window, pages[path], [str(path.relative_to(landing))]).batch(endpoint), keep)
        for path, (window, keep) in sources.items()
    )
    refs = [str(path.relative_to(landing)) for path in sources]
    return IngestReport(
        batch, sum(len(p) for p in pages.values()), refs, covered, dict.fromkeys(missing, NotFetched(reason))
    )


def _only_days(batch: ParsedBatch, days: set[date]) -> ParsedBatch:
    keep = pa.array(sorted(days), type=pa.date32())
    return ParsedBatch(*(t.filter(pc.is_in(t["partition_date"], value_set=keep)) for t in (batch.table, batch.rejects)))


def _concat(batches: Iterable[ParsedBatch]) -> ParsedBatch:
    parts = list(batches)
    return ParsedBatch(pa.concat_tables([b.table for b in parts]), pa.concat_tables([b.rejects for b in parts]))


def _archived_window(path: Path) -> Window | None:
    """The window in an archive's name (``<day>`` or ``<first>_<last>``); None for ``.partial``
    files and anything else that is not a complete fetch."""
    try:
        bounds = [date.fromisoformat(part) for part in path.name.removesuffix(".ndjson").split("_")]
    except ValueError:
        return None
    return Window(bounds[0], bounds[-1]) if len(bounds) in (1, 2) else None


def _latest_archives(landing: Path, endpoint: Endpoint, days: list[date]) -> dict[Path, tuple[Window, set[date]]]:
    folder = landing / endpoint.source / endpoint.name
    archives = [(path, window) for path in folder.glob("*.ndjson") if (window := _archived_window(path))]
    chosen: dict[Path, tuple[Window, set[date]]] = {}
    for day in days:
        covering = [
            (path.stat().st_mtime_ns, path.name, path, window)
            for path, window in archives
            if window.first <= day <= window.last
        ]
        if not covering:
            continue  # reported as a day not replayed; its rows in the warehouse are left alone
        *_, path, window = max(covering)
        chosen.setdefault(path, (window, set()))[1].add(day)
    return chosen


def _collector_refs(pages: list[Page], landing: Path) -> list[str]:
    return [str(Path(p.context["tape"]).relative_to(landing)) for p in pages]


def _time_column(dataset: Dataset) -> str | None:
    return next((c.name for c in dataset.columns if Check.IN_DAY in c.checks), None)


def _day_of(record: dict[str, Any], time_column: str | None, window: Window) -> date:
    """A row belongs to the day of its own timestamp; rows without a usable one, or outside the
    window, are filed under the window's first day, where the in-day rule rejects them."""
    if "_day" in record:
        return record.pop("_day")
    moment = record.get(time_column) if time_column else None
    if isinstance(moment, datetime) and window.first <= moment.date() <= window.last:
        return moment.date()
    return window.first


def _days_of(table: pa.Table, time_column: str | None, window: Window) -> pa.Array:
    """``_day_of`` for a column-wise parsed payload, for all its rows at once."""
    first = pa.scalar(window.first, pa.date32())
    if time_column is None:
        return pa.repeat(first, table.num_rows)
    days = pc.cast(table[time_column], pa.date32())
    return pc.if_else(pc.fill_null(window.holds(days), False), days, first).combine_chunks()


@dataclass
class Parsed:
    """What an endpoint's pages parse to: column-wise chunks, and records (of the pages the
    column-wise parser did not take whole, or of endpoints that have none) still to convert."""

    chunks: list[ColumnChunk] = field(default_factory=list)
    records: list[Iterator[tuple[dict[str, Any], date, str]]] = field(default_factory=list)

    def batch(self, endpoint: Endpoint) -> ParsedBatch:
        return build_batch(endpoint.dataset, endpoint.table, itertools.chain.from_iterable(self.records), self.chunks)


def _parse(endpoint: Endpoint, window: Window, pages: list[Page], refs: list[str]) -> Parsed:
    time_column = _time_column(endpoint.dataset)
    parsed = Parsed()
    for index, page in enumerate(pages):
        ref = refs[index] if len(refs) == len(pages) else refs[0]
        if endpoint.parse_columns is not None:
            try:
                table = endpoint.parse_columns(page)
            except (BulkUnfit, pa.ArrowException):
                # Any Arrow error means the payload is not uniform: the per-record parser reads it
                # and names each bad row.
                pass
            else:
                parsed.chunks.append(ColumnChunk(table, _days_of(table, time_column, window), ref))
                continue
        parsed.records.append(_page_records(endpoint, page, time_column, window, ref))
    return parsed


def _page_records(
    endpoint: Endpoint, page: Page, time_column: str | None, window: Window, ref: str
) -> Iterator[tuple[dict[str, Any], date, str]]:
    for record in endpoint.parse(page):
        yield record, _day_of(record, time_column, window), ref


def _build(endpoint: Endpoint, window: Window, items: list[Page | Absent], refs: list[str]) -> IngestReport:
    pages = _received(items)
    absent = {a.day: NotFetched(a.reason, 1) for a in items if isinstance(a, Absent)}
    batch = _parse(endpoint, window, pages, refs).batch(endpoint)
    return IngestReport(batch, len(pages), refs, [d for d in window.days if d not in absent], absent)


def outcome_table(endpoint: Endpoint, report: IngestReport, at: datetime) -> pa.Table:
    """One row per day of the run, for ``raw.fetch_outcomes``: fetched (rows loaded and rejected
    that day), unavailable (why, after how many attempts) or not_needed (why: a catch-up endpoint
    with no gap to fill that day, what an earlier run filled is kept; a monthly archive's month
    not over yet)."""
    loaded = _per_day(report.batch.table)
    rejected = _per_day(report.batch.rejects)
    rows = []
    for day in sorted({*report.days, *report.not_fetched, *report.not_needed}):
        gap = report.not_fetched.get(day)
        if gap:
            status, reason = "unavailable", gap.reason
        elif day in report.not_needed:
            status, reason = "not_needed", report.not_needed[day]
        else:
            status, reason = "fetched", None
        rows.append(
            {
                "source_table": endpoint.table,
                "partition_date": day,
                "source": endpoint.source,
                "endpoint": endpoint.name,
                "status": status,
                "reason": reason,
                "attempts": gap.attempts if gap else report.pages,
                "rows_loaded": 0 if gap else loaded.get(day, 0),
                "rows_rejected": rejected.get(day, 0),
                "recorded_at": at,
            }
        )
    return pa.Table.from_pylist(rows, schema=FETCH_OUTCOMES_SCHEMA)


def _per_day(table: pa.Table) -> dict[date, int]:
    counts = pc.value_counts(table["partition_date"]).to_pylist() if table.num_rows else []
    return {c["values"]: c["counts"] for c in counts}
