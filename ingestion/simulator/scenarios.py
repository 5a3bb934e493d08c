"""Named situations of a real user's day, for tests and for anyone to try
(``LEVSTRESS_SIM_SCENARIO``, several joined by commas):

    fresh-live-user     no collector ever ran: no tapes, no session logs (Coinalyze is there)
    venue-down[:NAME]   one venue refuses connections all day (default okx)
    no-keys             no API key is set: sources that need one are skipped, as live

A down venue's base URL points at a loopback port that is bound but never listens, so every
connection is refused at once, as a dead host's would be.
"""

from __future__ import annotations

import os
import socket
from dataclasses import dataclass

ENV_VAR = "LEVSTRESS_SIM_SCENARIO"
NAMES = ("fresh-live-user", "venue-down", "no-keys")
DEFAULT_DOWN_VENUE = "okx"


@dataclass(frozen=True)
class Scenario:
    no_tapes: bool = False
    down: frozenset[str] = frozenset()
    no_keys: bool = False

    @classmethod
    def parse(cls, text: str) -> Scenario:
        no_tapes, no_keys, down = False, False, set()
        for item in (part.strip() for part in text.split(",") if part.strip()):
            name, _, arg = item.partition(":")
            if name == "fresh-live-user":
                no_tapes = True
            elif name == "no-keys":
                no_keys = True
            elif name == "venue-down":
                down.add(arg or DEFAULT_DOWN_VENUE)
            else:
                raise ValueError(f"{ENV_VAR}: unknown scenario {name!r}; expected one of {', '.join(NAMES)}")
        return cls(no_tapes, frozenset(down), no_keys)

    @classmethod
    def from_env(cls) -> Scenario:
        return cls.parse(os.environ.get(ENV_VAR, ""))


class RefusedPort:
    """A loopback port bound and never listened on: connections to it are refused."""

    def __init__(self) -> None:
        self._socket = socket.socket(socket.AF_INET, socket.SOCK_STREAM)
        self._socket.bind(("127.0.0.1", 0))
        self.url = f"http://127.0.0.1:{self._socket.getsockname()[1]}"

    def close(self) -> None:
        self._socket.close()
