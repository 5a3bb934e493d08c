"""The liquidation collector against real websocket servers on loopback: reconnects, replayed
events, midnight splits, heartbeats, silent connections, restarts and a clean stop. The tapes it
writes are then loaded with the real tape parsers."""

from __future__ import annotations

import contextlib
import dataclasses
import json
import socket
import threading
import time
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from datetime import UTC, date, datetime
from pathlib import Path

import pytest
from websockets.exceptions import ConnectionClosed
from websockets.sync.server import ServerConnection, serve

from ingestion.collector import SESSIONS_FILE, LiquidationCollector
from ingestion.pipeline import replay
from ingestion.registry import ENDPOINTS
from ingestion.sources import binance, bybit

DAY = date(2026, 1, 20)
NEXT_DAY = date(2026, 1, 21)
ASSETS = ("BTC", "ETH", "SOL", "XRP", "DOGE")


def ms(moment: str) -> int:
    return int(datetime.fromisoformat(moment).replace(tzinfo=UTC).timestamp() * 1000)


def force_order(symbol: str, side: str, at: str, qty: str = "0.5", price: str = "94000.5") -> str:
    t = ms(at)
    return json.dumps(
        {
            "e": "forceOrder",
            "E": t + 4,
            "o": {
                "s": symbol,
                "S": side,
                "o": "LIMIT",
                "f": "IOC",
                "q": qty,
                "p": price,
                "ap": price,
                "X": "FILLED",
                "l": qty,
                "z": qty,
                "T": t,
            },
        }
    )


@contextmanager
def ws_server(handler: Callable[[ServerConnection, int], None]) -> Iterator[str]:
    """A websocket server on 127.0.0.1; ``handler`` gets the connection and its 1-based number."""
    count = {"n": 0}

    def handle(conn: ServerConnection) -> None:
        count["n"] += 1
        handler(conn, count["n"])

    with serve(handle, "127.0.0.1", 0) as server:
        thread = threading.Thread(target=server.serve_forever, daemon=True)
        thread.start()
        try:
            yield f"ws://127.0.0.1:{server.socket.getsockname()[1]}/ws"
        finally:
            server.shutdown()
            thread.join(5)


def run_until(collector: LiquidationCollector, done: Callable[[], bool], timeout: float = 15.0) -> None:
    thread = threading.Thread(target=collector.run)
    thread.start()
    deadline = time.monotonic() + timeout
    while not done() and time.monotonic() < deadline:
        time.sleep(0.02)
    collector.stop()
    thread.join(10)
    assert not thread.is_alive(), "collector did not stop"
    assert done(), f"condition not reached; stats {collector.stats}"


def tape_lines(landing: Path, exchange: str, day: date) -> list[str]:
    path = landing / "collector" / exchange / f"{day.isoformat()}.ndjson"
    return path.read_text().splitlines() if path.exists() else []


def sessions(landing: Path, exchange: str) -> list[dict]:
    return [json.loads(line) for line in (landing / "collector" / exchange / SESSIONS_FILE).read_text().splitlines()]


def collector(stream, landing: Path, url: str, **kw) -> LiquidationCollector:
    return LiquidationCollector(
        stream,
        landing,
        ASSETS,
        url=url,
        backoff_initial_s=0.05,
        backoff_max_s=0.2,
        now=lambda: ms("2026-01-20T12:00:00") / 1000,
        **kw,
    )


def hold(conn: ServerConnection) -> None:
    """Keep the connection open (reading whatever comes) until the client goes."""
    with contextlib.suppress(ConnectionClosed):
        for _ in conn:
            pass


def drop(conn: ServerConnection) -> None:
    conn.socket.shutdown(socket.SHUT_RDWR)  # an abrupt drop, no closing handshake


A = force_order("BTCUSDT", "SELL", "2026-01-20T14:00:01")
B = force_order("ETHUSDT", "BUY", "2026-01-20T14:00:02", qty="3", price="3300.1")
C = force_order("SOLUSDT", "SELL", "2026-01-20T14:00:03", qty="40", price="140.2")
D = force_order("BTCUSDT", "SELL", "2026-01-20T14:00:09", qty="1.2")


def test_binance_reconnects_after_a_drop_and_writes_replayed_events_once(tmp_path: Path) -> None:
    def handler(conn: ServerConnection, number: int) -> None:
        if number == 1:
            for frame in (A, B, C):
                conn.send(frame)
            time.sleep(0.1)
            drop(conn)
        else:  # the venue replays recent events to a new connection, then goes on
            for frame in (B, C, D):
                conn.send(frame)
            hold(conn)

    with ws_server(handler) as url:
        c = collector(binance.STREAM, tmp_path, url)
        run_until(c, lambda: len(tape_lines(tmp_path, "binance", DAY)) >= 4 and c.stats.duplicates >= 2)

    assert [json.loads(x) for x in tape_lines(tmp_path, "binance", DAY)] == [json.loads(x) for x in (A, B, C, D)]
    assert c.stats.connects >= 2 and c.stats.duplicates == 2
    events = [s["event"] for s in sessions(tmp_path, "binance")]
    assert events.count("connected") >= 2 and "disconnected" in events and events[-1] == "stopped"

    # The daily asset loads the tape: SELL closes a long, BUY a short.
    batch = replay(ENDPOINTS["binance_liquidations"], [DAY], tmp_path).batch
    rows = batch.table.to_pylist()
    assert batch.rejected == 0
    assert [(r["asset"], r["side"]) for r in rows] == [
        ("BTC", "long"),
        ("ETH", "short"),
        ("SOL", "long"),
        ("BTC", "long"),
    ]
    assert rows[1]["usd_value"] == pytest.approx(3 * 3300.1)


def test_bybit_subscribes_pings_and_splits_a_batch_at_midnight(tmp_path: Path) -> None:
    received: list[dict] = []

    def handler(conn: ServerConnection, number: int) -> None:
        subscribe = json.loads(conn.recv(timeout=5))
        received.append(subscribe)
        conn.send(
            json.dumps(
                {"success": True, "ret_msg": "", "conn_id": "x", "req_id": subscribe["req_id"], "op": "subscribe"}
            )
        )
        batch = [
            {"T": ms("2026-01-20T23:59:59.900"), "s": "BTCUSDT", "S": "Buy", "v": "0.025", "p": "94210.50"},
            {"T": ms("2026-01-21T00:00:00.100"), "s": "ETHUSDT", "S": "Sell", "v": "2", "p": "3301"},
            {"T": ms("2026-01-21T00:00:00.200"), "s": "PEPEUSDT", "S": "Buy", "v": "1000", "p": "0.00001"},
        ]
        conn.send(
            json.dumps(
                {
                    "topic": "allLiquidation.BTCUSDT",
                    "type": "snapshot",
                    "ts": ms("2026-01-21T00:00:00.300"),
                    "data": batch,
                }
            )
        )
        with contextlib.suppress(ConnectionClosed):
            for frame in conn:
                received.append(json.loads(frame))
                if received[-1].get("op") == "ping":
                    conn.send(json.dumps({"success": True, "ret_msg": "pong", "conn_id": "x", "op": "ping"}))

    fast_beat = dataclasses.replace(bybit.STREAM, heartbeat=(0.1, json.dumps({"op": "ping"})))
    with ws_server(handler) as url:
        c = collector(fast_beat, tmp_path, url)
        run_until(c, lambda: sum(r.get("op") == "ping" for r in received) >= 2 and c.stats.written == 2)

    assert received[0]["op"] == "subscribe"
    assert received[0]["args"] == [f"allLiquidation.{a}USDT" for a in ASSETS]
    assert len(tape_lines(tmp_path, "bybit", DAY)) == 1 and len(tape_lines(tmp_path, "bybit", NEXT_DAY)) == 1
    assert c.stats.untracked == 1  # PEPE is not tracked; acks and pongs are not liquidations

    first = replay(ENDPOINTS["bybit_liquidations"], [DAY], tmp_path).batch.table.to_pylist()
    second = replay(ENDPOINTS["bybit_liquidations"], [NEXT_DAY], tmp_path).batch.table.to_pylist()
    # Bybit reports the liquidated position's side: Buy = a long was liquidated.
    assert [(r["asset"], r["side"]) for r in first] == [("BTC", "long")]
    assert [(r["asset"], r["side"]) for r in second] == [("ETH", "short")]


def test_a_restarted_collector_does_not_write_replayed_events_again(tmp_path: Path) -> None:
    def handler(conn: ServerConnection, number: int) -> None:
        for frame in (A, B, C):
            conn.send(frame)
        hold(conn)

    with ws_server(handler) as url:
        first = collector(binance.STREAM, tmp_path, url)
        run_until(first, lambda: first.stats.written == 3)
        second = collector(binance.STREAM, tmp_path, url)
        run_until(second, lambda: second.stats.duplicates == 3)

    assert second.stats.written == 0
    assert len(tape_lines(tmp_path, "binance", DAY)) == 3


def test_unreadable_messages_are_kept_and_rejected_with_a_reason(tmp_path: Path) -> None:
    def handler(conn: ServerConnection, number: int) -> None:
        conn.send(A)
        conn.send('{"e": "forceOrder", "E": 17684')  # torn message
        hold(conn)

    with ws_server(handler) as url:
        c = collector(binance.STREAM, tmp_path, url)
        run_until(c, lambda: c.stats.written == 1 and c.stats.unreadable == 1)

    batch = replay(ENDPOINTS["binance_liquidations"], [DAY], tmp_path).batch
    assert batch.accepted == 1 and batch.rejected == 1
    assert "not JSON" in batch.rejects.column("reason")[0].as_py()


def test_a_silent_connection_is_dropped_and_reopened(tmp_path: Path) -> None:
    def handler(conn: ServerConnection, number: int) -> None:
        if number >= 2:
            conn.send(A)
        hold(conn)  # connected but silent, like a retired route

    quiet = dataclasses.replace(binance.STREAM, silence_timeout_s=0.3)
    with ws_server(handler) as url:
        c = collector(quiet, tmp_path, url)
        run_until(c, lambda: c.stats.written == 1)

    reasons = [s.get("reason", "") for s in sessions(tmp_path, "binance") if s["event"] == "disconnected"]
    assert any("silent" in r for r in reasons)


def test_a_refused_connection_is_retried_with_backoff_and_stop_is_prompt(tmp_path: Path) -> None:
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        port = probe.getsockname()[1]  # nothing listens here once the probe is closed
    c = collector(binance.STREAM, tmp_path, f"ws://127.0.0.1:{port}/ws")
    run_until(c, lambda: sum(s["event"] == "reconnect_wait" for s in sessions_or_empty(tmp_path)) >= 3)
    waits = [s["wait_s"] for s in sessions(tmp_path, "binance") if s["event"] == "reconnect_wait"]
    assert waits[:3] == [0.05, 0.1, 0.2]
    assert all("cannot connect" in s["reason"] for s in sessions(tmp_path, "binance") if s["event"] == "disconnected")


def sessions_or_empty(landing: Path) -> list[dict]:
    path = landing / "collector" / "binance" / SESSIONS_FILE
    return sessions(landing, "binance") if path.exists() else []


def test_a_message_nested_too_deep_to_parse_is_kept_as_unreadable_and_collecting_goes_on(tmp_path: Path) -> None:
    deep = "[" * 100_000 + "]" * 100_000  # json gives up with RecursionError long before the end

    def handler(conn: ServerConnection, number: int) -> None:
        for frame in (A, deep, B):
            conn.send(frame)
        hold(conn)

    with ws_server(handler) as url:
        c = collector(binance.STREAM, tmp_path, url)
        run_until(c, lambda: c.stats.messages >= 3)

    assert c.stats.unreadable == 1 and c.stats.written == 2
    events = replay(ENDPOINTS["binance_liquidations"], [DAY], tmp_path).batch
    assert events.table.num_rows == 2
