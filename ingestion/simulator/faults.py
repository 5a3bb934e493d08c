"""Injected faults, for testing error handling and quality gates against the simulator."""

from __future__ import annotations

import json
import os
import threading
from collections.abc import Iterable, Mapping
from dataclasses import dataclass
from datetime import date

ENV_VAR = "LEVSTRESS_SIM_FAULTS"
DATA_FAULTS = frozenset({"duplicate_event", "negative_size"})
HTTP_FAULTS = frozenset({"http_429", "http_500", "truncated_json", "html_error"})
ARCHIVE_FAULTS = frozenset({"corrupt_zip", "bad_checksum", "missing_file"})  # one file of a day in the archive
KINDS = DATA_FAULTS | HTTP_FAULTS | ARCHIVE_FAULTS
ARCHIVE_SOURCES = frozenset({"binance_archive"})
SOURCES = ARCHIVE_SOURCES | frozenset(
    {"binance", "bybit", "okx", "hyperliquid", "coingecko", "deribit", "coinalyze", "gate"}
)
LIQUIDATION_SOURCES = frozenset({"binance", "bybit", "okx", "coinalyze", "gate"})  # where data faults can live


@dataclass(frozen=True)
class Fault:
    """``kind`` on ``source`` for the UTC day ``date`` (YYYY-MM-DD).

    Data faults (duplicate_event, negative_size) change one BTC liquidation of that day on every
    request: a Binance tape line or a Bybit tape event, an OKX detail, a Coinalyze hourly point or a
    Gate 5-minute bucket. HTTP faults (http_429, http_500, truncated_json, html_error) hit only the
    first request whose time window starts on that day; later ones succeed. Archive faults
    (corrupt_zip, bad_checksum, missing_file) hit the day's BTCUSDT file in the Binance archive on
    every request.
    """

    kind: str
    source: str
    date: str

    def __post_init__(self) -> None:
        if isinstance(self.date, date):
            object.__setattr__(self, "date", self.date.isoformat())
        if self.kind not in KINDS:
            raise ValueError(f"unknown fault kind {self.kind!r}; expected one of {sorted(KINDS)}")
        if self.source not in SOURCES:
            raise ValueError(f"unknown fault source {self.source!r}; expected one of {sorted(SOURCES)}")
        if self.kind in DATA_FAULTS and self.source not in LIQUIDATION_SOURCES:
            raise ValueError(f"{self.source} serves no liquidation data for a {self.kind} fault")
        if (self.kind in ARCHIVE_FAULTS) != (self.source in ARCHIVE_SOURCES):
            raise ValueError(f"{self.kind} faults and archive sources go together, not {self.kind} on {self.source}")
        date.fromisoformat(self.date)  # raises ValueError on a malformed day

    @property
    def day(self) -> date:
        return date.fromisoformat(self.date)

    @classmethod
    def from_env(cls, environ: Mapping[str, str] | None = None) -> list[Fault]:
        """Faults from ``LEVSTRESS_SIM_FAULTS``: a JSON list of {"kind", "source", "date"}."""
        raw = (os.environ if environ is None else environ).get(ENV_VAR, "").strip()
        if not raw:
            return []
        items = json.loads(raw)
        if not isinstance(items, list):
            raise ValueError(f"{ENV_VAR} must be a JSON list of {{kind, source, date}} objects")
        return [cls(kind=item["kind"], source=item["source"], date=item["date"]) for item in items]


class FaultBook:
    """Which faults apply to a request; HTTP faults are used up by the first matching request."""

    def __init__(self, faults: Iterable[Fault]) -> None:
        self.faults = tuple(faults)
        self._pending = [f for f in self.faults if f.kind in HTTP_FAULTS]
        self._lock = threading.Lock()

    def data_faults(self, source: str, day: date) -> tuple[str, ...]:
        """The faults that change what a day's data is, on every request (liquidations, archive files)."""
        lasting = DATA_FAULTS | ARCHIVE_FAULTS
        return tuple(f.kind for f in self.faults if f.kind in lasting and f.source == source and f.day == day)

    def take_http(self, source: str, day: date | None) -> str | None:
        if day is None:
            return None
        with self._lock:
            for fault in self._pending:
                if fault.source == source and fault.day == day:
                    self._pending.remove(fault)
                    return fault.kind
        return None
