"""Collector tapes: the newline-delimited websocket messages a liquidation collector writes per
exchange and UTC day under ``landing/collector/<exchange>/<day>.ndjson``.

Live, the collector process writes them; in demo mode the simulator plays the collector and the
tape is downloaded from it. Either way the daily asset parses the same file.
"""

from __future__ import annotations

from collections.abc import Callable, Iterator
from dataclasses import dataclass
from datetime import date
from pathlib import Path
from typing import Any

import orjson
import requests

from ingestion.http import Page, SourceError
from ingestion.landing import write_atomic
from ingestion.sources.base import FetchContext, Window, rejected


@dataclass(frozen=True)
class CollectorTapes:
    landing_root: Path
    replay_url: str | None = None  # simulator root in demo mode
    timeout_s: float = 30.0

    def path(self, exchange: str, day: date) -> Path:
        return self.landing_root / "collector" / exchange / f"{day.isoformat()}.ndjson"

    def __call__(self, exchange: str, day: date) -> Page:
        path = self.path(exchange, day)
        endpoint = "collector tape"
        params = {"exchange": exchange, "day": day.isoformat()}
        if self.replay_url:
            url = f"{self.replay_url}/_tape/{exchange}/{day.isoformat()}"
            try:
                response = requests.get(url, timeout=self.timeout_s)
                response.raise_for_status()
            except requests.RequestException as exc:
                raise SourceError(exchange, endpoint, params, f"simulated collector unavailable: {exc}") from exc
            write_atomic(path, response.content)
        if not path.exists():
            raise SourceError(
                exchange,
                endpoint,
                params,
                f"no collector tape at {path}: the liquidation collector was not recording that day, "
                "and this venue publishes no liquidation history to back-fill it",
            )
        return Page(exchange, endpoint, params, 200, path.read_bytes(), {"day": day.isoformat(), "tape": str(path)})


def ndjson_messages(page: Page) -> Iterator[Any]:
    for number, line in enumerate(page.body.splitlines(), start=1):
        if not line.strip():
            continue
        try:
            yield orjson.loads(line)
        except ValueError as exc:
            yield rejected(f"tape line {number} is not JSON ({exc})", line[:200].decode("utf-8", "replace"))


def fetch_tapes(exchange: str) -> Callable[[FetchContext, Window], Iterator[Page]]:
    """The fetch of a stream-only venue: its collector's tape for every day of the window."""

    def fetch(ctx: FetchContext, window: Window) -> Iterator[Page]:
        if ctx.tape is None:
            raise RuntimeError(f"{exchange} liquidations need the collector tape")
        for day in window.days:
            yield ctx.tape(exchange, day)

    return fetch
