"""The simulator's HTTP server: every venue under its own prefix on one loopback port."""

from __future__ import annotations

import logging
import threading
from collections.abc import Iterable
from datetime import UTC, datetime
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from types import TracebackType
from urllib.parse import parse_qs, urlsplit

from ingestion.simulator.events import EventStore
from ingestion.simulator.faults import Fault, FaultBook
from ingestion.simulator.market_cache import load_market
from ingestion.simulator.scenarios import RefusedPort, Scenario
from ingestion.simulator.timegrid import to_ms
from ingestion.simulator.venues.base import SimContext, VenueApp
from ingestion.simulator.venues.binance import Binance
from ingestion.simulator.venues.binance_archive import BinanceArchive
from ingestion.simulator.venues.bybit import Bybit
from ingestion.simulator.venues.coinalyze import Coinalyze
from ingestion.simulator.venues.coingecko import CoinGecko
from ingestion.simulator.venues.coinglass import CoinGlass
from ingestion.simulator.venues.deribit import Deribit
from ingestion.simulator.venues.gate import Gate
from ingestion.simulator.venues.hyperliquid import Hyperliquid
from ingestion.simulator.venues.okx import Okx
from ingestion.simulator.venues.tape import Tape
from ingestion.simulator.wire import Request, Response, text_response

log = logging.getLogger(__name__)

# source -> (path prefix that replaces the real base URL, app)
VENUES: dict[str, tuple[str, type[VenueApp]]] = {
    "binance": ("/binance", Binance),
    "binance_archive": ("/binance-archive", BinanceArchive),
    "bybit": ("/bybit", Bybit),
    "okx": ("/okx", Okx),
    "hyperliquid": ("/hyperliquid", Hyperliquid),
    "coingecko": ("/coingecko/api/v3", CoinGecko),
    "deribit": ("/deribit/api/v2", Deribit),
    "coinalyze": ("/coinalyze/v1", Coinalyze),
    "coinglass": ("/coinglass", CoinGlass),
    "gate": ("/gate/api/v4", Gate),
    "_tape": ("/_tape", Tape),
}
BAD_GATEWAY_HTML = (
    "<html>\r\n<head><title>502 Bad Gateway</title></head>\r\n<body>\r\n<center><h1>502 Bad Gateway</h1></center>\r\n"
    "<hr><center>cloudflare</center>\r\n</body>\r\n</html>\r\n"
)


class Simulator:
    """A seeded, deterministic crypto-derivatives market served over HTTP on 127.0.0.1.

    ``now`` is the simulator's clock (default: the real UTC time at construction); nothing after
    it exists yet. ``faults`` defaults to ``Fault.from_env()``, ``scenario`` to ``Scenario.from_env()``.
    """

    def __init__(
        self,
        seed: int = 7,
        faults: Iterable[Fault] | None = None,
        now: datetime | None = None,
        scenario: Scenario | None = None,
    ) -> None:
        self.seed = seed
        self.scenario = Scenario.from_env() if scenario is None else scenario
        self._refused = RefusedPort() if self.scenario.down else None
        self.faults = list(Fault.from_env() if faults is None else faults)
        clock = now or datetime.now(UTC)
        market = load_market(seed)
        self.context = SimContext(
            seed,
            market,
            EventStore(market, seed),
            FaultBook(self.faults),
            to_ms(clock if clock.tzinfo else clock.replace(tzinfo=UTC)),
        )
        self.apps = {prefix: app(self.context) for prefix, app in VENUES.values()}
        self.by_source = {source: self.apps[prefix] for source, (prefix, _) in VENUES.items()}
        self._server: ThreadingHTTPServer | None = None
        self._thread: threading.Thread | None = None

    # --- lifecycle ----------------------------------------------------------------------
    def start(self) -> Simulator:
        if self._server is not None:
            return self
        server = ThreadingHTTPServer(("127.0.0.1", 0), _Handler)
        server.daemon_threads = True
        server.simulator = self  # type: ignore[attr-defined]
        self._server = server
        self._thread = threading.Thread(
            target=server.serve_forever, kwargs={"poll_interval": 0.05}, name="levstress-simulator", daemon=True
        )
        self._thread.start()
        return self

    def stop(self) -> None:
        if self._server is None:
            return
        self._server.shutdown()
        self._server.server_close()
        if self._refused is not None:
            self._refused.close()
        if self._thread is not None:
            self._thread.join(timeout=5)
        self._server, self._thread = None, None

    def __enter__(self) -> Simulator:
        return self.start()

    def __exit__(self, kind: type[BaseException] | None, error: BaseException | None, tb: TracebackType | None) -> None:
        self.stop()

    @property
    def root_url(self) -> str:
        if self._server is None:
            raise RuntimeError("the simulator is not running: call start() first")
        host, port = self._server.server_address[:2]
        return f"http://{host}:{port}"

    def base_url(self, source: str) -> str:
        if source not in VENUES or source.startswith("_"):
            raise KeyError(f"unknown source {source!r}; expected one of {sorted(s for s in VENUES if s[0] != '_')}")
        if self._refused is not None and source in self.scenario.down:
            return self._refused.url + VENUES[source][0]
        return self.root_url + VENUES[source][0]

    # --- requests -----------------------------------------------------------------------
    def respond(self, request: Request) -> Response:
        """Route a request (path including the venue prefix) and apply the HTTP faults."""
        for prefix, app in self.apps.items():
            if request.path == prefix or request.path.startswith(prefix + "/"):
                if self.scenario.no_tapes and isinstance(app, Tape):
                    return text_response("fresh-live-user: no collector has ever run here", 404)
                inner = Request(
                    request.method, request.path[len(prefix) :] or "/", request.query, request.headers, request.body
                )
                return self._answer(app, inner)
        return text_response("unknown venue prefix", 404)

    def _answer(self, app: VenueApp, req: Request) -> Response:
        source = app.fault_source(req)
        fault = self.context.faults.take_http(source, app.fault_day(req))
        voice = self.by_source.get(source, app)  # a tape fault speaks with its exchange's error bodies
        if fault == "http_429":
            response = voice.rate_limited()
            response.headers["Retry-After"] = "1"
            return response
        if fault == "http_500":
            return voice.server_error()
        if fault == "html_error":
            return text_response(BAD_GATEWAY_HTML, 502, "text/html")
        try:
            response = app.handle(req)
        except Exception:  # a simulator bug must look like a server error, not a hung socket
            log.exception("simulator failed on %s %s", req.method, req.path)
            return app.server_error()
        if fault == "truncated_json":
            return Response(
                response.status, response.body[: len(response.body) // 2], response.content_type, dict(response.headers)
            )
        return response


class _Handler(BaseHTTPRequestHandler):
    protocol_version = "HTTP/1.1"  # keep-alive: clients reuse one connection per session
    server_version = "levstress-sim/1.0"
    # Headers and body leave in one segment, unbuffered by Nagle: otherwise every keep-alive
    # request waits ~40 ms for the client's delayed ACK.
    wbufsize = 1 << 16
    disable_nagle_algorithm = True

    def do_GET(self) -> None:  # noqa: N802 - the http.server naming convention
        self._serve("GET")

    def do_POST(self) -> None:  # noqa: N802
        self._serve("POST")

    def _serve(self, method: str) -> None:
        url = urlsplit(self.path)
        query = {k: v[0] for k, v in parse_qs(url.query, keep_blank_values=True).items()}
        length = int(self.headers.get("Content-Length") or 0)
        body = self.rfile.read(length) if length else b""
        request = Request(method, url.path, query, dict(self.headers.items()), body)
        response = self.server.simulator.respond(request)  # type: ignore[attr-defined]
        self.send_response(response.status)
        self.send_header("Content-Type", response.content_type)
        self.send_header("Content-Length", str(len(response.body)))
        for name, value in response.headers.items():
            self.send_header(name, value)
        self.end_headers()
        self.wfile.write(response.body)

    def log_message(self, format: str, *args: object) -> None:  # noqa: A002 - signature of the base class
        log.debug("%s %s", self.address_string(), format % args)
