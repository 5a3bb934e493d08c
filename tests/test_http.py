"""The shared HTTP client against a real loopback server: retries, Retry-After, timeouts,
and errors that name source, endpoint and parameters but never the key."""

from __future__ import annotations

import contextlib
import threading
import time
from collections.abc import Iterator
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer

import pytest

from ingestion.http import HttpSettings, SourceClient, SourceError

FAST = HttpSettings(connect_timeout_s=1, read_timeout_s=0.5, retries=3, backoff_factor_s=0.01, backoff_max_s=0.05)


class Script:
    """Per-path queue of (status, headers, body, delay) answers; the last one repeats."""

    def __init__(self) -> None:
        self.answers: dict[str, list[tuple[int, dict[str, str], bytes, float]]] = {}
        self.hits: dict[str, int] = {}
        self.seen_headers: list[dict[str, str]] = []


@pytest.fixture
def server() -> Iterator[tuple[str, Script]]:
    script = Script()

    class Handler(BaseHTTPRequestHandler):
        def do_GET(self) -> None:  # noqa: N802
            path = self.path.split("?")[0]
            script.seen_headers.append(dict(self.headers))
            queue = script.answers[path]
            script.hits[path] = script.hits.get(path, 0) + 1
            status, headers, body, delay = queue.pop(0) if len(queue) > 1 else queue[0]
            time.sleep(delay)
            self.send_response(status)
            for key, value in headers.items():
                self.send_header(key, value)
            self.send_header("Content-Length", str(len(body)))
            self.end_headers()
            with contextlib.suppress(BrokenPipeError):  # the client gave up first (read-timeout test)
                self.wfile.write(body)

        def log_message(self, *args: object) -> None:
            pass

    httpd = ThreadingHTTPServer(("127.0.0.1", 0), Handler)
    thread = threading.Thread(target=httpd.serve_forever, daemon=True)
    thread.start()
    yield f"http://127.0.0.1:{httpd.server_address[1]}", script
    httpd.shutdown()


def test_429_with_retry_after_is_honoured_then_succeeds(server):
    url, script = server
    script.answers["/x"] = [(429, {"Retry-After": "1"}, b'{"code": -1003}', 0), (200, {}, b"[]", 0)]
    started = time.monotonic()
    page = SourceClient("binance", url, settings=FAST).get("/x", {"symbol": "BTCUSDT"})
    assert page.status == 200 and page.json() == []
    assert script.hits["/x"] == 2
    assert time.monotonic() - started >= 0.9  # waited for Retry-After, not the tiny backoff


def test_500_then_success(server):
    url, script = server
    script.answers["/y"] = [(500, {}, b"<html>oops</html>", 0), (503, {}, b"", 0), (200, {}, b'{"ok": 1}', 0)]
    assert SourceClient("okx", url, settings=FAST).get("/y", {}).json() == {"ok": 1}
    assert script.hits["/y"] == 3


def test_persistent_5xx_raises_a_named_error_without_the_key(server):
    url, script = server
    script.answers["/z"] = [(502, {}, b"<html>bad gateway</html>", 0)]
    client = SourceClient("coinalyze", url, settings=FAST, secret_headers={"api_key": "CANARY-SECRET-123"})
    with pytest.raises(SourceError) as error:
        client.get("/z", {"symbols": "BTC.H"})
    message = str(error.value)
    assert "coinalyze GET /z" in message and "BTC.H" in message and "502" in message
    assert "CANARY-SECRET-123" not in message
    assert script.seen_headers[0]["api_key"] == "CANARY-SECRET-123"
    assert script.hits["/z"] == 4  # first try + 3 retries


def test_read_timeout_is_retried_then_reported(server):
    url, script = server
    script.answers["/slow"] = [(200, {}, b"[]", 2.0)]
    with pytest.raises(SourceError, match=r"request failed after \d+ retries: (ConnectionError|ReadTimeout)"):
        SourceClient("deribit", url, settings=FAST).get("/slow", {"currency": "BTC"})
    assert script.hits["/slow"] == 4


def test_rate_limiter_spaces_requests(server):
    url, script = server
    script.answers["/r"] = [(200, {}, b"[]", 0)]
    client = SourceClient("hyperliquid", url, settings=FAST, min_interval_s=0.2)
    started = time.monotonic()
    for _ in range(4):
        client.get("/r", {})
    assert time.monotonic() - started >= 0.6
