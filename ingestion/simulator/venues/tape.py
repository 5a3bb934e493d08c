"""The collector tape: a day of Binance ``!forceOrder@arr`` or Bybit ``allLiquidation.{symbol}``
websocket messages, one per line, exactly as the streams send them.

Binance pushes at most one event per symbol per second (the latest); Bybit pushes every event in
500 ms batches per symbol.
"""

from __future__ import annotations

import re
from datetime import date

from ingestion.simulator.catalog import ASSETS, SPECS, binance_symbol
from ingestion.simulator.timegrid import DAY_MS, ORIGIN_MS, day_index, day_start_ms
from ingestion.simulator.venues.base import VenueApp
from ingestion.simulator.wire import Request, Response, dumps, fixed, text_response

PATH = re.compile(r"^/(binance|bybit)/(\d{4}-\d{2}-\d{2})$")
NDJSON = "application/x-ndjson"
BANKRUPTCY_GAP = 0.0035  # Binance's order price (bankruptcy) sits beyond the average fill
BATCH_MS = 500


class Tape(VenueApp):
    source = "tape"

    def handle(self, req: Request) -> Response:
        match = PATH.match(req.path)
        if req.method != "GET" or match is None:
            return text_response("no such tape: use /_tape/{binance|bybit}/{YYYY-MM-DD}", 404)
        try:
            day = date.fromisoformat(match.group(2))
        except ValueError:
            return text_response(f"not a day: {match.group(2)}", 404)
        lines = binance_lines(self, day) if match.group(1) == "binance" else bybit_lines(self, day)
        body = "".join(line + "\n" for line in lines).encode()
        return Response(200, body, NDJSON)

    def fault_source(self, req: Request) -> str:
        match = PATH.match(req.path)
        return match.group(1) if match else self.source

    def window_start_ms(self, req: Request) -> int | None:
        match = PATH.match(req.path)
        return day_start_ms(date.fromisoformat(match.group(2))) if match else None


def binance_lines(app: VenueApp, day: date) -> list[str]:
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
    return [line for *_, line in keyed]


def bybit_lines(app: VenueApp, day: date) -> list[str]:
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
    return [line for *_, line in keyed]
