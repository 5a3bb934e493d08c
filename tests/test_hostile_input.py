"""Hostile input (issue #7, guarantee 4): property-based tests that throw wrong types, missing and
extra fields, numbers as strings and strings as numbers, NaN/Infinity, zero and negative sizes,
timestamps outside the partition, duplicated events, nesting bombs, truncated JSON, HTML error
pages and empty bodies at the real parser of every endpoint in ``ingestion.registry``.

Every case must end as parsed rows plus rejects with a reason, or as a ``SourceError`` naming the
source, endpoint and request; never as another exception. The last tests run hostile answers
through the whole raw-asset path (fetch, landing archive, parse, ``replace_partitions`` into a real
DuckDB file) and check that a failed day leaves the warehouse exactly as it was.

Each endpoint has a small valid payload in its wire format (shared/api-reference, as the simulator
serves it); hypothesis mutates it. The transport is the only thing replaced: pages are built in
process (``Page``), or answered in process by a requests adapter for the fetch path.
"""

from __future__ import annotations

import copy
import csv
import dataclasses
import gzip
import hashlib
import io
import json
import math
import re
import threading
import zipfile
from collections.abc import Callable, Iterator, Mapping
from dataclasses import dataclass, field
from datetime import UTC, date, datetime, timedelta
from pathlib import Path
from typing import Any
from urllib.parse import parse_qsl, urlsplit

import duckdb
import orjson
import pyarrow as pa
import pytest
import requests
from hypothesis import HealthCheck, event, given, settings
from hypothesis import strategies as st
from requests.adapters import BaseAdapter

from ingestion.http import HttpSettings, Page, SourceError
from ingestion.landing import read_archive
from ingestion.pipeline import _build, archive_path, ingest, replay
from ingestion.registry import ENDPOINTS, SOURCES_BY_NAME
from ingestion.rows import to_float
from ingestion.schemas import LINEAGE_COLUMNS, REJECTS_SCHEMA, Check
from ingestion.simulator.venues.binance_archive import FUNDING_HEADER, KLINE_HEADER, METRICS_HEADER
from ingestion.sources.base import Endpoint, FetchContext, Window
from ingestion.sources.binance import RATIO_ENDPOINTS as BINANCE_RATIOS
from ingestion.sources.tape import SESSIONS_FILE, CollectorTapes
from storage.duckdb_engine import DuckDBEngine
from storage.engine import Paths

DAY = date(2026, 1, 15)
WINDOW = Window(DAY, DAY)
START = 1_768_435_200_000  # 2026-01-15 00:00 UTC in ms
HOUR, DAY_MS = 3_600_000, 86_400_000
REF = "ref/payload.ndjson"
ASSETS = ("BTC", "ETH")

# No example database: it would be written into the repository; failures print a reproduce blob.
HOSTILE = settings(
    deadline=None,
    database=None,
    print_blob=True,
    suppress_health_check=[HealthCheck.too_slow, HealthCheck.data_too_large, HealthCheck.filter_too_much],
)

Loc = tuple[str | int, ...]  # where a node sits in a JSON tree


# --- JSON trees with hostile leaves ------------------------------------------------------------


@dataclass(frozen=True)
class Deep:
    """A list nested ``depth`` levels: orjson accepts up to 1024, Python's repr and json give up
    near 1000. Kept as one opaque value in the tree and spelled out only when serialised."""

    depth: int


@dataclass(frozen=True)
class RawLine:
    """A tape line as bytes: a message the collector was killed while writing."""

    data: bytes


_DEEP_TOKEN = "\x00deep-token-5c1e\x00"
_DEEP_RE = re.compile(re.escape(json.dumps(_DEEP_TOKEN)[:-1]) + r'(\d+)"')


def dumps(value: Any) -> bytes:
    """JSON as a careless server writes it: NaN/Infinity literals, raw UTF-8, lone surrogates kept."""

    def default(item: Any) -> Any:
        if isinstance(item, Deep):
            return f"{_DEEP_TOKEN}{item.depth}"
        raise TypeError(type(item).__name__)

    text = json.dumps(value, default=default, ensure_ascii=False, allow_nan=True)
    text = _DEEP_RE.sub(lambda m: "[" * int(m.group(1)) + "]" * int(m.group(1)), text)
    return text.encode("utf-8", "surrogatepass")


def parses(body: bytes) -> bool:
    try:
        orjson.loads(body)
    except ValueError:
        return False
    return True


def locations(tree: Any, here: Loc = ()) -> Iterator[Loc]:
    yield here
    if isinstance(tree, dict):
        for key, value in list(tree.items()):
            yield from locations(value, (*here, key))
    elif isinstance(tree, list):
        for index, value in enumerate(tree):
            yield from locations(value, (*here, index))


def get(tree: Any, loc: Loc) -> Any:
    for step in loc:
        tree = tree[step]
    return tree


def put(tree: Any, loc: Loc, value: Any) -> Any:
    """Sets the node at ``loc``; returns the (possibly new) root."""
    if not loc:
        return value
    get(tree, loc[:-1])[loc[-1]] = value
    return tree


SPECIAL_VALUES: list[Any] = [
    *(None, True, False, "", " ", "null", "true", "[]", "\x00", "🙂", "x" * 5000),
    # numbers: zero, negative, tiny, huge, beyond a double (orjson: "number is infinity")
    *(0, -1, 1, -0.0, 1e-300, -1e-9, 1e308, -1e308, 2**53 + 1, 2**63, 2**64 + 1, 10**30, -(10**30), 10**400),
    # NaN and Infinity, as JSON literals (invalid JSON) and as strings
    *(math.nan, math.inf, -math.inf, "NaN", "nan", "-NaN", "Infinity", "-Infinity", "inf", "1e400", "-1e400"),
    # strings that are almost numbers
    *("1e-400", "0", "-0", "-1", "-0.5", "0.0", "1,5", "1_000", "0x1A", " 42 ", "４２", "١٢٣", "abc"),
    # the right kind of value in the wrong place
    *("2026-01-15T00:00:00Z", "long", "short", "LONG", "Buy", "SELL", "BTCUSDT", "BTC-USDT-SWAP"),
    "\ud800",  # a lone surrogate: not valid UTF-8 once written
    *([], {}, [1, 2], {"a": 1}, [None], [[]], Deep(200)),
    Deep(1000),  # a nesting bomb just inside orjson's depth limit
]
JSON_VALUES = st.recursive(
    st.none() | st.booleans() | st.integers() | st.floats(allow_nan=False, allow_infinity=False) | st.text(max_size=12),
    lambda children: st.lists(children, max_size=3) | st.dictionaries(st.text(max_size=6), children, max_size=3),
    max_leaves=6,
)
HOSTILE_VALUES = st.sampled_from(SPECIAL_VALUES).map(copy.deepcopy) | JSON_VALUES  # later changes edit in place
# Extra keys include the names parsers use internally, and envelope keys that mean "error".
EXTRA_KEYS = st.sampled_from(
    ["_reject", "_day", "_raw", "data", "code", "msg", "error", "topic", "extra", ""]
) | st.text(max_size=8)
TIME_SHIFTS_MS = st.sampled_from([-1, 1, -DAY_MS, DAY_MS, 7 * DAY_MS, -400 * DAY_MS, 36_500 * DAY_MS]) | st.integers(
    -10 * DAY_MS, 10 * DAY_MS
)

Draw = Callable[..., Any]


def number_in(value: Any) -> float | None:
    if isinstance(value, bool):
        return None
    if not isinstance(value, int | float | str):
        return None
    try:
        number = float(value)
    except (ValueError, OverflowError):  # not a number, or an int beyond any double
        return None
    return number if math.isfinite(number) else None


def coerce(draw: Draw, value: Any) -> Any:
    """Numbers as strings, strings as numbers."""
    if isinstance(value, bool) or value is None:
        return draw(st.sampled_from(["true", "false", "null", "", 0, 1]))
    number = number_in(value)
    if isinstance(value, int | float):
        spellings = [str(value), f" {value}"] + ([repr(number), f"{number:e}"] if number is not None else [])
        return draw(st.sampled_from(spellings))
    if number is not None:
        return int(number) if number.is_integer() and abs(number) < 2**63 else number
    if isinstance(value, str):
        return draw(st.integers(-5, 5) | st.floats(allow_nan=False, allow_infinity=False, width=32))
    return draw(HOSTILE_VALUES)


def shift_time(draw: Draw, value: Any) -> Any:
    """A timestamp moved out of (or to the edge of) the partition day, unit mix-ups included."""
    number = number_in(value)
    if number is None:
        return draw(HOSTILE_VALUES)
    seconds = 1e9 <= abs(number) < 1e10
    kind = draw(st.sampled_from(["shift", "day_before_end", "next_day_start", "unit"]))
    if kind == "shift":
        moved = number + draw(TIME_SHIFTS_MS) / (1000 if seconds else 1)
    elif kind == "day_before_end":
        moved = (START - 1) / (1000 if seconds else 1)
    elif kind == "next_day_start":
        moved = (START + DAY_MS) / (1000 if seconds else 1)
    else:
        moved = number * 1000 if seconds else number / 1000
    moved = int(moved) if float(moved).is_integer() else moved
    return str(moved) if isinstance(value, str) else moved


FIELD_CHANGES = ("hostile", "hostile", "delete", "extra", "coerce", "shift")


def change_at(draw: Draw, tree: Any, loc: Loc, kind: str) -> tuple[Any, Loc]:
    """One change at ``loc``; returns the new root and where the change landed (for ``Trace.mark``)."""
    event(f"change: {kind}")
    if kind == "delete" and loc:
        del get(tree, loc[:-1])[loc[-1]]
        return tree, loc
    if kind == "extra":
        node = get(tree, loc)
        where = loc if isinstance(node, dict | list) or not loc else loc[:-1]
        container = get(tree, where)
        if isinstance(container, dict):
            key = draw(EXTRA_KEYS)
            container[key] = draw(HOSTILE_VALUES)
            return tree, (*where, key)
        if isinstance(container, list):
            index = draw(st.integers(0, len(container)))
            container.insert(index, draw(HOSTILE_VALUES))
            return tree, (*where, index)
    if kind == "coerce":
        return put(tree, loc, coerce(draw, get(tree, loc))), loc
    if kind == "shift":
        return put(tree, loc, shift_time(draw, get(tree, loc))), loc
    return put(tree, loc, draw(HOSTILE_VALUES)), loc


# --- what each endpoint sends when all is well ----------------------------------------------------


def _sym(asset: str) -> str:
    return f"{asset}USDT"


def _inst(asset: str) -> str:
    return f"{asset}-USDT-SWAP"


def _hours(*offsets: int) -> list[int]:
    return [START + HOUR * h for h in offsets]


def _force_order(asset: str, t: int, side: str, qty: str) -> dict:
    order = {"s": _sym(asset), "S": side, "o": "LIMIT", "f": "IOC", "q": qty, "p": "94210.50", "ap": "94350.12"}
    return {"e": "forceOrder", "E": t + 4, "o": {**order, "X": "FILLED", "l": qty, "z": qty, "T": t}}


def binance_tape(asset: str) -> list[Any]:
    wrapped = {"stream": "!forceOrder@arr", "data": _force_order("ETH", START + HOUR + 77, "BUY", "1.5")}
    return [
        _force_order(asset, START + 1000, "SELL", "0.014"),
        wrapped,
        _force_order(asset, START + 5 * HOUR, "BUY", "0.2"),
    ]


def bybit_tape(asset: str) -> list[Any]:
    def push(t: int) -> dict:
        data = [
            {"T": t, "s": _sym(asset), "S": "Buy", "v": "0.025", "p": "94210.50"},
            {"T": t + 178, "s": _sym(asset), "S": "Sell", "v": "0.110", "p": "94380.00"},
        ]
        return {"topic": f"allLiquidation.{_sym(asset)}", "type": "snapshot", "ts": t + 300, "data": data}

    return [
        {"success": True, "ret_msg": "", "op": "subscribe", "conn_id": "c1"},
        push(START + 500),
        push(START + 9 * HOUR),
    ]


STREAM_URLS = {
    "binance": "wss://fstream.binance.com/stream?streams=!forceOrder@arr",
    "bybit": "wss://stream.bybit.com/v5/public/linear",
}


def session_log(exchange: str) -> list[list[dict]]:
    """The collector's session log, one list of lines per connection: a connection is what gives
    rows (one per day it touches), and only its own lines decide them."""
    url, closed = STREAM_URLS[exchange], "connection closed (received 1006 (abnormal closure); then sent 1006)"
    return [
        [  # since the evening before: cut at midnight
            {"at": "2026-01-14T22:10:03.512000+00:00", "event": "connected", "url": url},
            {"at": "2026-01-14T23:59:03.600000+00:00", "event": "alive", "messages": 1812},
            {"at": "2026-01-15T06:30:00.100000+00:00", "event": "disconnected", "reason": closed},
            {"at": "2026-01-15T06:30:00.101000+00:00", "event": "reconnect_wait", "reason": closed, "wait_s": 1.0},
        ],
        [  # until the collector was stopped
            {"at": "2026-01-15T06:30:01.350000+00:00", "event": "connected", "url": url},
            {"at": "2026-01-15T06:31:01.350000+00:00", "event": "alive", "messages": 1830},
            {"at": "2026-01-15T11:00:00.004000+00:00", "event": "disconnected", "reason": "stopped"},
            {"at": "2026-01-15T11:00:00.009000+00:00", "event": "stopped", "connects": 2, "messages": 2950}
            | {"written": 2941, "duplicates": 9, "untracked": 0, "unreadable": 0},
        ],
        [  # restarted; no disconnect logged (it died, or still runs) and heartbeats past midnight
            {"at": "2026-01-15T12:00:00.250000+00:00", "event": "connected", "url": url},
            {"at": "2026-01-15T23:59:30.250000+00:00", "event": "alive", "messages": 3120},
            {"at": "2026-01-16T00:00:30.250000+00:00", "event": "alive", "messages": 3121},
        ],
    ]


def okx_envelope(data: list[Any]) -> dict:
    return {"code": "0", "msg": "", "data": data}


def _okx_rubik(table: str, path: str, row: Callable[[int], list[str]], **extra: str) -> Case:
    """An OKX per-contract trading-statistics series: hourly ``[ts, ...]`` rows, newest first."""
    endpoint = f"/api/v5/rubik/stat/{path}"
    return Case(
        table,
        f"GET {endpoint}",
        lambda a: okx_envelope([row(t) for t in _hours(2, 1, 0)]),
        lambda a: {"instId": _inst(a), "period": "1H", **extra, "end": str(START + DAY_MS), "limit": "100"},
        under("data"),
        context=lambda a: {"asset": a},
        time_of=lambda row: row[0],
        routes={endpoint: lambda q: CASES[table].payload(_asset_of(q, "instId"))},
    )


def okx_liquidations(asset: str) -> dict:
    details = [
        {"bkLoss": "0", "bkPx": "94021.3", "ccy": "", "posSide": "long", "side": "sell", "sz": "12", "ts": str(t)}
        for t in _hours(20, 7)
    ] + [
        {"bkLoss": "0", "bkPx": "95120.8", "ccy": "", "posSide": "net", "side": "buy", "sz": "3", "ts": str(START + 9)}
    ]
    item = {"instFamily": f"{asset}-USDT", "instId": _inst(asset), "instType": "SWAP", "uly": f"{asset}-USDT"}
    return okx_envelope([{**item, "totalLoss": "", "details": details}])


OKX_INSTRUMENTS = okx_envelope(
    [
        {"instType": "SWAP", "instId": "BTC-USDT-SWAP", "ctVal": "0.01", "ctMult": "1", "ctValCcy": "BTC"},
        {"instType": "SWAP", "instId": "ETH-USDT-SWAP", "ctVal": "0.1", "ctMult": "1", "ctValCcy": "ETH"},
    ]
)
OKX_CT_VAL = {"BTC-USDT-SWAP": "0.01", "ETH-USDT-SWAP": "0.1"}
COINALYZE_VENUES = {"H": "hyperliquid", "A": "binance", "6": "bybit", "3": "okx"}  # Coinalyze's exchange codes


def coinalyze_symbol(code: str, asset: str) -> str:
    """Coinalyze's perpetual symbols: ``BTC.H`` for Hyperliquid, ``BTCUSDT_PERP.<code>`` for the others."""
    return f"{asset}.H" if code == "H" else f"{asset}USDT_PERP.{code}"


COINALYZE_MARKETS = [
    {"symbol": coinalyze_symbol(c, a), "exchange": c, "symbol_on_exchange": {"H": a, "3": _inst(a)}.get(c, _sym(a))}
    | {"base_asset": a, "quote_asset": "USD" if c == "H" else "USDT", "is_perpetual": True, "margined": "STABLE"}
    | {"has_buy_sell_data": c != "H"}
    for c in COINALYZE_VENUES
    for a in ASSETS
]
COINGECKO_IDS = {"BTC": "bitcoin", "ETH": "ethereum"}
COINGECKO_LISTING = [{"id": COINGECKO_IDS[a], "symbol": a.lower(), "market_cap": 1.0e12} for a in ASSETS]


def coinalyze_series(symbol: str, point: Callable[[int], dict]) -> dict:
    return {"symbol": symbol, "history": [point(t // 1000) for t in _hours(0, 1, 13)]}


def coinalyze_liquidation_point(t: int) -> dict:
    return {"t": t, "l": 1523456.78, "s": 234567.12}


def coinalyze_oi_point(t: int) -> dict:
    return {"t": t, "o": 7812345678.1, "h": 7850000000.0, "l": 7790000000.0, "c": 7833333333.3}


def coingecko_chart(asset: str) -> dict:
    points = _hours(23, 24, 25)  # hourly points around the day's close (next 00:00)
    return {
        "prices": [[ms, 95000.0 + i] for i, ms in enumerate(points)],
        "market_caps": [[ms, 1.9e12 + i] for i, ms in enumerate(points)],
        "total_volumes": [[ms, 4.1e10] for ms in points],
    }


START_S = START // 1000  # Gate speaks UNIX seconds
GATE_QUANTO = {"BTC": "0.0001", "ETH": "0.01"}  # coins per contract


def gate_contract(asset: str) -> dict:
    return {
        "name": f"{asset}_USDT",
        "type": "direct",
        "quanto_multiplier": GATE_QUANTO[asset],
        "mark_price": "95480.2",
        "funding_interval": 28800,
        "settle_currency": "usdt",
        "in_delisting": False,
    }


def gate_stats(asset: str, step: int) -> list[dict]:
    return [
        {"time": START_S + step * i, "lsr_taker": 1.12, "lsr_account": 2.41, "long_liq_size": 1520}
        | {"long_liq_amount": 0.152, "long_liq_usd": 14512.3, "short_liq_size": 40, "short_liq_amount": 0.004}
        | {"short_liq_usd": 381.9, "open_interest": 81234567, "open_interest_usd": 775612345.6}
        | {"top_lsr_account": "1.8", "top_lsr_size": "1.1", "mark_price": 95480.2}
        for i in range(3)
    ]


# --- where the records sit in a payload (None: the payload does not have the normal shape) --------

Leaves = Callable[[Any, str], list[Loc] | None]


def list_root(payload: Any, asset: str) -> list[Loc] | None:
    return [(i,) for i in range(len(payload))] if isinstance(payload, list) else None


def under(*keys: str) -> Leaves:
    def leaves(payload: Any, asset: str) -> list[Loc] | None:
        node = payload
        for key in keys:
            if not isinstance(node, dict) or key not in node:
                return None
            node = node[key]
        return [(*keys, i) for i in range(len(node))] if isinstance(node, list) else None

    return leaves


def okx_details(payload: Any, asset: str) -> list[Loc] | None:
    items = under("data")(payload, asset)
    if items is None:
        return None
    out: list[Loc] = []
    for loc in items:
        item = get(payload, loc)
        if not isinstance(item, dict):
            return None
        details = item.get("details")
        if not details:
            continue  # no details: nothing to parse
        if not isinstance(details, list):
            return None
        out += [(*loc, "details", j) for j in range(len(details))]
    return out


def coinalyze_points(code: str) -> Leaves:
    """The points of the asset's series on the venue ``code``."""

    def leaves(payload: Any, asset: str) -> list[Loc] | None:
        if not isinstance(payload, list):
            return None
        out: list[Loc] = []
        for i, series in enumerate(payload):
            symbol = series.get("symbol") if isinstance(series, dict) else None
            if symbol == coinalyze_symbol(code, asset):
                if not isinstance(series.get("history"), list):
                    return None
                out += [(i, "history", j) for j in range(len(series["history"]))]
            else:
                out.append((i,))  # a series nobody asked for is one reject
        return out

    return leaves


def coingecko_points(payload: Any, asset: str) -> list[Loc] | None:
    names = ("prices", "market_caps", "total_volumes")
    if not isinstance(payload, dict) or not all(isinstance(payload.get(n), list) for n in names):
        return None
    return [(n, i) for n in names for i in range(len(payload[n]))]


def bybit_pushes(payload: Any, asset: str) -> list[Loc] | None:
    if not isinstance(payload, list):
        return None
    out: list[Loc] = []
    for i, message in enumerate(payload):
        topic = message.get("topic") if isinstance(message, dict) else None
        if isinstance(topic, str) and topic.startswith("allLiquidation.") and isinstance(message.get("data"), list):
            out += [(i, "data", j) for j in range(len(message["data"]))]
        elif not (isinstance(message, dict) and "topic" not in message):
            out.append((i,))
    return out


_NOT_JSON = object()


def tape_messages(body: bytes) -> Iterator[Any]:
    for line in body.splitlines():
        if line.strip():
            try:
                yield orjson.loads(line)
            except ValueError:
                yield _NOT_JSON


def binance_tape_records(body: bytes) -> int:
    """Every non-blank line is one event or one reject."""
    return sum(1 for _ in tape_messages(body))


def bybit_tape_records(body: bytes) -> int:
    """An allLiquidation push holds a batch of events; acks and pongs (no topic) hold none; any
    other line is one reject."""
    count = 0
    for message in tape_messages(body):
        topic = message.get("topic") if isinstance(message, dict) else None
        if isinstance(topic, str) and topic.startswith("allLiquidation."):
            data = message.get("data")
            count += len(data) if isinstance(data, list) else 1
        elif not (isinstance(message, dict) and "topic" not in message):
            count += 1
    return count


def _session_time(message: Any) -> datetime | None:
    """When a session-log line happened, in UTC (a time without an offset is UTC, as the collector
    writes it); None when it has no readable time and event, or a time beyond the calendar in UTC."""
    if (
        not isinstance(message, dict)
        or not isinstance(message.get("event"), str)
        or not isinstance(message.get("at"), str)
    ):
        return None
    try:
        moment = datetime.fromisoformat(message["at"])
        return moment.astimezone(UTC).replace(tzinfo=None) if moment.tzinfo else moment
    except (ValueError, OverflowError):
        return None


def uptime_records(body: bytes) -> int:
    """A connection runs from "connected" to the next "disconnected" or "stopped" (with neither,
    to its last line before the next "connected" or the end of the log) and gives one row per day
    of the window it overlaps; a line without a readable time and event is one reject."""
    rejects, stretches = 0, []
    opened: datetime | None = None
    seen: datetime | None = None
    for message in tape_messages(body):
        moment = _session_time(message)
        if moment is None:
            rejects += 1
            continue
        ends = message["event"] in ("disconnected", "stopped")
        if opened is not None and seen is not None and (ends or message["event"] == "connected"):
            stretches.append((opened, moment if ends else seen))
            opened = seen = None
        if message["event"] == "connected":
            opened = seen = moment
        elif opened is not None:
            seen = moment
    if opened is not None and seen is not None:
        stretches.append((opened, seen))
    days = [
        (datetime.combine(day, datetime.min.time()), datetime.combine(day + timedelta(days=1), datetime.min.time()))
        for day in WINDOW.days
    ]
    return rejects + sum(
        1 for start, end in stretches for first, last in days if start < end and first < end and start < last
    )


# --- the cases: one per registered endpoint ---------------------------------------------------


@dataclass(frozen=True)
class Case:
    table: str
    endpoint: str  # the Page.endpoint the fetch gives the data pages
    payload: Callable[[str], Any]  # asset -> a valid payload
    params: Callable[[str], dict[str, Any]]
    leaves: Leaves
    context: Callable[[str], dict[str, Any]] = lambda asset: {}
    preamble: tuple[Page, ...] = ()  # pages the fetch yields before the data (parsers skip them)
    tape_records: Callable[[bytes], int] | None = None  # collector tape: records from the bytes
    time_of: Callable[[Any], Any] | None = None  # the parser drops records from before the window (OKX)
    records_per_page: int | None = None  # fixed number of records a parsed page yields (CoinGecko)
    fill: Mapping[date, frozenset[str]] = field(default_factory=dict)  # a catch-up endpoint's exchange-days
    routes: dict[str, Callable[[dict[str, Any]], Any]] = field(default_factory=dict)  # fetch path -> body

    @property
    def source(self) -> str:
        return ENDPOINTS[self.table].source

    @property
    def tape(self) -> bool:
        return self.tape_records is not None

    @property
    def session_log(self) -> bool:
        """The collector's session log: one file for all days, its payload a list of connections."""
        return self.endpoint == "collector sessions"

    def tape_path(self, landing: Path) -> Path:
        tapes = CollectorTapes(landing)
        if self.session_log:
            return tapes.landing_root / "collector" / self.source / SESSIONS_FILE
        return tapes.path(self.source, DAY)

    def page(self, asset: str, body: bytes, status: int = 200) -> Page:
        context = {**WINDOW.context(**self.context(asset))}
        if self.tape:  # as CollectorTapes reads it; the session log's fetch adds the window
            tape = {**self.params(asset), "tape": str(self.tape_path(Path("/landing")))}
            context = {**tape, **WINDOW.context()} if self.session_log else tape
        return Page(self.source, self.endpoint, self.params(asset), status, body, context)

    def encode(self, payload: Any) -> bytes:
        if not self.tape:
            return dumps(payload)
        if self.session_log:  # a connection is its lines
            payload = [line for lines in payload for line in (lines if isinstance(lines, list) else [lines])]
        lines = [m.data if isinstance(m, RawLine) else dumps(m) for m in payload]
        return b"\n".join(lines) + b"\n"


def _uptime_case(exchange: str) -> Case:
    """When the collector was connected, from its session log (one file, read for every run)."""
    return Case(
        f"{exchange}_collector_uptime",
        "collector sessions",
        lambda a: session_log(exchange),
        lambda a: {"exchange": exchange},
        list_root,
        tape_records=uptime_records,
    )


def _window_params(**extra: Any) -> dict[str, Any]:
    return {"startTime": START, "endTime": START + DAY_MS - 1, **extra}


def _rest_page(source: str, endpoint: str, params: dict[str, Any], payload: Any) -> Page:
    return Page(source, endpoint, params, 200, dumps(payload), WINDOW.context())


def _asset_of(query: dict[str, Any], key: str) -> str:
    value = str(query.get(key, "BTC"))
    return next((a for a in ASSETS if value.startswith(a)), "BTC")


def _coinalyze_case(table: str, path: str, point: Callable[[int], dict], code: str = "H") -> Case:
    """Coinalyze's history endpoints share a shape: one series per requested symbol of the venue
    ``code``. A catch-up endpoint is asked to fill the venue's partition day."""
    venue = COINALYZE_VENUES[code]
    return Case(
        table,
        f"GET {path}",
        lambda a: [coinalyze_series(coinalyze_symbol(code, a), point)],
        lambda a: (
            {"symbols": coinalyze_symbol(code, a), "interval": "1hour"}
            | {"from": START // 1000, "to": (START + DAY_MS) // 1000}
        ),
        coinalyze_points(code),
        context=lambda a: {"markets": {coinalyze_symbol(code, a): {"exchange": venue, "asset": a}}},
        preamble=(_rest_page("coinalyze", "GET /future-markets", {}, COINALYZE_MARKETS),),
        fill={DAY: frozenset({venue})} if ENDPOINTS[table].fills else {},
        routes={
            "/future-markets": lambda q: COINALYZE_MARKETS,
            path: lambda q: [coinalyze_series(s, point) for s in str(q.get("symbols", "")).split(",")],
        },
    )


def _binance_ratio_case(path: str) -> Case:
    """Binance's long/short ratio endpoints: every number a string, the time a string or a number
    of milliseconds; the taker endpoint's rows name no symbol (the request does)."""
    measure, field = BINANCE_RATIOS[path]
    table = f"binance_{measure}"

    def rows(a: str) -> list[dict[str, Any]]:
        if field == "buySellRatio":
            return [
                {"buySellRatio": "1.0512", "buyVol": "1051.2", "sellVol": "1000.0", "timestamp": t if i else str(t)}
                for i, t in enumerate(_hours(0, 1, 2))
            ]
        return [
            {"symbol": _sym(a), field: "1.9559", "longAccount": "0.6617", "shortAccount": "0.3383"}
            | {"timestamp": t if i else str(t)}
            for i, t in enumerate(_hours(0, 1, 2))
        ]

    return Case(
        table,
        f"GET /futures/data/{path}",
        rows,
        lambda a: _window_params(symbol=_sym(a), limit=500, period="1h"),
        list_root,
        routes={f"/futures/data/{path}": lambda q: rows(_asset_of(q, "symbol"))},
    )


def _gate_stats_from(query: dict[str, Any]) -> list[dict]:
    """contract_stats honours ``from``: the fetch walks forwards until an empty page."""
    step = 300 if query.get("interval") == "5m" else 3600
    return [r for r in gate_stats(_asset_of(query, "contract"), step) if r["time"] >= int(query.get("from", 0))]


def _gate_case(
    table: str,
    path: str,
    payload: Callable[[str], Any],
    params: dict[str, Any],
    keep: str | None = None,
    route: Callable[[dict[str, Any]], Any] | None = None,
) -> Case:
    """Gate answers a list of rows per contract. All endpoints but liquidations first fetch the
    contract (a page the parsers skip) and carry its ``keep`` value in the context of the pages."""
    contracts = {f"/futures/usdt/contracts/{a}_USDT": (lambda q, a=a: gate_contract(a)) for a in ASSETS}
    btc = _rest_page("gate", "GET /futures/usdt/contracts/BTC_USDT", {}, gate_contract("BTC"))
    return Case(
        table,
        f"GET {path}",
        payload,
        lambda a: {"contract": f"{a}_USDT", **params},
        list_root,
        context=lambda a: {"asset": a} | ({keep: float(gate_contract(a)[keep])} if keep else {}),
        preamble=(btc,) if keep else (),
        routes={**(contracts if keep else {}), path: route or (lambda q: payload(_asset_of(q, "contract")))},
    )


CASES: dict[str, Case] = {
    c.table: c
    for c in (
        Case(
            "binance_liquidations",
            "collector tape",
            binance_tape,
            lambda a: {"exchange": "binance", "day": DAY.isoformat()},
            list_root,
            tape_records=binance_tape_records,
        ),
        Case(
            "binance_funding",
            "GET /fapi/v1/fundingRate",
            lambda a: [
                {"symbol": _sym(a), "fundingTime": t + 3, "fundingRate": "-0.00002481", "markPrice": "94210.50000000"}
                for t in _hours(0, 8, 16)
            ],
            lambda a: _window_params(symbol=_sym(a), limit=500),
            list_root,
            routes={"/fapi/v1/fundingRate": lambda q: CASES["binance_funding"].payload(_asset_of(q, "symbol"))},
        ),
        Case(
            "binance_open_interest",
            "GET /futures/data/openInterestHist",
            lambda a: [
                {
                    "symbol": _sym(a),
                    "sumOpenInterest": "93421.512",
                    "sumOpenInterestValue": "8843256789.12",
                    "CMCCirculatingSupply": "19812345.000",
                    "timestamp": t if i else str(t),
                }
                for i, t in enumerate(_hours(0, 1, 2))
            ],
            lambda a: _window_params(symbol=_sym(a), limit=500, period="1h"),
            list_root,
            routes={
                "/futures/data/openInterestHist": lambda q: CASES["binance_open_interest"].payload(
                    _asset_of(q, "symbol")
                )
            },
        ),
        Case(
            "binance_klines",
            "GET /fapi/v1/klines",
            lambda a: [
                [t, "94000.10", "94500.00", "93800.20", "94210.50", "1234.567", t + HOUR - 1, "1.16e8", 12345, "600.1"]
                + ["56000000.3", "0"]
                for t in _hours(0, 1, 2)
            ],
            lambda a: _window_params(symbol=_sym(a), limit=500, interval="1h"),
            list_root,
            routes={"/fapi/v1/klines": lambda q: CASES["binance_klines"].payload(_asset_of(q, "symbol"))},
        ),
        Case(
            "bybit_liquidations",
            "collector tape",
            bybit_tape,
            lambda a: {"exchange": "bybit", "day": DAY.isoformat()},
            bybit_pushes,
            tape_records=bybit_tape_records,
        ),
        _uptime_case("binance"),
        _uptime_case("bybit"),
        Case(
            "bybit_funding",
            "GET /v5/market/funding/history",
            lambda a: {
                "retCode": 0,
                "retMsg": "OK",
                "result": {
                    "category": "linear",
                    "list": [
                        {"symbol": _sym(a), "fundingRate": "-0.00004312", "fundingRateTimestamp": str(t)}
                        for t in _hours(16, 8, 0)
                    ],
                },
                "retExtInfo": {},
                "time": START + DAY_MS,
            },
            lambda a: {"category": "linear", "symbol": _sym(a), "startTime": START, "endTime": START + DAY_MS - 1},
            under("result", "list"),
            routes={"/v5/market/funding/history": lambda q: CASES["bybit_funding"].payload(_asset_of(q, "symbol"))},
        ),
        Case(
            "bybit_open_interest",
            "GET /v5/market/open-interest",
            lambda a: {
                "retCode": 0,
                "retMsg": "OK",
                "result": {
                    "symbol": _sym(a),
                    "category": "linear",
                    "list": [
                        {"openInterest": "104682.246", "singleOpenInterest": "52341.123", "timestamp": str(t)}
                        for t in _hours(2, 1, 0)
                    ],
                    "nextPageCursor": "",
                },
                "retExtInfo": {},
                "time": START + DAY_MS,
            },
            lambda a: {"category": "linear", "symbol": _sym(a), "intervalTime": "1h", "limit": 200},
            under("result", "list"),
            routes={"/v5/market/open-interest": lambda q: CASES["bybit_open_interest"].payload(_asset_of(q, "symbol"))},
        ),
        Case(
            "bybit_account_ratio",
            "GET /v5/market/account-ratio",
            lambda a: {
                "retCode": 0,
                "retMsg": "OK",
                "result": {
                    "list": [
                        {"symbol": _sym(a), "buyRatio": "0.6617", "sellRatio": "0.3383", "timestamp": str(t)}
                        for t in _hours(2, 1, 0)
                    ],
                    "nextPageCursor": "",
                },
                "retExtInfo": {},
                "time": START + DAY_MS,
            },
            lambda a: {"category": "linear", "symbol": _sym(a), "period": "1h", "limit": 500},
            under("result", "list"),
            routes={"/v5/market/account-ratio": lambda q: CASES["bybit_account_ratio"].payload(_asset_of(q, "symbol"))},
        ),
        Case(
            "okx_liquidations",
            "GET /api/v5/public/liquidation-orders",
            okx_liquidations,
            lambda a: {"instType": "SWAP", "instFamily": f"{a}-USDT", "state": "filled", "after": str(START + DAY_MS)},
            okx_details,
            context=lambda a: {"asset": a, "ct_val": OKX_CT_VAL},
            preamble=(_rest_page("okx", "GET /api/v5/public/instruments", {"instType": "SWAP"}, OKX_INSTRUMENTS),),
            time_of=lambda detail: detail["ts"],
            routes={
                "/api/v5/public/instruments": lambda q: OKX_INSTRUMENTS,
                "/api/v5/public/liquidation-orders": lambda q: okx_liquidations(_asset_of(q, "instFamily")),
            },
        ),
        Case(
            "okx_funding",
            "GET /api/v5/public/funding-rate-history",
            lambda a: okx_envelope(
                [
                    {"formulaType": "withRate", "fundingRate": "0.0000792", "fundingTime": str(t), "instId": _inst(a)}
                    | {"instType": "SWAP", "method": "current_period", "realizedRate": "0.0000790"}
                    for t in _hours(16, 8, 0)
                ]
            ),
            lambda a: {"instId": _inst(a), "after": str(START + DAY_MS), "limit": "100"},
            under("data"),
            context=lambda a: {"asset": a},
            time_of=lambda row: row["fundingTime"],
            routes={
                "/api/v5/public/funding-rate-history": lambda q: CASES["okx_funding"].payload(_asset_of(q, "instId"))
            },
        ),
        _okx_rubik(
            "okx_open_interest",
            "contracts/open-interest-history",
            lambda t: [str(t), "3155200.51", "31552.0051", "3013456789.12"],
        ),
        _okx_rubik("okx_account_ratio", "contracts/long-short-account-ratio-contract", lambda t: [str(t), "1.37"]),
        _okx_rubik(
            "okx_top_account_ratio",
            "contracts/long-short-account-ratio-contract-top-trader",
            lambda t: [str(t), "1.12"],
        ),
        _okx_rubik(
            "okx_top_position_ratio",
            "contracts/long-short-position-ratio-contract-top-trader",
            lambda t: [str(t), "0.94"],
        ),
        _okx_rubik(
            "okx_taker_volume",
            "taker-volume-contract",
            lambda t: [str(t), "81234567.12", "90345678.34"],
            unit="2",
        ),
        Case(
            "hyperliquid_funding",
            "POST /info",
            lambda a: [
                {"coin": a, "fundingRate": "0.0000125", "premium": "-0.0003", "time": t + 21} for t in _hours(0, 1, 2)
            ],
            lambda a: {"type": "fundingHistory", "coin": a, "startTime": START, "endTime": START + DAY_MS - 1},
            list_root,
            context=lambda a: {"asset": a},
            routes={"/info": lambda q: CASES["hyperliquid_funding"].payload(_asset_of(q, "coin"))},
        ),
        _coinalyze_case("coinalyze_liquidations", "/liquidation-history", coinalyze_liquidation_point),
        _coinalyze_case("coinalyze_open_interest", "/open-interest-history", coinalyze_oi_point),
        _coinalyze_case("coinalyze_liquidation_fills", "/liquidation-history", coinalyze_liquidation_point, code="6"),
        Case(
            "coinglass_liquidations",
            "GET /api/futures/liquidation/aggregated-history",
            lambda a: {
                "code": "0",
                "msg": "success",
                "data": [
                    {
                        "time": t,
                        "aggregated_long_liquidation_usd": "1523456.78",
                        "aggregated_short_liquidation_usd": 2.5e5,
                    }
                    for t in _hours(0, 1, 2)
                ],
            },
            lambda a: {"exchange_list": "Hyperliquid", "symbol": a, "interval": "1h", "limit": 1000},
            under("data"),
            context=lambda a: {"exchange": "hyperliquid", "asset": a},
            routes={
                "/api/futures/liquidation/aggregated-history": lambda q: CASES["coinglass_liquidations"].payload(
                    _asset_of(q, "symbol")
                )
            },
        ),
        _gate_case(
            "gate_liquidations",
            "/futures/usdt/contract_stats",
            lambda a: gate_stats(a, 300),
            {"interval": "5m", "from": START_S, "limit": 100},
            route=_gate_stats_from,
        ),
        _gate_case(
            "gate_open_interest",
            "/futures/usdt/contract_stats",
            lambda a: gate_stats(a, 3600),
            {"interval": "1h", "from": START_S, "limit": 24},
            keep="quanto_multiplier",
            route=_gate_stats_from,
        ),
        _gate_case(
            "gate_long_short_ratios",
            "/futures/usdt/contract_stats",
            lambda a: gate_stats(a, 3600),
            {"interval": "1h", "from": START_S, "limit": 24},
            route=_gate_stats_from,
        ),
        *(_binance_ratio_case(path) for path in BINANCE_RATIOS),
        _gate_case(
            "gate_funding",
            "/futures/usdt/funding_rate",
            lambda a: [{"t": START_S + 3600 * h, "r": "0.0001"} for h in (16, 8, 0)],  # newest first
            {"from": START_S, "to": START_S + 86_399, "limit": 1000},
            keep="funding_interval",
        ),
        _gate_case(
            "gate_klines",
            "/futures/usdt/candlesticks",
            lambda a: [
                {"t": START_S + 3600 * h, "v": 123456, "c": "95512.4", "h": "95880.1", "l": "95010", "o": "95500"}
                | {"sum": "11789012.3"}
                for h in (0, 1, 2)
            ],
            {"interval": "1h", "from": START_S, "to": START_S + 86_399},
            keep="quanto_multiplier",
        ),
        Case(
            "coingecko_market_caps",
            "GET /coins/bitcoin/market_chart/range",
            coingecko_chart,
            lambda a: {"vs_currency": "usd", "from": (START + DAY_MS) // 1000 - 3600, "to": (START + DAY_MS) // 1000},
            coingecko_points,
            context=lambda a: {"coin_id": COINGECKO_IDS[a], "symbol": a},
            preamble=(
                _rest_page(
                    "coingecko", "GET /coins/markets", {"vs_currency": "usd", "per_page": 50}, COINGECKO_LISTING
                ),
            ),
            records_per_page=len(WINDOW.days),  # one close per day of the window, found or rejected
            routes={
                "/coins/markets": lambda q: COINGECKO_LISTING,
                "/coins/bitcoin/market_chart/range": lambda q: coingecko_chart("BTC"),
                "/coins/ethereum/market_chart/range": lambda q: coingecko_chart("ETH"),
            },
        ),
        Case(
            "deribit_dvol",
            "GET /public/get_volatility_index_data",
            lambda a: {
                "jsonrpc": "2.0",
                "result": {"data": [[t, 55.12, 55.48, 54.90, 55.31] for t in _hours(0, 1, 2)], "continuation": None},
                "usIn": 1768521600123456,
                "usOut": 1768521600123789,
                "usDiff": 333,
                "testnet": False,
            },
            lambda a: {
                "currency": a,
                "start_timestamp": START,
                "end_timestamp": START + DAY_MS - 1,
                "resolution": "3600",
            },
            under("result", "data"),
            context=lambda a: {"currency": a},
            routes={
                "/public/get_volatility_index_data": lambda q: CASES["deribit_dvol"].payload(_asset_of(q, "currency"))
            },
        ),
    )
}
TABLES = sorted(CASES)


# --- what a parsed page must look like -----------------------------------------------------------


@dataclass
class Trace:
    """Which of the template's records a sequence of changes left alone: those must still load."""

    case: Case
    asset: str
    keep: list[Any]  # the template's record objects (kept alive, so ids are not reused)
    touched: set[int] = field(default_factory=set)
    record_only: bool = True  # every change stayed inside a record
    lost: bool = False  # the payload lost its shape on the way: which records were touched is unknown

    @classmethod
    def start(cls, case: Case, asset: str, payload: Any) -> Trace:
        return cls(case, asset, [get(payload, loc) for loc in case.leaves(payload, asset) or []])

    def mark(self, tree: Any, target: Loc) -> None:
        """Records a change at ``target`` may affect: those under it, the one holding it, and for a
        key of an enclosing object (an envelope's code, an OKX item's instId) all records below."""
        leaves = self.case.leaves(tree, self.asset)
        self.lost = self.lost or leaves is None
        for leaf in leaves or []:
            inside = target[: len(leaf)] == leaf
            above = leaf[: len(target)] == target
            sibling = bool(target) and isinstance(target[-1], str) and leaf[: len(target) - 1] == target[:-1]
            same_line = self.case.tape and target[:1] == leaf[:1]  # a bad value can spoil the whole line
            if inside or above or sibling or same_line:
                self.touched.add(id(get(tree, leaf)))

    def untouched(self, tree: Any) -> int:
        if self.lost:
            return 0
        originals = {id(record) for record in self.keep} - self.touched
        return sum(1 for loc in self.case.leaves(tree, self.asset) or [] if id(get(tree, loc)) in originals)


@dataclass
class Expect:
    must_fail: bool = False  # the page is unusable: a SourceError is required
    may_fail: bool = False
    records: tuple[int, int] | None = None  # accepted + rejected, low..high (None: not countable)
    untouched: int = 0  # at least this many rows must be accepted


def expect_page(case: Case, asset: str, body: bytes, status: int, trace: Trace | None, tree: Any) -> Expect:
    if case.tape_records is not None:  # a tape is read line by line: it never fails as a whole
        count = case.tape_records(body)
        return Expect(records=(count, count), untouched=trace.untouched(tree) if trace else 0)
    usable = parses(body) and 200 <= status < 300
    expect = Expect(must_fail=not usable, may_fail=not usable or trace is None or not trace.record_only)
    if not usable:
        return expect
    if case.records_per_page is not None:
        expect.records = (case.records_per_page, case.records_per_page)
        return expect
    parsed = orjson.loads(body)
    leaves = case.leaves(parsed, asset)
    if leaves is not None:
        early = sum(1 for loc in leaves if _before_window(case, get(parsed, loc)))
        expect.records = (len(leaves) - early, len(leaves))
        expect.untouched = trace.untouched(tree) if trace else 0
    return expect


def _before_window(case: Case, record: Any) -> bool:
    if case.time_of is None:
        return False
    try:
        moment = to_float(case.time_of(record))
    except (KeyError, IndexError, TypeError, ValueError):
        return False
    return moment is not None and moment < START


def _satisfies(check: Check, value: Any, day: date) -> bool:
    if check is Check.REQUIRED:
        return value is not None
    if value is None:
        return True
    if check is Check.POSITIVE:
        return value > 0
    if check is Check.NON_NEGATIVE:
        return value >= 0
    if check is Check.IN_DAY:
        return value.date() == day
    return value in ("long", "short")


def check_batch(endpoint: Endpoint, table: pa.Table, rejects: pa.Table, refs: set[str]) -> None:
    """Accepted rows obey every row rule of the dataset; every reject has a reason."""
    dataset = endpoint.dataset
    assert table.schema == pa.schema([(c.name, c.type) for c in dataset.columns + LINEAGE_COLUMNS])
    assert rejects.schema == REJECTS_SCHEMA
    for row in table.to_pylist():
        assert row["partition_date"] in WINDOW.days and row["payload_ref"] in refs
        for column in dataset.columns:
            value = row[column.name]
            assert not isinstance(value, float) or math.isfinite(value), (column.name, row)
            for check in column.checks:
                assert _satisfies(check, value, row["partition_date"]), (column.name, check.value, row)
    for reject in rejects.to_pylist():
        assert reject["source_table"] == endpoint.table
        assert isinstance(reject["reason"], str) and reject["reason"].strip(), reject
        assert reject["partition_date"] in WINDOW.days and reject["payload_ref"] in refs
        assert isinstance(reject["record"], str)


def parse_pages(case: Case, pages: list[Page], hostile: Page, expect: Expect) -> None:
    """The pipeline's own page -> rows + rejects step, and what must come out of it."""
    endpoint = ENDPOINTS[case.table]
    try:
        report = _build(endpoint, WINDOW, pages, [REF])
    except SourceError as error:
        event("outcome: SourceError")
        assert expect.may_fail, f"a page with only bad records failed as a whole: {error}"
        assert (error.source, error.endpoint, error.params) == (endpoint.source, hostile.endpoint, hostile.params)
        assert str(error).startswith(f"{endpoint.source} {hostile.endpoint} "), str(error)[:300]
        return
    batch = report.batch
    event(
        f"outcome: rows ({'some' if batch.accepted else 'no'} accepted, {'some' if batch.rejected else 'no'} rejected)"
    )
    assert not expect.must_fail, "an unusable page (not JSON, or an HTTP error) produced rows instead of an error"
    check_batch(endpoint, batch.table, batch.rejects, {REF})
    if expect.records is not None:
        low, high = expect.records
        assert low <= batch.accepted + batch.rejected <= high, (batch.accepted, batch.rejected, expect.records)
    assert batch.accepted >= expect.untouched, (batch.accepted, expect.untouched, batch.rejects.to_pylist())


def with_neighbours(draw: Draw, case: Case, hostile: Page, expect: Expect) -> list[Page]:
    """The hostile page among the pages a real fetch yields: the preamble, and maybe a valid page
    for the other asset before or after it (a bad page must not hide, or be hidden by, a good one)."""
    pages = [*case.preamble, hostile]
    if not case.tape and draw(st.booleans(), label="with a valid sibling page"):
        sibling = case.page("ETH", case.encode(case.payload("ETH")))
        pages.insert(len(pages) - (1 if draw(st.booleans(), label="sibling first") else 0), sibling)
        n = records_in(case, "ETH")
        if expect.records is not None:
            expect.records = (expect.records[0] + n, expect.records[1] + n)
        expect.untouched += n
    return pages


# --- the changes hypothesis makes ------------------------------------------------------------------


RECORD_CHANGES = ("field", "field", "field", "field", "replace", "drop", "duplicate")


def change_record(draw: Draw, case: Case, asset: str, payload: Any, trace: Trace) -> Any:
    """One change inside one record: a field gets a hostile value, disappears, gets company,
    changes type or moves in time; or the record is replaced, dropped or duplicated."""
    leaves = case.leaves(payload, asset)
    if not leaves:
        return payload
    loc = draw(st.sampled_from(leaves), label="record")
    kind = draw(st.sampled_from(RECORD_CHANGES), label="record change")
    if case.tape and kind != "field" and draw(st.booleans(), label="cut the line"):
        line = loc[:1]  # the collector died mid-write: the line ends early
        if case.session_log and isinstance(get(payload, line), list) and get(payload, line):
            line = (*line, draw(st.integers(0, len(get(payload, line)) - 1), label="line of the connection"))
        message = get(payload, line)
        if isinstance(message, dict | list):
            event("change: cut tape line")
            trace.mark(payload, line)
            data = dumps(message)
            return put(payload, line, RawLine(data[: draw(st.integers(1, len(data) - 1), label="cut at")]))
    trace.mark(payload, loc)
    if kind == "field":
        inner = [where for where in locations(get(payload, loc), loc) if where != loc]
        if inner:
            target = draw(st.sampled_from(inner), label="field")
            return change_at(draw, payload, target, draw(st.sampled_from(FIELD_CHANGES), label="field change"))[0]
        kind = "replace"
    event(f"change: {kind} record")
    parent = get(payload, loc[:-1])
    if kind == "drop":
        del parent[loc[-1]]
    elif kind == "duplicate":
        parent.insert(loc[-1] + 1, copy.deepcopy(parent[loc[-1]]))
    else:
        parent[loc[-1]] = draw(HOSTILE_VALUES)
    return payload


def change_anywhere(draw: Draw, case: Case | None, asset: str, payload: Any, trace: Trace | None) -> Any:
    """One change anywhere in the payload: envelope, containers, records (root included for REST)."""
    every = list(locations(payload))
    if case is not None and case.tape:
        every = [loc for loc in every if loc]  # a tape is lines; whole-body damage is done on bytes
    if not every:
        return payload
    target = draw(st.sampled_from(every), label="where")
    kinds = [*FIELD_CHANGES, "duplicate"]
    kind = draw(st.sampled_from(kinds), label="change")
    if trace is not None:
        trace.record_only = False
        trace.mark(payload, target)
    if kind == "duplicate":
        parent = get(payload, target[:-1]) if target else None
        if isinstance(parent, list):
            event("change: duplicate element")
            parent.insert(target[-1] + 1, copy.deepcopy(parent[target[-1]]))
            return payload
        kind = "hostile"
    return change_at(draw, payload, target, kind)[0]


HTML_PAGES = [
    b"<html>\r\n<head><title>502 Bad Gateway</title></head>\r\n<body>\r\n<center><h1>502 Bad Gateway</h1></center>"
    b"\r\n<hr><center>cloudflare</center>\r\n</body>\r\n</html>\r\n",
    b"<!DOCTYPE html><html lang=en><head><title>Just a moment...</title></head><body>Checking...</body></html>",
    b"<html><body><h1>504 Gateway Time-out</h1>The server didn't respond in time.</body></html>",
]
BYTE_CHANGES = (
    "truncate",
    "truncate",
    "empty",
    "blank",
    "html",
    "text",
    "garbage",
    "bom",
    "bad_utf8",
    "wrong_json",
    "twice",
    "gzip",
)
TAPE_BYTE_CHANGES = (*BYTE_CHANGES, "crlf", "blank_lines", "nul_line")


def mangle(draw: Draw, body: bytes, tape: bool) -> bytes:
    """Whole-body damage: cut off, empty, an error page instead of JSON, binary, wrong encoding."""
    kind = draw(st.sampled_from(TAPE_BYTE_CHANGES if tape else BYTE_CHANGES), label="byte change")
    event(f"bytes: {kind}")
    cut = draw(st.integers(0, max(0, len(body) - 1)), label="at")
    if kind == "truncate":
        return body[:cut]
    if kind == "empty":
        return b""
    if kind == "blank":
        return draw(st.sampled_from([b" ", b"\n", b"\r\n\t ", b"\n\n"]))
    if kind == "html":
        return draw(st.sampled_from(HTML_PAGES))
    if kind == "text":
        return draw(st.sampled_from([b"Internal Server Error", b"upstream connect error", b"Too Many Requests\n"]))
    if kind == "garbage":
        return draw(st.binary(max_size=64))
    if kind == "bom":
        return b"\xef\xbb\xbf" + body
    if kind == "bad_utf8":
        return body[:cut] + draw(st.sampled_from([b"\xff", b"\xc3", b"\xed\xa0\x80", b"\x80\x80"])) + body[cut:]
    if kind == "wrong_json":
        options = [b"null", b"true", b"0", b'"ok"', b"[]", b"{}", b"[[]]", b"[{}]", b"[null]", b'{"data": null}']
        return draw(st.sampled_from(options + [b'{"result": {}}', b'{"code": "0", "data": [{}]}', b'[{"history": 5}]']))
    if kind == "twice":
        return body + body
    if kind == "gzip":
        return gzip.compress(body)
    if kind == "crlf":
        return body.replace(b"\n", b"\r\n")
    if kind == "blank_lines":
        return body[:cut] + b"\n\n  \n" + body[cut:]
    return body[:cut] + b"\n\x00\x00\n" + body[cut:]  # nul_line: a block of zeros after a crash


STATUSES = st.sampled_from([200, 200, 200, 201, 204, 301, 400, 401, 403, 404, 418, 451, 520])


# --- the tests ------------------------------------------------------------------------------------


def test_every_registered_endpoint_has_a_hostile_case():
    assert set(CASES) | set(ARCHIVE_TABLES) == set(ENDPOINTS) and not set(CASES) & set(ARCHIVE_TABLES)
    for table, case in CASES.items():
        assert case.endpoint.startswith(("GET ", "POST ", "collector"))
        assert ENDPOINTS[table].from_collector == case.tape
        assert bool(case.fill) == (ENDPOINTS[table].fills is not None)  # a catch-up is asked to fill the day


def records_in(case: Case, asset: str) -> int:
    """Records in the valid payload of ``asset``."""
    if case.tape_records is not None:
        return case.tape_records(case.encode(case.payload(asset)))
    return case.records_per_page or len(case.leaves(case.payload(asset), asset) or [])


@pytest.mark.parametrize("table", TABLES)
def test_the_valid_payloads_parse_without_a_reject(table):
    """Mutations start from payloads the parsers fully accept."""
    case = CASES[table]
    assets = ASSETS[:1] if case.tape else ASSETS
    pages = [*case.preamble, *(case.page(a, case.encode(case.payload(a))) for a in assets)]
    batch = _build(ENDPOINTS[table], WINDOW, pages, [REF]).batch
    assert batch.rejected == 0, batch.rejects.to_pylist()
    assert batch.accepted == sum(records_in(case, a) for a in assets) > 0
    check_batch(ENDPOINTS[table], batch.table, batch.rejects, {REF})


@pytest.mark.parametrize("table", TABLES)
@settings(HOSTILE, max_examples=80)
@given(data=st.data())
def test_bad_records_are_rejected_with_a_reason_and_the_rest_of_the_page_loads(table, data):
    """Changes inside records only: wrong types, missing and extra fields, numbers as strings and
    strings as numbers, NaN/Infinity, zero and negative sizes, timestamps outside the day,
    duplicated and dropped events, cut tape lines. The page never fails as a whole (unless the
    change made it invalid JSON); every record comes out as a row or a reject; untouched records
    load."""
    case, draw = CASES[table], data.draw
    payload = case.payload("BTC")
    trace = Trace.start(case, "BTC", payload)
    for _ in range(draw(st.integers(1, 4), label="changes")):
        payload = change_record(draw, case, "BTC", payload, trace)
    body = case.encode(payload)
    expect = expect_page(case, "BTC", body, 200, trace, payload)
    hostile = case.page("BTC", body)
    parse_pages(case, with_neighbours(draw, case, hostile, expect), hostile, expect)


@pytest.mark.parametrize("table", TABLES)
@settings(HOSTILE, max_examples=80)
@given(data=st.data())
def test_mangled_payloads_end_as_rows_and_rejects_or_a_named_error(table, data):
    """Changes anywhere (envelopes, error codes, containers), whole-body damage (truncated JSON,
    HTML error pages, empty and blank bodies, binary, bad UTF-8) and odd HTTP statuses."""
    case, draw = CASES[table], data.draw
    payload = case.payload("BTC")
    trace = Trace.start(case, "BTC", payload)
    for _ in range(draw(st.integers(0, 3), label="tree changes")):
        payload = change_anywhere(draw, case, "BTC", payload, trace)
    body = case.encode(payload)
    if draw(st.booleans(), label="damage the bytes"):
        body, trace = mangle(draw, body, case.tape), None
    status = 200 if case.tape else draw(STATUSES, label="status")
    event(f"status: {status}")
    expect = expect_page(case, "BTC", body, status, trace, payload)
    hostile = case.page("BTC", body, status)
    parse_pages(case, with_neighbours(draw, case, hostile, expect), hostile, expect)


def _flip_numbers(draw: Draw, tree: Any, leaves: list[Loc]) -> Any:
    """Numbers in the records sent as strings and numeric strings sent as numbers, each at
    hypothesis' choice. CoinGecko point times ([ms, value][0]) are keys that are matched, not
    values that are read, and stay as they are."""
    for leaf in leaves:
        for loc in list(locations(get(tree, leaf), leaf)):
            value = get(tree, loc)
            if loc[0] in ("prices", "market_caps", "total_volumes") and loc[-1] == 0:
                continue
            if isinstance(value, bool) or number_in(value) is None or not draw(st.booleans(), label="flip"):
                continue
            if isinstance(value, str):
                number = float(value)
                tree = put(tree, loc, int(number) if number.is_integer() and "." not in value else number)
            else:
                tree = put(tree, loc, repr(value) if isinstance(value, float) else str(value))
    return tree


@pytest.mark.parametrize("table", TABLES)
@settings(HOSTILE, max_examples=15)
@given(data=st.data())
def test_numbers_sent_as_strings_parse_exactly(table, data):
    """A number and its string spelling ("0.00010000" / 0.0001) give the same row, field by field."""
    case = CASES[table]
    clean = _build(ENDPOINTS[table], WINDOW, [case.page("BTC", case.encode(case.payload("BTC")))], [REF]).batch
    payload = case.payload("BTC")
    payload = _flip_numbers(data.draw, payload, case.leaves(payload, "BTC") or [])
    flipped = _build(ENDPOINTS[table], WINDOW, [case.page("BTC", case.encode(payload))], [REF]).batch
    assert flipped.rejected == 0, flipped.rejects.to_pylist()
    assert flipped.table.equals(clean.table)


# --- the data archive: checksummed zips of CSV files (ingestion/sources/binance_archive.py) --------

ARCHIVE_TABLES = sorted(t for t, e in ENDPOINTS.items() if e.source == "binance_archive")
ARCHIVE_CELLS = st.sampled_from(
    [
        "",
        " ",
        "NaN",
        "nan",
        "inf",
        "-Infinity",
        "-1",
        "0",
        "1e400",
        "abc",
        "null",
        "None",
        "1,5",
        "0x10",
        "\u0661",
        "\x00",
        "2026-01-15 00:00:00",
        "2026-01-15 24:00:00",
        "2026-01-16 00:00:00",
        "1768435200000",
        "BTCUSDT",
        "99999999999999999999999",
        '"',
        "\r\n",
    ]
) | st.text(max_size=12)
ARCHIVE_ROW_CHANGES = ("cell", "cell", "cell", "short", "long", "duplicate", "drop", "header")


def _metrics_rows() -> list[list[str]]:
    """A day of readings every 30 minutes: 24 on the hour (the rows the datasets take) and 24 between."""
    return [
        [
            (datetime(2026, 1, 15) + timedelta(minutes=30 * i)).strftime("%Y-%m-%d %H:%M:%S"),
            "BTCUSDT",
            f"{1000 + i}.5",
            f"{95_000_000 + i}.25",
            "1.3903",
            "0.9765",
            f"{1.6 + i / 1000:.4f}",
            "1.0503",
        ]
        for i in range(48)
    ]


def _kline_rows() -> list[list[str]]:
    """A day of 24 hourly candles, as Binance's kline files hold them (times in epoch ms)."""
    start = int(datetime(2026, 1, 15, tzinfo=UTC).timestamp() * 1000)
    return [
        [
            str(start + i * 3_600_000),
            f"{95_000 + i}.1",
            f"{95_100 + i}.2",
            f"{94_900 + i}.3",
            f"{95_050 + i}.4",
            "123.456",
            str(start + (i + 1) * 3_600_000 - 1),
            "11734567.89",
            "4567",
            "60.1",
            "5712345.6",
            "0",
        ]
        for i in range(24)
    ]


DAY_START_MS = int(datetime(DAY.year, DAY.month, DAY.day, tzinfo=UTC).timestamp() * 1000)


def _funding_rows() -> list[list[str]]:
    """Settlements every 8 hours from the day before to the day after: a month's file holds
    other days, which the window leaves out (not a reject)."""
    return [
        [str(DAY_START_MS + hours * 3_600_000 + hours % 7), "8", f"{0.0001 - hours / 1e6:.8f}"]
        for hours in range(-24, 48, 8)
    ]


@dataclass(frozen=True)
class ArchiveFile:
    """A good file of one kind: its header (None: a kline file of the older kind, without one),
    its rows, which of them the dataset takes, and its path in the archive."""

    header: list[str] | None
    rows: Callable[[], list[list[str]]]
    taken: Callable[[list[str]], bool]
    path: str


METRICS_FILE = ArchiveFile(
    METRICS_HEADER.split(","),
    _metrics_rows,
    lambda row: row[0].endswith(":00:00"),
    f"/data/futures/um/daily/metrics/BTCUSDT/BTCUSDT-metrics-{DAY}.zip",
)
KLINES_PATH = f"/data/futures/um/daily/klines/BTCUSDT/1h/BTCUSDT-1h-{DAY}.zip"
ARCHIVE_FILES = {
    "metrics": METRICS_FILE,
    "klines with header": ArchiveFile(KLINE_HEADER.split(","), _kline_rows, lambda row: True, KLINES_PATH),
    "klines without header": ArchiveFile(None, _kline_rows, lambda row: True, KLINES_PATH),
    "funding": ArchiveFile(
        FUNDING_HEADER.split(","),
        _funding_rows,
        lambda row: DAY_START_MS <= int(row[0]) < DAY_START_MS + 86_400_000,
        f"/data/futures/um/monthly/fundingRate/BTCUSDT/BTCUSDT-fundingRate-{DAY:%Y-%m}.zip",
    ),
}
ARCHIVE_KINDS = {"binance_archive_klines": ("klines with header", "klines without header")}
ARCHIVE_KINDS |= {"binance_archive_funding": ("funding",)}
ARCHIVE_CASES = [(table, kind) for table in ARCHIVE_TABLES for kind in ARCHIVE_KINDS.get(table, ("metrics",))]


def _archive_csv(header: list[str] | None, rows: list[list[str]]) -> str:
    text = io.StringIO()
    csv.writer(text, lineterminator="\n").writerows([header, *rows] if header is not None else rows)
    return text.getvalue()


def _archive_zip(header: list[str] | None, rows: list[list[str]]) -> bytes:
    buffer = io.BytesIO()
    with zipfile.ZipFile(buffer, "w", zipfile.ZIP_DEFLATED) as archive:
        archive.writestr("BTCUSDT.csv", _archive_csv(header, rows))
    return buffer.getvalue()


def _archive_pages(path: str, body: bytes, checksum_of: bytes, status: int = 200) -> tuple[Page, Page]:
    digest = hashlib.sha256(checksum_of).hexdigest()
    context = WINDOW.context(asset="BTC", day=DAY.isoformat())
    checksum = Page("binance_archive", path + ".CHECKSUM", {}, 200, f"{digest}  x.zip\n".encode(), context)
    return checksum, Page("binance_archive", path, {}, status, body, {**context, "expected_sha256": digest})


@pytest.mark.parametrize(("table", "file_kind"), ARCHIVE_CASES)
@settings(HOSTILE, max_examples=60)
@given(data=st.data())
def test_bad_rows_of_an_archive_file_are_rejected_with_a_reason_and_the_rest_load(table, file_kind, data):
    """Cells with hostile text, short and long rows, duplicated and dropped rows, a changed header,
    in a file whose checksum holds: the file never fails as a whole; every row the dataset takes
    comes out as a row or a reject; those no change touched load."""
    draw = data.draw
    template = ARCHIVE_FILES[file_kind]
    header = template.header
    rows = template.rows()
    touched: set[int] = set()  # ids of the template's rows a change reached
    keep = list(rows)
    for _ in range(draw(st.integers(1, 4), label="changes")):
        kind = draw(st.sampled_from(ARCHIVE_ROW_CHANGES), label="change")
        event(f"archive change: {kind}")
        if kind == "header" and header is not None:
            header = list(header)
            header[draw(st.integers(0, len(header) - 1), label="column")] = draw(ARCHIVE_CELLS, label="name")
            touched.update(id(r) for r in keep)
            continue
        if not rows:
            continue
        at = draw(st.integers(0, len(rows) - 1), label="row")
        row = rows[at]
        touched.add(id(row))
        if kind in ("cell", "short") and not row:
            kind = "long"
        if kind == "cell":
            rows[at] = list(row)
            rows[at][draw(st.integers(0, len(row) - 1), label="cell")] = draw(ARCHIVE_CELLS, label="value")
        elif kind == "short":
            rows[at] = row[: draw(st.integers(0, max(0, len(row) - 1)), label="cells kept")]
        elif kind == "long":
            rows[at] = [*row, draw(ARCHIVE_CELLS, label="extra")]
        elif kind == "duplicate":
            rows.insert(at, list(row))
        else:
            del rows[at]
    if header is None and not _archive_csv(None, rows)[:1].isdigit():
        # A file without a header whose first row no longer starts with a number reads as a file
        # with a header nobody knows: every row is then rejected, none guessed at by position.
        event("archive: first row reads as a header")
        touched.update(id(r) for r in keep)
    body = _archive_zip(header, rows)
    endpoint = ENDPOINTS[table]
    batch = _build(endpoint, WINDOW, list(_archive_pages(template.path, body, body)), [REF]).batch
    check_batch(endpoint, batch.table, batch.rejects, {REF})
    untouched = sum(1 for r in keep if id(r) not in touched and template.taken(r))
    assert batch.accepted >= untouched, (batch.accepted, untouched, batch.rejects.to_pylist()[:3])
    assert batch.accepted + batch.rejected <= len(rows) + 1


@pytest.mark.parametrize(("table", "file_kind"), ARCHIVE_CASES)
@settings(HOSTILE, max_examples=40)
@given(data=st.data())
def test_a_damaged_archive_file_is_one_reject_naming_it_or_a_named_error(table, file_kind, data):
    """Whole-file damage (cut off, empty, an HTML page, binary, gzip instead of zip ...) under the
    CHECKSUM of the good file, or under its own (published broken), and odd HTTP statuses."""
    draw = data.draw
    template = ARCHIVE_FILES[file_kind]
    good = _archive_zip(template.header, template.rows())
    body = mangle(draw, good, tape=False)
    own_checksum = draw(st.booleans(), label="checksum of the damaged bytes")
    status = draw(STATUSES, label="status")
    checksum, page = _archive_pages(template.path, body, body if own_checksum else good, status)
    endpoint = ENDPOINTS[table]
    try:
        batch = _build(endpoint, WINDOW, [checksum, page], [REF]).batch
    except SourceError as error:
        event("outcome: SourceError")
        assert not 200 <= status < 300, error
        assert str(error).startswith(f"binance_archive {page.endpoint} "), str(error)[:300]
        return
    assert 200 <= status < 300
    check_batch(endpoint, batch.table, batch.rejects, {REF})
    if body != good:
        event(f"outcome: {batch.accepted} rows, {batch.rejected} rejects")
        file_name = template.path.rsplit("/", 1)[-1]
        named = [r["reason"] for r in batch.rejects.to_pylist() if r["reason"].startswith(f"{file_name}: ")]
        assert named or own_checksum, batch.rejects.to_pylist()
        assert batch.accepted == 0 or own_checksum


# --- hostile answers through the whole raw-asset path ---------------------------------------------


Reply = tuple[int, bytes]


class InProcessVenue(BaseAdapter):
    """Answers a ``SourceClient``'s requests without a socket: the valid body for each request,
    except the one the test makes hostile, told by what it asks (path and parameters), not by
    when: a source may walk several assets at once, in threads."""

    def __init__(self, case: Case, hostile: tuple[str, Reply] | None = None) -> None:
        super().__init__()
        self.case, self.hostile = case, hostile
        self.answered: list[tuple[str, int, bytes]] = []  # (request, status, body), in arrival order
        self._lock = threading.Lock()

    def send(self, request: requests.PreparedRequest, **kwargs: Any) -> requests.Response:
        url = urlsplit(request.url or "")
        path = url.path
        query: dict[str, Any] = dict(parse_qsl(url.query, keep_blank_values=True))
        if request.body:
            query = json.loads(request.body)
        asked = f"{path} {json.dumps(query, sort_keys=True)}"
        route = self.case.routes.get(path)
        status, body = (200, dumps(route(query))) if route else (404, b'{"error": "not found"}')
        with self._lock:
            if self.hostile is not None and self.hostile[0] == asked:
                (status, body), self.hostile = self.hostile[1], None
            self.answered.append((asked, status, body))
        response = requests.Response()
        response.status_code, response._content, response.url = status, body, request.url or ""
        response.request, response.reason = request, "in process"
        return response

    def close(self) -> None:
        pass


TAPE = "the collector's tape"


def fetch(case: Case, landing: Path, hostile: tuple[str, Reply] | None = None) -> Any:
    """``ingest`` as the raw asset calls it, with the venue answered in process; ``hostile`` is
    (the request, or TAPE, and the reply that replaces its answer)."""
    endpoint = ENDPOINTS[case.table]
    client = SOURCES_BY_NAME[case.source].client("http://venue.test", demo=True, settings=HttpSettings(retries=0))
    venue = InProcessVenue(case, hostile)
    client.session.mount("http://", venue)
    if case.tape:
        tape = case.encode(case.payload("BTC"))
        path = case.tape_path(landing)
        path.parent.mkdir(parents=True, exist_ok=True)
        path.write_bytes(hostile[1][1] if hostile and hostile[0] == TAPE else tape)
    try:
        ctx = FetchContext(client, ASSETS, CollectorTapes(landing), fill=case.fill)
        return ingest(endpoint, ctx, [DAY], landing), venue
    finally:
        client.close()


def _rows(table: pa.Table | list[tuple]) -> list[tuple]:
    """Rows in a stable order (nulls last), from Arrow or from DuckDB."""
    rows = table if isinstance(table, list) else list(zip(*(c.to_pylist() for c in table.columns), strict=True))
    return sorted(rows, key=lambda row: tuple((value is None, value) for value in row))


@dataclass
class Warehouse:
    """A real DuckDB warehouse and landing zone shared by the examples of a module."""

    engine: DuckDBEngine
    landing: Path
    # What a clean run of each endpoint asks for, with the valid answers, in a stable order
    answers: dict[str, list[tuple[str, bytes]]] = field(default_factory=dict)
    # What each table held when the last example that finished checked it (a DuckDB connection
    # costs ~30 ms; an example that did not finish drops its entry, so the next one reads again).
    held: dict[str, dict[date, tuple[list[tuple], list[tuple]]]] = field(default_factory=dict)

    def stored(self, table: str) -> dict[date, tuple[list[tuple], list[tuple]]]:
        """Raw rows and rejects of the partition day and of the day before, read in one connection."""
        out = {}
        with self.engine.connect() as con:
            for day in (DAY, NEIGHBOUR):
                rows = con.execute(f'SELECT * FROM raw."{table}" WHERE partition_date = ?', [day]).fetchall()
                rejects = con.execute(
                    "SELECT * FROM raw.rejected_rows WHERE source_table = ? AND partition_date = ?", [table, day]
                ).fetchall()
                out[day] = (_rows(rows), _rows(rejects))
        return out

    def prepared(self, case: Case) -> dict[date, tuple[list[tuple], list[tuple]]]:
        """What the warehouse holds before a hostile run: clean rows for the day and the day before
        (loaded by a clean run the first time, and again whenever a run left the day empty)."""
        if case.table not in self.answers:
            clean, venue = fetch(case, self.landing)
            tape = [(TAPE, case.encode(case.payload("BTC")))]
            self.answers[case.table] = tape if case.tape else sorted((a, body) for a, _, body in venue.answered)
            batch = clean.batch
            before = batch.table.set_column(
                batch.table.schema.get_field_index("partition_date"),
                "partition_date",
                pa.array([NEIGHBOUR] * batch.table.num_rows, pa.date32()),
            )
            self.engine.replace_partitions(case.table, before, batch.rejects.slice(0, 0), [NEIGHBOUR])
        held = self.held.pop(case.table, None) or self.stored(case.table)
        if not held[DAY][0]:
            clean, _ = fetch(case, self.landing)
            self.engine.replace_partitions(case.table, clean.batch.table, clean.batch.rejects, clean.days)
            held = self.stored(case.table)
        assert held[DAY][0] and held[NEIGHBOUR][0]
        return held


NEIGHBOUR = DAY - timedelta(days=1)


@pytest.fixture(scope="module")
def warehouse(tmp_path_factory: pytest.TempPathFactory) -> Warehouse:
    home = tmp_path_factory.mktemp("hostile-home")
    return Warehouse(DuckDBEngine(Paths(home)), Paths(home).landing)


def _hostile_answer(draw: Draw, case: Case) -> Callable[[bytes], Reply]:
    """Turns the valid answer to one request into a hostile one (same kinds of damage as above)."""

    def answer(valid: bytes) -> tuple[int, bytes]:
        mode = draw(st.sampled_from(["tree", "bytes", "status"]), label="hostile answer")
        event(f"answer: {mode}")
        if mode == "bytes":
            return 200, mangle(draw, valid, case.tape)
        if case.tape:
            lines: Any = [orjson.loads(line) for line in valid.splitlines() if line.strip()]
            for _ in range(draw(st.integers(1, 3), label="changes")):
                lines = change_anywhere(draw, case, "BTC", lines, None)
            return 200, case.encode(lines)
        status = draw(STATUSES, label="status") if mode == "status" else 200
        payload = orjson.loads(valid)
        for _ in range(draw(st.integers(0 if mode == "status" else 1, 3), label="changes")):
            payload = change_anywhere(draw, None, "BTC", payload, None)
        return status, dumps(payload)

    return answer


@pytest.mark.parametrize("table", TABLES)
@settings(HOSTILE, max_examples=6)
@given(data=st.data())
def test_a_hostile_answer_never_half_loads_a_partition(warehouse, table, data):
    """Fetch -> landing archive -> parse -> ``replace_partitions`` into a real DuckDB file, with one
    answer of the run (any request, preamble included) made hostile, over a day that holds clean
    rows. Afterwards either the run failed with a SourceError naming the source and the day's rows
    and rejects are exactly as before, or the day holds exactly the new batch (no mix of old and
    new) and replaying the landing archive gives the same batch. The day before is never touched."""
    case, endpoint, draw = CASES[table], ENDPOINTS[table], data.draw
    before = warehouse.prepared(case)
    answers = warehouse.answers[table]
    asked, valid = answers[draw(st.integers(0, len(answers) - 1), label="hostile answer number")]
    try:
        report, _ = fetch(case, warehouse.landing, (asked, _hostile_answer(draw, case)(valid)))
        check_batch(endpoint, report.batch.table, report.batch.rejects, set(report.archives))
        warehouse.engine.replace_partitions(table, report.batch.table, report.batch.rejects, report.days)
    except SourceError as error:
        event("outcome: SourceError, nothing loaded")
        assert error.source == endpoint.source and str(error).startswith(f"{error.source} {error.endpoint} ")
        after = warehouse.stored(table)
        assert after == before, "a failed run changed the warehouse"
    else:
        event("outcome: day replaced")
        after = warehouse.stored(table)
        assert after[DAY] == (_rows(report.batch.table), _rows(report.batch.rejects)), "not exactly the new batch"
        assert after[NEIGHBOUR] == before[NEIGHBOUR], "a run for one day changed another day"
        again = replay(endpoint, [DAY], warehouse.landing).batch
        assert again.table.equals(report.batch.table) and again.rejects.equals(report.batch.rejects)
    warehouse.held[table] = after


def _full_binance_funding() -> list[dict]:
    rows = [{"symbol": "BTCUSDT", "fundingTime": START + i, "fundingRate": "0.0001"} for i in range(500)]
    del rows[-1]["fundingTime"]
    return rows


def _full_bybit_funding() -> dict:
    payload = CASES["bybit_funding"].payload("BTC")
    row = payload["result"]["list"][0]
    payload["result"]["list"] = [{**row, "fundingRateTimestamp": str(START + i)} for i in range(200)]
    payload["result"]["list"][7]["fundingRateTimestamp"] = "n/a"
    return payload


def _full_hyperliquid_funding() -> list[dict]:
    return [{"coin": "BTC", "fundingRate": "0.0000125", "time": START + i} for i in range(499)] + [
        {"coin": "BTC", "fundingRate": "0.0000125", "time": [START]}
    ]


def _deribit_bad_continuation() -> dict:
    payload = CASES["deribit_dvol"].payload("BTC")
    payload["result"]["continuation"] = "n/a"
    return payload


BROKEN_CURSORS: dict[str, tuple[str, Callable[[], Any]]] = {
    "binance_funding": ("/fapi/v1/fundingRate", _full_binance_funding),
    "bybit_funding": ("/v5/market/funding/history", _full_bybit_funding),
    "hyperliquid_funding": ("/info", _full_hyperliquid_funding),
    "deribit_dvol": ("/public/get_volatility_index_data", _deribit_bad_continuation),
}


@pytest.mark.parametrize("table", sorted(BROKEN_CURSORS))
def test_a_page_that_gives_no_usable_cursor_stops_the_fetch_with_a_named_error(table, tmp_path):
    """A full page whose row times cannot be read (or a continuation that is not a time) leaves no
    way to ask for the next page: a SourceError naming the request, with the pages that did
    arrive kept in the landing zone as ``.partial``."""
    path, page = BROKEN_CURSORS[table]
    case = dataclasses.replace(CASES[table], routes={path: lambda query: page()})
    with pytest.raises(SourceError, match=rf"^{case.source} {case.endpoint} .*cannot continue paging"):
        fetch(case, tmp_path)
    partial = archive_path(tmp_path, ENDPOINTS[table], WINDOW, ".partial")
    assert [p.body for p in read_archive(partial)] == [dumps(page())]


def test_a_load_that_fails_half_way_leaves_the_partition_as_it_was(tmp_path):
    """The load itself is one transaction: if inserting the new rows fails after the old ones
    were deleted, the old rows are back."""
    case = CASES["binance_funding"]
    warehouse = Warehouse(DuckDBEngine(Paths(tmp_path)), Paths(tmp_path).landing)
    before = warehouse.prepared(case)
    good = _build(ENDPOINTS[case.table], WINDOW, [case.page("BTC", case.encode(case.payload("BTC")))], [REF]).batch
    broken = good.table.append_column("not_a_raw_column", pa.array(["x"] * good.table.num_rows))
    with pytest.raises(duckdb.Error):
        warehouse.engine.replace_partitions(case.table, broken, good.rejects, [DAY])
    assert warehouse.stored(case.table) == before
