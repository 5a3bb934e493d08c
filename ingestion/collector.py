"""The liquidation collector: a long-running websocket client per stream-only venue that appends
every liquidation it hears to the landing zone, one NDJSON tape per exchange and UTC day
(``landing/collector/<exchange>/<day>.ndjson``), which the daily liquidation asset then loads.

What it guarantees:
- every event goes to the tape of its *own* UTC day (a batch that straddles midnight is split);
- an event replayed after a reconnect (or after a restart of the collector) is written once;
- a message it cannot read is still written (to the day it arrived), so the daily load rejects it
  with a reason instead of it vanishing;
- it reconnects with exponential backoff after drops, errors and silent connections, and keeps a
  session log (``_sessions.ndjson``: connects, disconnects and why, and a heartbeat every minute
  while connected, so a collector that dies leaves at most a minute unaccounted for); the daily
  ``<exchange>_collector_uptime`` asset reads it, and a day it was away is graded partial;
- on stop it flushes and fsyncs what it holds.
"""

from __future__ import annotations

import json
import logging
import os
import threading
import time
from collections import OrderedDict
from collections.abc import Callable, Sequence
from dataclasses import dataclass, field
from datetime import UTC, date, datetime, timedelta
from pathlib import Path
from typing import IO, Any

from websockets.exceptions import ConnectionClosed, InvalidHandshake, InvalidURI
from websockets.sync.client import ClientConnection, connect

from ingestion.sources.tape import SESSIONS_FILE
from ingestion.streams import LiquidationStream, StreamEvent

log = logging.getLogger("levstress.collector")

FSYNC_EVERY_S = 5.0
ALIVE_EVERY_S = 60.0


def tape_dir(landing: Path, exchange: str) -> Path:
    return landing / "collector" / exchange


def utc_day(millis: int) -> date:
    return datetime.fromtimestamp(millis / 1000, UTC).date()


class TapeWriter:
    """Appends lines to the exchange's tape of each UTC day; flushed per message, fsynced every
    few seconds and on close. A crash can cut the last line short: the daily load rejects a torn
    line with its reason, the lines before it are intact."""

    def __init__(self, directory: Path) -> None:
        self.directory = directory
        self._files: dict[date, IO[bytes]] = {}
        self._last_sync = time.monotonic()

    def path(self, day: date) -> Path:
        return self.directory / f"{day.isoformat()}.ndjson"

    def append(self, day: date, line: str) -> None:
        handle = self._files.get(day)
        if handle is None:
            self.directory.mkdir(parents=True, exist_ok=True)
            handle = self._files[day] = open(self.path(day), "ab")  # noqa: SIM115 - kept open across messages
            self._close_older_than(day - timedelta(days=1))
        handle.write(line.encode("utf-8") + b"\n")

    def flush(self, force_sync: bool = False) -> None:
        for handle in self._files.values():
            handle.flush()
        if force_sync or time.monotonic() - self._last_sync >= FSYNC_EVERY_S:
            for handle in self._files.values():
                os.fsync(handle.fileno())
            self._last_sync = time.monotonic()

    def close(self) -> None:
        self.flush(force_sync=True)
        for handle in self._files.values():
            handle.close()
        self._files.clear()

    def _close_older_than(self, day: date) -> None:
        for old in [d for d in self._files if d < day]:
            handle = self._files.pop(old)
            handle.flush()
            os.fsync(handle.fileno())
            handle.close()


class RecentKeys:
    """Identities of recently written events (venues replay recent events on reconnect)."""

    def __init__(self, capacity: int = 200_000) -> None:
        self.capacity = capacity
        self._keys: OrderedDict[str, None] = OrderedDict()

    def add(self, key: str) -> bool:
        """True if the key is new."""
        if key in self._keys:
            return False
        self._keys[key] = None
        if len(self._keys) > self.capacity:
            self._keys.popitem(last=False)
        return True


@dataclass
class CollectorStats:
    connects: int = 0
    messages: int = 0
    written: int = 0
    duplicates: int = 0
    untracked: int = 0
    unreadable: int = 0


@dataclass
class LiquidationCollector:
    stream: LiquidationStream
    landing: Path
    assets: Sequence[str]
    url: str | None = None
    stop_event: threading.Event = field(default_factory=threading.Event)
    open_timeout_s: float = 10.0
    backoff_initial_s: float = 1.0
    backoff_max_s: float = 60.0
    alive_every_s: float = ALIVE_EVERY_S
    now: Callable[[], float] = time.time
    stats: CollectorStats = field(default_factory=CollectorStats)

    def __post_init__(self) -> None:
        self.directory = tape_dir(self.landing, self.stream.exchange)
        self.writer = TapeWriter(self.directory)
        self.seen = RecentKeys()
        self._seed_seen_from_tapes()

    # --- lifecycle -----------------------------------------------------------------------
    def run(self) -> None:
        """Collect until :meth:`stop`; reconnects on every failure."""
        url = self.url or self.stream.url()
        delay = self.backoff_initial_s
        try:
            while not self.stop_event.is_set():
                started = time.monotonic()
                reason = self._session(url)
                if self.stop_event.is_set():
                    break
                if time.monotonic() - started > 60:  # a connection that lived resets the backoff
                    delay = self.backoff_initial_s
                self._log_session("reconnect_wait", reason=reason, wait_s=delay)
                self.stop_event.wait(delay)
                delay = min(delay * 2, self.backoff_max_s)
        finally:
            self.writer.close()
            self._log_session("stopped", **self.stats.__dict__)

    def stop(self) -> None:
        self.stop_event.set()

    # --- one connection ------------------------------------------------------------------
    def _session(self, url: str) -> str:
        try:
            with connect(url, open_timeout=self.open_timeout_s, close_timeout=2, max_size=2**23) as ws:
                self.stats.connects += 1
                self._log_session("connected", url=url)
                for frame in self.stream.subscribe(self.assets):
                    ws.send(frame)
                reason = self._receive(ws)
        except ConnectionClosed as exc:
            reason = f"connection closed ({exc})"
        except (OSError, TimeoutError, InvalidHandshake, InvalidURI) as exc:
            reason = f"cannot connect ({exc.__class__.__name__}: {exc})"
        finally:
            self.writer.flush(force_sync=True)
        self._log_session("disconnected", reason=reason)
        return reason

    def _receive(self, ws: ClientConnection) -> str:
        last_data = last_beat = last_alive = time.monotonic()
        while not self.stop_event.is_set():
            if self.stream.heartbeat and time.monotonic() - last_beat >= self.stream.heartbeat[0]:
                ws.send(self.stream.heartbeat[1])
                last_beat = time.monotonic()
            if time.monotonic() - last_alive >= self.alive_every_s:
                self._log_session("alive", messages=self.stats.messages)
                last_alive = time.monotonic()
            try:
                frame = ws.recv(timeout=0.5)
            except TimeoutError:
                if time.monotonic() - last_data > self.stream.silence_timeout_s:
                    return f"silent for {self.stream.silence_timeout_s:.0f} s"
                continue
            if self.handle(frame):
                last_data = time.monotonic()
        return "stopped"

    # --- one message -----------------------------------------------------------------------
    def handle(self, frame: str | bytes) -> bool:
        """Writes the message's new events; returns whether it carried liquidation data."""
        self.stats.messages += 1
        text = frame.decode("utf-8", "replace") if isinstance(frame, bytes) else frame
        try:
            events = self.stream.explode(json.loads(text))
        except UNREADABLE as exc:
            self.stats.unreadable += 1
            log.warning("%s: unreadable message kept on today's tape (%s)", self.stream.exchange, exc)
            self.writer.append(utc_day(int(self.now() * 1000)), text.replace("\n", " "))
            self.writer.flush()
            return True
        for event in events:
            self._write(event)
        self.writer.flush()
        return bool(events)

    def _write(self, event: StreamEvent) -> None:
        if event.asset not in self.assets:
            self.stats.untracked += 1
        elif not self.seen.add(event.key):
            self.stats.duplicates += 1
        else:
            self.writer.append(utc_day(event.time_ms), json.dumps(event.message, separators=(",", ":")))
            self.stats.written += 1

    # --- bookkeeping -------------------------------------------------------------------------
    def _seed_seen_from_tapes(self) -> None:
        """A restarted collector must not write again what the venue replays on connect."""
        today = utc_day(int(self.now() * 1000))
        for day in (today - timedelta(days=1), today):
            path = self.writer.path(day)
            if not path.exists():
                continue
            with open(path, encoding="utf-8", errors="replace") as handle:
                for line in handle:
                    for event in _events_of_line(self.stream, line):
                        self.seen.add(event.key)

    def _log_session(self, event: str, **details: Any) -> None:
        self.directory.mkdir(parents=True, exist_ok=True)
        record = {"at": datetime.fromtimestamp(self.now(), UTC).isoformat(), "event": event, **details}
        with open(self.directory / SESSIONS_FILE, "a", encoding="utf-8") as handle:
            handle.write(json.dumps(record, default=str) + "\n")
        level = logging.DEBUG if event == "alive" else logging.INFO
        log.log(level, "%s collector %s %s", self.stream.exchange, event, details or "")


# RecursionError: the json module gives up on a message nested ~1000 deep, which a broken or
# hostile server can send; it is one unreadable message, not a reason for the collector to stop.
UNREADABLE = (ValueError, KeyError, TypeError, AttributeError, IndexError, RecursionError)


def _events_of_line(stream: LiquidationStream, line: str) -> list[StreamEvent]:
    try:
        return stream.explode(json.loads(line))
    except UNREADABLE:
        return []


def run_collectors(
    streams: Sequence[LiquidationStream], landing: Path, assets: Sequence[str], stop_event: threading.Event
) -> list[LiquidationCollector]:
    """One thread per venue until ``stop_event`` is set; returns the collectors (with stats)."""
    collectors = [LiquidationCollector(s, landing, assets, stop_event=stop_event) for s in streams]
    threads = [threading.Thread(target=c.run, name=f"collect-{c.stream.exchange}") for c in collectors]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()
    return collectors
