"""Fetch -> archive -> parse -> validate for one endpoint over a list of UTC days.

Pages are archived before parsing, also when a fetch fails half-way, so nothing that was
received is ever lost and a partition can be rebuilt offline from the landing zone.
"""

from __future__ import annotations

from collections.abc import Iterator
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass
from datetime import date
from pathlib import Path
from typing import Any

from ingestion.http import Page, SourceError
from ingestion.landing import archive_pages, read_archive
from ingestion.rows import ParsedBatch, build_batch
from ingestion.sources.base import Endpoint, FetchContext
from ingestion.sources.tape import CollectorTapes


@dataclass
class IngestReport:
    batch: ParsedBatch
    pages: int
    archives: list[str]


def archive_path(landing: Path, endpoint: Endpoint, day: date, suffix: str = "") -> Path:
    return landing / endpoint.source / endpoint.name / f"{day.isoformat()}{suffix}.ndjson"


def fetch_day(endpoint: Endpoint, ctx: FetchContext, day: date, landing: Path) -> tuple[list[Page], Path]:
    pages: list[Page] = []
    try:
        for page in endpoint.fetch(ctx, day):
            pages.append(page)
    except SourceError:
        if pages:  # keep what did arrive, under a name that never passes for a complete day
            archive_pages(archive_path(landing, endpoint, day, ".partial"), pages)
        raise
    if pages and "tape" in pages[0].context:
        return pages, Path(pages[0].context["tape"])  # the collector tape is itself the landing file
    return pages, archive_pages(archive_path(landing, endpoint, day), pages)


def fetch_range(endpoint: Endpoint, ctx: FetchContext, days: list[date], landing: Path) -> tuple[date, list[Page], str]:
    pages = list(endpoint.fetch_range(ctx, days))
    path = landing / endpoint.source / endpoint.name / f"{days[0].isoformat()}_{days[-1].isoformat()}.ndjson"
    archive_pages(path, pages)
    return days[0], pages, str(path.relative_to(landing))


def _records(endpoint: Endpoint, day: date, pages: list[Page], ref: str) -> Iterator[tuple[dict[str, Any], date, str]]:
    for page in pages:
        for record in endpoint.parse(page):
            yield record, record.pop("_day", day), ref


def ingest(endpoint: Endpoint, ctx: FetchContext, days: list[date], landing: Path, workers: int = 4) -> IngestReport:
    """All days of the run in one batch, so the load is one bulk insert in one transaction.
    Days are fetched concurrently (the client's rate limiter still spaces the requests)."""

    if endpoint.fetch_range is not None and len(days) > 1:
        return _build(endpoint, [fetch_range(endpoint, ctx, days, landing)])

    def one(day: date) -> tuple[date, list[Page], str]:
        pages, ref = fetch_day(endpoint, ctx, day, landing)
        return day, pages, str(ref.relative_to(landing))

    with ThreadPoolExecutor(max_workers=max(1, min(workers, len(days)))) as pool:
        collected = list(pool.map(one, days))
    return _build(endpoint, collected)


def replay(endpoint: Endpoint, days: list[date], landing: Path) -> IngestReport:
    """Rebuild the batch from archived payloads only (no network). Collector tapes are their own
    archive and are simply parsed again."""
    if endpoint.from_collector:
        tapes = CollectorTapes(landing)
        collected = [
            (day, [page := tapes(endpoint.source, day)], str(Path(page.context["tape"]).relative_to(landing)))
            for day in days
        ]
        return _build(endpoint, collected)
    collected = []
    for day in days:
        path = archive_path(landing, endpoint, day)
        if not path.exists():
            raise FileNotFoundError(f"no archived payloads for {endpoint.table} on {day}: {path}")
        collected.append((day, list(read_archive(path)), str(path.relative_to(landing))))
    return _build(endpoint, collected)


def _build(endpoint: Endpoint, collected: list[tuple[date, list[Page], str]]) -> IngestReport:
    records = (item for day, pages, ref in collected for item in _records(endpoint, day, pages, ref))
    batch = build_batch(endpoint.dataset, endpoint.table, records)
    return IngestReport(batch, sum(len(p) for _, p, _ in collected), [ref for _, _, ref in collected])
