"""What every venue app shares: the simulation context, routing and fault hooks."""

from __future__ import annotations

import threading
from collections.abc import Callable
from dataclasses import dataclass, field
from datetime import date

import numpy as np

from ingestion.simulator.catalog import ASSETS, EXCHANGE_INDEX
from ingestion.simulator.coins import Universe
from ingestion.simulator.events import Events, EventStore
from ingestion.simulator.faults import FaultBook
from ingestion.simulator.market import Market
from ingestion.simulator.timegrid import DAY_MS, HORIZON_MS, ORIGIN_MS, ms_to_day
from ingestion.simulator.wire import Params, Reply, Request, Response, json_response, text_response

Handler = Callable[[Request], Response]
FAULT_ASSET = "BTC"  # data faults touch one event of this asset's liquidations


@dataclass
class SimContext:
    """Everything a venue needs to answer: the model, the day draws, the faults and the clock."""

    seed: int
    market: Market
    events: EventStore
    faults: FaultBook
    now_ms: int
    _universe: Universe | None = field(default=None, repr=False)
    _lock: threading.Lock = field(default_factory=threading.Lock, repr=False)

    @property
    def until_ms(self) -> int:
        """Nothing exists after the clock (or past the simulated horizon)."""
        return min(self.now_ms, HORIZON_MS)

    @property
    def universe(self) -> Universe:
        with self._lock:  # built on first use: only CoinGecko needs it
            if self._universe is None:
                self._universe = Universe(self.market, self.seed)
            return self._universe

    def liquidations(self, venue: str, asset: str, day: int, throttled: bool = False) -> Events:
        """A venue's liquidations of one asset on one day as published (a throttled stream keeps
        one per second), with the day's data faults applied and nothing after the clock."""
        events = self.events.day(EXCHANGE_INDEX[venue], ASSETS.index(asset), day)
        if throttled:
            events = events.throttled()
        if asset == FAULT_ASSET:
            for kind in self.faults.data_faults(venue, ms_to_day(ORIGIN_MS + day * DAY_MS)):
                events = events.with_fault(kind)
        return events.window(ORIGIN_MS, self.until_ms + 1)


class VenueApp:
    """One venue's HTTP API. Subclasses fill ``routes`` and the venue's error shapes."""

    source = ""
    name_in_404 = "Not Found"

    def __init__(self, ctx: SimContext) -> None:
        self.ctx = ctx
        self.routes: dict[tuple[str, str], Handler] = {}

    def handle(self, req: Request) -> Response:
        handler = self.routes.get((req.method, req.path))
        if handler is None:
            return self.not_found(req)
        try:
            return handler(req)
        except Reply as reply:
            return reply.response

    def params(self, req: Request) -> Params:
        return Params(req.query, self.invalid)

    # --- hooks a venue overrides ----------------------------------------------------------
    def invalid(self, name: str, missing: bool) -> Response:
        problem = "missing" if missing else "invalid"
        return json_response({"error": f"{problem} parameter {name}"}, 400)

    def not_found(self, req: Request) -> Response:
        return text_response(self.name_in_404, 404)

    def rate_limited(self) -> Response:
        return json_response({"error": "Too Many Requests"}, 429)

    def server_error(self) -> Response:
        return json_response({"error": "Internal Server Error"}, 500)

    def window_start_ms(self, req: Request) -> int | None:
        """Start of the request's time window (what faults are keyed on); None = the clock."""
        return None

    def fault_source(self, req: Request) -> str:
        return self.source

    def fault_day(self, req: Request) -> date | None:
        try:
            start = self.window_start_ms(req)
        except (TypeError, ValueError):
            return None
        return ms_to_day(self.ctx.now_ms if start is None else start)


_UNIT_MINUTES = {"m": 1, "h": 60, "d": 1440, "w": 10080, "M": 43200}


def interval_minutes(*labels: str) -> dict[str, int]:
    """Interval labels as most venues spell them ("5m", "1h", "1d", "1w", "1M") -> minutes."""
    return {label: int(label[:-1]) * _UNIT_MINUTES[label[-1]] for label in labels}


def first_int(req: Request, *names: str, shift: int = 0, scale: int = 1) -> int | None:
    """The first of ``names`` present in the query, as ms (``scale`` converts seconds)."""
    for name in names:
        value = req.query.get(name)
        if value not in (None, ""):
            return int(value) * scale + shift
    return None


def newest_first(times: np.ndarray, limit: int) -> np.ndarray:
    """The newest ``limit`` of ascending ``times``, newest first."""
    return times[::-1][:limit]
