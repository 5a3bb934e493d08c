"""What a source module declares: its endpoints, how each fetches a UTC day, how each parses.

A source module builds one :class:`Source` and the registry lists it; nothing else has to change
for the pipeline to grow a raw asset, its landing archive, its checks and its rejects.
"""

from __future__ import annotations

import os
from collections.abc import Callable, Iterable, Iterator, Mapping
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass, field
from datetime import date, timedelta
from typing import Any, Protocol, TypeVar

import pyarrow as pa
import pyarrow.compute as pc

from ingestion.http import HttpSettings, Page, SharedFiles, SourceClient, SourceError, http_error, shown
from ingestion.rows import utc_day_bounds_ms
from ingestion.schemas import Dataset
from ingestion.streams import LiquidationStream

K = TypeVar("K")


class CollectorFiles(Protocol):
    """Where a stream venue's collector files are read from (ingestion.sources.tape)."""

    def __call__(self, exchange: str, day: date) -> Page: ...

    def sessions(self, exchange: str) -> Page: ...


@dataclass(frozen=True)
class FetchContext:
    """What a fetch needs besides the day: the source's HTTP client, the tracked assets, for
    stream sources where the collector keeps its tapes, and for a catch-up source the exchanges
    whose gaps each day it is asked to fill."""

    client: SourceClient
    assets: tuple[str, ...]
    tape: CollectorFiles | None = None
    fill: Mapping[date, frozenset[str]] = field(default_factory=dict)


@dataclass(frozen=True)
class Window:
    """The UTC days a fetch covers: one partition, or a single-run backfill of many. Endpoints
    page through the whole window at once (one funding call can cover months), and rows are
    assigned to their day by their own timestamp."""

    first: date
    last: date

    @classmethod
    def of(cls, days: list[date]) -> Window:
        return cls(min(days), max(days))

    @property
    def days(self) -> list[date]:
        return [self.first + timedelta(days=i) for i in range((self.last - self.first).days + 1)]

    @property
    def start_ms(self) -> int:
        return utc_day_bounds_ms(self.first)[0]

    @property
    def end_ms(self) -> int:
        """Inclusive end (most APIs take inclusive ends)."""
        return utc_day_bounds_ms(self.last)[1]

    def context(self, **extra: Any) -> dict[str, Any]:
        return {"first_day": self.first.isoformat(), "last_day": self.last.isoformat(), **extra}

    def holds(self, moments: pa.Array | pa.ChunkedArray) -> pa.Array | pa.ChunkedArray:
        """Whether each date or timestamp falls on one of the window's days (null where none)."""
        days = pc.cast(moments, pa.date32())
        return pc.and_(
            pc.greater_equal(days, pa.scalar(self.first, pa.date32())),
            pc.less_equal(days, pa.scalar(self.last, pa.date32())),
        )

    @classmethod
    def from_context(cls, context: dict[str, Any]) -> Window:
        return cls(date.fromisoformat(context["first_day"]), date.fromisoformat(context["last_day"]))


@dataclass(frozen=True)
class Absent:
    """A day a fetch could not have, yielded in place of its pages (a collector that was not
    recording that day): that day is unavailable, the window's other days are fetched as usual."""

    day: date
    reason: str


Fetch = Callable[[FetchContext, Window], Iterable[Page | Absent]]
Parse = Callable[[Page], Iterable[dict[str, Any]]]
# A whole payload at once, to the dataset's columns typed (ingestion.rows' bulk_* maps); raises
# BulkUnfit for a payload it cannot take whole, which ``parse`` then reads row by row.
ParseColumns = Callable[[Page], pa.Table]


@dataclass(frozen=True)
class Endpoint:
    source: str
    name: str
    dataset: Dataset
    fetch: Fetch
    parse: Parse
    description: str
    parse_columns: ParseColumns | None = None  # the fast path for large payloads (collector tapes)
    look_back_days: int | None = None  # how far back the live API serves history, if limited
    history_from: date | None = None  # the first day an archive holds (years deep, no look-back)
    from_collector: bool = False  # parsed from the liquidation collector's tape, not fetched over REST
    # A catch-up endpoint: fetched only for the exchange-days in FetchContext.fill, whose coverage of
    # this dataset (liquidations | funding | open_interest | prices) is below whole.
    fills: str | None = None
    fill_exchanges: frozenset[str] = frozenset()
    # How the dbt side grades a whole day of it (fct_source_coverage_daily): complete (the venue's
    # full record), throttled (a capped or sampled feed), estimate (an aggregator's figure); None:
    # not graded. sparse: it leaves out periods with nothing in them (fewer points is not a gap).
    coverage: str | None = None
    sparse: bool = False
    in_marts: bool = True  # False: staged for people to query, not read by the marts (CoinGlass)
    venues: tuple[str, ...] | None = None  # the exchanges its rows are about, when fewer than the source's
    # One archive file per month, published after the month ends: in live mode the days of a month
    # not over yet are not asked for (not needed: the live endpoint serves them), never "unavailable".
    whole_months: bool = False

    @property
    def table(self) -> str:
        return f"{self.source}_{self.name}"

    @property
    def retry_days(self) -> int | None:
        """How far back a retry can still cure a day this endpoint was unavailable on: its
        look-back (None: no limit). A tape the collector did not record never appears later, so
        its days are retried only while the last one may still be being written (the catch-up
        fills the others from an aggregator within its look-back)."""
        return 1 if self.from_collector else self.look_back_days

    def worth_retrying(self, day: date, today: date | None) -> bool:
        """Whether re-running ``day`` could fetch what was unavailable (never a day before the
        first one an archive holds)."""
        if self.history_from is not None and day < self.history_from:
            return False
        return today is None or self.retry_days is None or day >= today - timedelta(days=self.retry_days)


@dataclass(frozen=True)
class Source:
    name: str
    default_base_url: str
    endpoints: tuple[Endpoint, ...]
    min_interval_s: float = 0.0  # client-side spacing, below the published limit
    api_key_env: str | None = None
    api_key_header: str | None = None
    demo_api_key: str | None = None  # what the simulator accepts when no real key is set
    key_required: bool = False  # live: without a key the source is skipped (said so), not called
    stream: LiquidationStream | None = None  # live liquidation websocket, for the collector
    # The exchanges its rows are about (default: the source itself); () for non-venue data.
    venues: tuple[str, ...] | None = None
    extra: dict[str, Any] = field(default_factory=dict)

    @property
    def exchanges(self) -> tuple[str, ...]:
        return (self.name,) if self.venues is None else self.venues

    def missing_key(self) -> str | None:
        """Why a live run cannot call this source, if it needs a key that is not set."""
        if self.key_required and not os.environ.get(self.api_key_env or ""):
            return f"{self.api_key_env} is not set (this source needs a key); nothing was fetched"
        return None

    @property
    def base_url_env(self) -> str:
        return f"LEVSTRESS_{self.name.upper()}_BASE_URL"

    @property
    def min_interval_env(self) -> str:
        """Overrides ``min_interval_s``: lower for a paid plan's higher limit, higher on a shared IP."""
        return f"LEVSTRESS_{self.name.upper()}_MIN_INTERVAL_S"

    def client(
        self,
        base_url: str,
        *,
        demo: bool,
        settings: HttpSettings | None = None,
        shared_files: SharedFiles | None = None,
    ) -> SourceClient:
        secret: dict[str, str] = {}
        if self.api_key_header:
            key = os.environ.get(self.api_key_env or "") or (self.demo_api_key if demo else None)
            if key:
                secret[self.api_key_header] = key
        interval = 0.0 if demo else float(os.environ.get(self.min_interval_env, self.min_interval_s))
        client = SourceClient(
            self.name,
            base_url,
            min_interval_s=interval,
            secret_headers=secret,
            settings=settings,
            shared_files=shared_files,
        )
        if demo:  # loopback simulator: no proxy lookup from the environment on every request
            client.session.trust_env = False
        return client


def in_flight(
    keys: Iterable[K], walk: Callable[[K], Iterable[Page | Absent]], workers: int, name: str
) -> Iterator[Page | Absent]:
    """``walk`` of up to ``workers`` keys at a time, their pages yielded in the keys' order: walks
    whose pages depend on each other (cursors) stay in one thread, independent walks (days of an
    archive, assets of a venue) overlap their round trips. The client's rate limit holds across the
    threads. A walk that fails yields the pages it had before its error is raised, as one thread's
    walk would."""
    pool = ThreadPoolExecutor(workers, thread_name_prefix=name)
    try:
        for pages, error in pool.map(lambda key: _walked(walk, key), keys):
            yield from pages
            if error is not None:
                raise error
    finally:
        pool.shutdown(cancel_futures=True)


def _walked(walk: Callable[[K], Iterable[Page | Absent]], key: K) -> tuple[list[Page | Absent], SourceError | None]:
    pages: list[Page | Absent] = []
    try:
        pages.extend(walk(key))
    except SourceError as error:
        return pages, error
    return pages, None


def json_ok(page: Page) -> Any:
    """Body as JSON, or a SourceError for non-2xx answers that carry no usable envelope."""
    if not 200 <= page.status < 300:
        raise http_error(page)
    return page.json()


class Rejected(dict):
    """A record a parser has already rejected: ``{"_reject": reason, "_raw": what arrived}``. A type
    of its own, so a wire object that happens to carry a ``_reject`` key is parsed like any other
    instead of passing for a verdict."""


def rejected(reason: str, raw: Any) -> Rejected:
    return Rejected(_reject=reason, _raw=raw)


def success_code(code: Any) -> bool:
    """An envelope's success code, as venues send it: 0 or "0" (a boolean is not a code)."""
    return code in (0, "0") and not isinstance(code, bool)


def page_cursor(
    page: Page,
    value: Any,
    key: Callable[[Any], Any] = lambda v: v,
    *,
    after: int | None = None,
    before: int | None = None,
) -> int:
    """Where to continue paging, ``int(key(value))`` (the last row's time, a continuation) read
    from ``page``; a SourceError naming the page when it holds no usable one, since the next
    request cannot be made, or when it is not ``after`` / ``before`` the given bound: a server
    repeating a page would otherwise be asked the same question forever."""
    try:
        cursor = int(key(value))
    except (KeyError, IndexError, TypeError, AttributeError, ValueError) as exc:
        raise page.error(f"cannot continue paging: {exc.__class__.__name__}: {shown(str(exc))}") from exc
    if (after is not None and cursor <= after) or (before is not None and cursor >= before):
        bound = f"after {after}" if after is not None else f"before {before}"
        raise page.error(f"paging does not advance: the next cursor {cursor} is not {bound}")
    return cursor


def require_list(page: Page, value: Any, what: str) -> list[Any]:
    if not isinstance(value, list):
        raise page.error(f"expected {what} to be a list, got {type(value).__name__}")
    return value


def iter_records(page: Page, rows: Iterable[Any], build: Callable[[Any], dict[str, Any]]) -> Iterator[dict[str, Any]]:
    """Applies ``build`` to each wire row; a row whose shape is wrong becomes a reject record
    instead of failing the whole page (schema drift hits rows, not partitions)."""
    for row in rows:
        if isinstance(row, Rejected):
            yield row
            continue
        try:
            yield build(row)
        except (KeyError, IndexError, TypeError, AttributeError, ValueError) as exc:
            yield rejected(f"malformed {page.endpoint} row ({exc.__class__.__name__}: {exc})", row)
