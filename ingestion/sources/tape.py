"""Collector tapes: the newline-delimited websocket messages a liquidation collector writes per
exchange and UTC day under ``landing/collector/<exchange>/<day>.ndjson``, and its session log
(``_sessions.ndjson``: connects, disconnects, heartbeats) from which the hours it was listening
are known.

Live, the collector process writes them; in demo mode the simulator plays the collector and the
files are downloaded from it. Either way the daily assets parse the same files.
"""

from __future__ import annotations

import io
import re
from collections.abc import Callable, Iterator
from dataclasses import dataclass, replace
from datetime import UTC, date, datetime, timedelta
from pathlib import Path
from typing import Any

import orjson
import pyarrow as pa
import pyarrow.compute as pc
import pyarrow.json
import requests

from ingestion.http import Page, SourceUnavailable
from ingestion.landing import write_atomic
from ingestion.rows import BulkUnfit
from ingestion.schemas import COLLECTOR_UPTIME
from ingestion.sources.base import Absent, Endpoint, FetchContext, Rejected, Window, rejected

SESSIONS_FILE = "_sessions.ndjson"
# A line (after the first) that does not open an object; the leading "\n" lets re scan fast.
NOT_AN_OBJECT_LINE = re.compile(rb"\n[ \t\r]*[^{\s]")


@dataclass(frozen=True)
class CollectorTapes:
    landing_root: Path
    replay_url: str | None = None  # simulator root in demo mode
    timeout_s: float = 30.0

    def path(self, exchange: str, day: date) -> Path:
        return self.landing_root / "collector" / exchange / f"{day.isoformat()}.ndjson"

    def __call__(self, exchange: str, day: date) -> Page:
        """The exchange's tape of one UTC day."""
        return self._landed(
            exchange,
            self.path(exchange, day),
            "collector tape",
            {"exchange": exchange, "day": day.isoformat()},
            "the liquidation collector was not recording that day, and this venue publishes no liquidation "
            "history to back-fill it",
        )

    def sessions(self, exchange: str) -> Page:
        """The collector's whole session log for the exchange (it is appended to, never rewritten)."""
        return self._landed(
            exchange,
            self.landing_root / "collector" / exchange / SESSIONS_FILE,
            "collector sessions",
            {"exchange": exchange},
            "the liquidation collector never ran here, so when it was listening is unknown",
        )

    def _landed(self, exchange: str, path: Path, endpoint: str, params: dict[str, str], absent: str) -> Page:
        if self.replay_url:
            url = f"{self.replay_url}/_tape/{exchange}/{params.get('day', SESSIONS_FILE)}"
            try:
                response = requests.get(url, timeout=self.timeout_s)
            except requests.RequestException as exc:
                raise SourceUnavailable(exchange, endpoint, params, f"simulated collector unreachable: {exc}") from exc
            if response.status_code == 404:
                raise SourceUnavailable(
                    exchange, endpoint, params, f"no {endpoint} (the simulated collector has none): {absent}"
                )
            if not response.ok:
                raise SourceUnavailable(
                    exchange, endpoint, params, f"simulated collector answered HTTP {response.status_code}"
                )
            write_atomic(path, response.content)
        if not path.exists():
            raise SourceUnavailable(exchange, endpoint, params, f"no {endpoint} at {path}: {absent}")
        return Page(exchange, endpoint, params, 200, path.read_bytes(), {**params, "tape": str(path)})


def ndjson_messages(page: Page) -> Iterator[Any]:
    for number, line in enumerate(page.body.splitlines(), start=1):
        if not line.strip():
            continue
        try:
            yield orjson.loads(line)
        except ValueError as exc:
            yield rejected(f"tape line {number} is not JSON ({exc})", line[:200].decode("utf-8", "replace"))


def tape_table(page: Page) -> pa.Table:
    """The tape's messages as one Arrow table (Arrow's JSON reader: no Python object per message);
    BulkUnfit when a line is not JSON or a field changes type, so the per-message parser names it."""
    # pyarrow 26's reader crashes the process on a first line that is JSON but not an object
    # (`null`) and takes field names that are not UTF-8; such lines are the per-message parser's.
    if not page.body.lstrip().startswith(b"{") or NOT_AN_OBJECT_LINE.search(page.body):
        raise BulkUnfit("a line is not a JSON object")
    try:
        page.body.decode("utf-8")
        return pyarrow.json.read_json(io.BytesIO(page.body))
    except (pa.ArrowInvalid, UnicodeDecodeError) as exc:
        raise BulkUnfit(str(exc)) from exc


def tape_field(messages: pa.Table, *path: str) -> pa.ChunkedArray:
    """A (nested) field of every message; BulkUnfit when the tape has no such field."""
    try:
        values = messages.column(path[0])
        for name in path[1:]:
            values = pc.struct_field(values, name)
    except (KeyError, pa.ArrowInvalid, pa.ArrowTypeError, pa.ArrowNotImplementedError) as exc:
        raise BulkUnfit(f"no field {'.'.join(path)} in every message") from exc
    return values


def fetch_tapes(exchange: str) -> Callable[[FetchContext, Window], Iterator[Page | Absent]]:
    """The fetch of a stream-only venue: its collector's tape for every day of the window; a day
    the collector did not record is absent, not a failure of the whole window."""

    def fetch(ctx: FetchContext, window: Window) -> Iterator[Page | Absent]:
        if ctx.tape is None:
            raise RuntimeError(f"{exchange} liquidations need the collector tape")
        for day in window.days:
            try:
                yield ctx.tape(exchange, day)
            except SourceUnavailable as exc:
                yield Absent(day, exc.problem)

    return fetch


def fetch_sessions(exchange: str) -> Callable[[FetchContext, Window], Iterator[Page]]:
    def fetch(ctx: FetchContext, window: Window) -> Iterator[Page]:
        if ctx.tape is None:
            raise RuntimeError(f"{exchange} collector uptime needs the collector's session log")
        page = ctx.tape.sessions(exchange)
        yield replace(page, context={**page.context, **window.context()})

    return fetch


# Session-log events that end a connection; "connected" opens one, "alive" extends it.
SESSION_ENDS = ("disconnected", "stopped")
OPEN_AT_END = "goes on"


def connected_stretches(page: Page) -> Iterator[tuple[datetime, datetime, str] | Rejected]:
    """(from, until, why it ended) of every connection in a session log, in order. A connection
    with no end logged (the collector died, or is still running) ends at its last record: the
    collector logs a heartbeat every minute, so at most that much uptime goes uncounted."""
    opened: datetime | None = None
    last_seen: datetime | None = None
    for record in ndjson_messages(page):
        entry = _session_entry(record)
        if isinstance(entry, Rejected):
            yield entry
            continue
        at, event, reason = entry
        if event == "connected":
            if opened is not None and last_seen is not None:
                yield opened, last_seen, "collector died (no disconnect logged)"
            opened = last_seen = at
        elif opened is not None and event in SESSION_ENDS:
            yield opened, at, reason or event
            opened = last_seen = None
        elif opened is not None:
            last_seen = at
    if opened is not None and last_seen is not None:
        yield opened, last_seen, OPEN_AT_END


def _session_entry(record: Any) -> tuple[datetime, str, str | None] | Rejected:
    """(time in UTC, event, reason) of a session record; a time without an offset is UTC, as the
    collector writes every time in UTC."""
    if isinstance(record, Rejected):
        return record
    if (
        not isinstance(record, dict)
        or not isinstance(record.get("event"), str)
        or not isinstance(record.get("at"), str)
    ):
        return rejected("session record without a readable time and event", record)
    try:
        moment = datetime.fromisoformat(record["at"])
        at = moment.astimezone(UTC).replace(tzinfo=None) if moment.tzinfo else moment
    except (ValueError, OverflowError) as exc:
        return rejected(f"session record without a readable time and event ({exc})", record)
    reason = record.get("reason")
    return at, record["event"], reason if isinstance(reason, str) else None


def parse_uptime(page: Page) -> Iterator[dict[str, Any]]:
    """The stretches cut at UTC midnights, one row per day of the window they touch."""
    window = Window.from_context(page.context)
    exchange = page.params["exchange"]
    for stretch in connected_stretches(page):
        if isinstance(stretch, Rejected):
            yield stretch
            continue
        start, end, reason = stretch
        for day in window.days:
            day_start = datetime.combine(day, datetime.min.time())
            day_end = day_start + timedelta(days=1)
            if start < day_end and end > day_start and end > start:
                yield {
                    "exchange": exchange,
                    "connected_from": max(start, day_start),
                    "connected_until": min(end, day_end),
                    "ended_by": reason if end <= day_end else OPEN_AT_END,
                    "_day": day,
                }


def collector_uptime(exchange: str) -> Endpoint:
    """The endpoint every stream-only venue registers beside its tape: when the collector listened."""
    return Endpoint(
        exchange,
        "collector_uptime",
        COLLECTOR_UPTIME,
        fetch_sessions(exchange),
        parse_uptime,
        f"When the {exchange} liquidation collector was connected, per UTC day, from its session log "
        f"(landing/collector/{exchange}/{SESSIONS_FILE}). A tape day with the collector away is partial.",
        from_collector=True,
    )
