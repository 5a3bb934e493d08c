"""The collector tape: a day of Binance ``!forceOrder@arr`` or Bybit ``allLiquidation.{symbol}``
websocket messages, one per line, exactly as the streams send them, and the collector's session
log (``_sessions.ndjson``) in the shape ``levstress collect-liquidations`` writes it.

Binance pushes at most one event per symbol per second (the latest); Bybit pushes every event in
500 ms batches per symbol. The simulated collector was connected from the start of the simulated
history except for the story's scripted outages, whose messages are not on the tape.
"""

from __future__ import annotations

import json
import re
from datetime import UTC, date, datetime

from ingestion.simulator.catalog import ASSETS, SPECS, binance_symbol
from ingestion.simulator.story import COLLECTOR_OUTAGES
from ingestion.simulator.timegrid import DAY_MS, ORIGIN_MS, day_index, day_start_ms, parse_ts
from ingestion.simulator.venues.base import VenueApp
from ingestion.simulator.wire import Request, Response, dumps, fixed, text_response

PATH = re.compile(r"^/(binance|bybit)/(\d{4}-\d{2}-\d{2})$")
SESSIONS_PATH = re.compile(r"^/(binance|bybit)/_sessions\.ndjson$")
NDJSON = "application/x-ndjson"
BANKRUPTCY_GAP = 0.0035  # Binance's order price (bankruptcy) sits beyond the average fill
BATCH_MS = 500


class Tape(VenueApp):
    source = "tape"

    def handle(self, req: Request) -> Response:
        sessions = SESSIONS_PATH.match(req.path)
        if req.method == "GET" and sessions is not None:
            return Response(200, session_log(sessions.group(1), self.ctx.until_ms).encode(), NDJSON)
        match = PATH.match(req.path)
        if req.method != "GET" or match is None:
            return text_response("no such tape: use /_tape/{binance|bybit}/{YYYY-MM-DD}", 404)
        try:
            day = date.fromisoformat(match.group(2))
        except ValueError:
            return text_response(f"not a day: {match.group(2)}", 404)
        exchange = match.group(1)
        keyed = binance_lines(self, day) if exchange == "binance" else bybit_lines(self, day)
        away = outages(exchange)
        lines = [line for sent, line in keyed if not any(start <= sent < end for start, end, _ in away)]
        body = "".join(line + "\n" for line in lines).encode()
        return Response(200, body, NDJSON)

    def fault_source(self, req: Request) -> str:
        match = PATH.match(req.path)
        return match.group(1) if match else self.source

    def window_start_ms(self, req: Request) -> int | None:
        match = PATH.match(req.path)
        return day_start_ms(date.fromisoformat(match.group(2))) if match else None


def outages(exchange: str) -> list[tuple[int, int, str]]:
    return [(parse_ts(start), parse_ts(end), why) for ex, start, end, why in COLLECTOR_OUTAGES if ex == exchange]


def session_log(exchange: str, until_ms: int) -> str:
    """Connected from the start of history to the clock, but for the exchange's scripted outages;
    the last record is the collector's latest heartbeat."""
    records: list[tuple[int, dict[str, object]]] = [(ORIGIN_MS, {"event": "connected", "url": f"sim://{exchange}"})]
    for start, end, why in outages(exchange):
        if start < until_ms:
            records.append((start, {"event": "disconnected", "reason": why}))
            records.append((start, {"event": "reconnect_wait", "reason": why, "wait_s": 1.0}))
        if end < until_ms:
            records.append((end, {"event": "connected", "url": f"sim://{exchange}"}))
    records.append((until_ms, {"event": "alive"}))
    return "".join(
        json.dumps({"at": datetime.fromtimestamp(ms / 1000, UTC).isoformat(), **record}) + "\n"
        for ms, record in records
    )


def binance_lines(app: VenueApp, day: date) -> list[tuple[int, str]]:
    """(time sent, message) of the day's messages, in order."""
    index = day_index(day)
    day_end = ORIGIN_MS + (index + 1) * DAY_MS
    keyed: list[tuple[int, int, int, str]] = []
    for a, asset in enumerate(ASSETS):
        events = app.ctx.liquidations("binance", asset, index, throttled=True)
        spec, symbol = SPECS[asset], binance_symbol(asset)
        for i in range(len(events)):
            traded = int(events.time_ms[i])
            sent = min(traded + int(events.delay_ms[i]), day_end - 1)
            long = events.side[i] == 0
            fill = float(events.price[i])
            order_px = round(fill * (1 - BANKRUPTCY_GAP if long else 1 + BANKRUPTCY_GAP) / spec.tick) * spec.tick
            qty = fixed(events.size[i], spec.qty_decimals_binance)
            order = {
                "s": symbol,
                "S": "SELL" if long else "BUY",
                "o": "LIMIT",
                "f": "IOC",
                "q": qty,
                "p": fixed(order_px, spec.price_decimals),
                "ap": fixed(fill, spec.price_decimals),
                "X": "FILLED",
                "l": qty,
                "z": qty,
                "T": traded,
            }
            keyed.append((sent, a, i, dumps({"e": "forceOrder", "E": sent, "o": order}).decode()))
    keyed.sort()
    return [(sent, line) for sent, _, _, line in keyed]


def bybit_lines(app: VenueApp, day: date) -> list[tuple[int, str]]:
    """(time sent, message) of the day's messages, in order."""
    index = day_index(day)
    day_end = ORIGIN_MS + (index + 1) * DAY_MS
    keyed: list[tuple[int, int, str]] = []
    for a, asset in enumerate(ASSETS):
        events = app.ctx.liquidations("bybit", asset, index)
        spec, symbol = SPECS[asset], binance_symbol(asset)
        batches = events.time_ms // BATCH_MS
        start = 0
        while start < len(events):
            stop = start
            while stop < len(events) and batches[stop] == batches[start]:
                stop += 1
            data = [
                {
                    "T": int(events.time_ms[i]),
                    "s": symbol,
                    "S": "Buy" if events.side[i] == 0 else "Sell",
                    "v": fixed(events.size[i], spec.qty_decimals_bybit),
                    "p": fixed(events.price[i], spec.price_decimals),
                }
                for i in range(start, stop)
            ]
            batch_end = int(batches[start]) * BATCH_MS + BATCH_MS - 1
            ts = min(int(events.time_ms[stop - 1]) + int(events.delay_ms[stop - 1]) * 5, batch_end, day_end - 1)
            message = {"topic": f"allLiquidation.{symbol}", "type": "snapshot", "ts": ts, "data": data}
            keyed.append((ts, a, dumps(message).decode()))
            start = stop
    keyed.sort()
    return [(ts, line) for ts, _, line in keyed]
