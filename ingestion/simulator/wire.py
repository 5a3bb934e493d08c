"""Request/response types and wire-format helpers shared by the venue apps."""

from __future__ import annotations

import math
from collections.abc import Callable, Mapping
from dataclasses import dataclass, field
from datetime import UTC, datetime
from typing import Any

import orjson

JSON = "application/json"


@dataclass(frozen=True)
class Request:
    method: str
    path: str  # below the venue's prefix, e.g. /fapi/v1/klines
    query: Mapping[str, str]
    headers: Mapping[str, str]
    body: bytes = b""

    def header(self, name: str) -> str | None:
        wanted = name.lower()
        return next((v for k, v in self.headers.items() if k.lower() == wanted), None)


@dataclass
class Response:
    status: int
    body: bytes
    content_type: str = JSON
    headers: dict[str, str] = field(default_factory=dict)


class Reply(Exception):  # noqa: N818 - not an error: a finished answer raised out of a handler
    """Raised by a handler to answer at once (errors found while reading parameters)."""

    def __init__(self, response: Response) -> None:
        super().__init__(response.status)
        self.response = response


def dumps(payload: Any) -> bytes:
    """Compact JSON, as the exchanges send it (orjson: the simulator serves a year's backfill
    from one process, and the standard encoder was a fifth of a Gate page's time)."""
    return orjson.dumps(payload, option=orjson.OPT_SERIALIZE_NUMPY)


def json_response(payload: Any, status: int = 200, headers: dict[str, str] | None = None) -> Response:
    return Response(status, dumps(payload), JSON, dict(headers or {}))


def text_response(text: str, status: int, content_type: str = "text/plain; charset=utf-8") -> Response:
    return Response(status, text.encode(), content_type)


def fixed(value: float, decimals: int) -> str:
    """Fixed decimals, never "-0.00"."""
    text = f"{value:.{decimals}f}"
    return text[1:] if text.startswith("-") and not text.strip("-0.") else text


def trimmed(value: float, decimals: int) -> str:
    """Up to ``decimals`` decimals without trailing zeros ("0.0001", "12", "3.5")."""
    text = fixed(value, decimals)
    if "." in text:
        text = text.rstrip("0").rstrip(".")
    return "0" if text in ("", "-0") else text


def significant(value: float, digits: int) -> float:
    """Rounded to ``digits`` significant digits (CoinGecko-style floats, Hyperliquid prices)."""
    if value == 0 or not math.isfinite(value):
        return 0.0
    return round(value, digits - 1 - math.floor(math.log10(abs(value))))


def iso_utc(ms: int) -> str:
    moment = datetime.fromtimestamp(ms / 1000, tz=UTC)
    return moment.strftime("%Y-%m-%dT%H:%M:%S.") + f"{ms % 1000:03d}Z"


class Params:
    """Typed access to query parameters; a missing or malformed one becomes the venue's own error
    reply through ``invalid(name, missing)``."""

    def __init__(self, query: Mapping[str, Any], invalid: Callable[[str, bool], Response]) -> None:
        self.query = query
        self.invalid = invalid

    def text(self, name: str, default: str | None = None, required: bool = False) -> str | None:
        value = self.query.get(name)
        if value is None or value == "":
            if required:
                raise Reply(self.invalid(name, True))
            return default
        return str(value)

    def integer(
        self,
        name: str,
        default: int | None = None,
        required: bool = False,
        lo: int | None = None,
        hi: int | None = None,
    ) -> int | None:
        raw = self.text(name, required=required)
        if raw is None:
            return default
        try:
            value = int(raw)
        except (TypeError, ValueError):
            raise Reply(self.invalid(name, False)) from None
        if (lo is not None and value < lo) or (hi is not None and value > hi):
            raise Reply(self.invalid(name, False))
        return value

    def choice(
        self,
        name: str,
        options: Mapping[str, Any] | tuple[str, ...],
        default: str | None = None,
        required: bool = False,
    ) -> str | None:
        value = self.text(name, default, required)
        if value is not None and value not in options:
            raise Reply(self.invalid(name, False))
        return value

    def flag(self, name: str, default: bool = False) -> bool:
        value = self.text(name)
        return default if value is None else value.lower() == "true"
