"""What a venue's liquidation websocket looks like to the collector.

Venues whose liquidations exist only as a live stream (Binance, Bybit) declare a
:class:`LiquidationStream` in their source module: where to connect, what to send after
connecting, how to keep the connection alive, and how to cut a message into single events with
an identity (to drop events a venue replays after a reconnect) and a time (to file each event
under its own UTC day). The collector (``ingestion.collector``) knows nothing venue-specific.
"""

from __future__ import annotations

import os
from collections.abc import Callable, Sequence
from dataclasses import dataclass
from typing import Any


@dataclass(frozen=True)
class StreamEvent:
    key: str  # identity of the liquidation, stable across reconnects
    time_ms: int  # the event's own time: the UTC day whose tape it belongs to
    asset: str
    message: Any  # this one event in the venue's own message shape (what the tape parser reads)


@dataclass(frozen=True)
class LiquidationStream:
    exchange: str
    default_url: str
    subscribe: Callable[[Sequence[str]], list[str]]  # text frames to send once connected
    explode: Callable[[Any], list[StreamEvent]]  # liquidation events of a message; [] for acks/pongs
    heartbeat: tuple[float, str] | None = None  # (every N seconds, text frame) for app-level pings
    # A venue that is connected but sends nothing is treated as a dead connection (Binance's retired
    # routes accept the handshake and then stay silent).
    silence_timeout_s: float = 600.0

    @property
    def url_env(self) -> str:
        return f"LEVSTRESS_{self.exchange.upper()}_WS_URL"

    def url(self) -> str:
        return os.environ.get(self.url_env) or self.default_url
