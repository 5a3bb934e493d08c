"""HTTP plumbing shared by every source: one session per source with timeouts, retries with
exponential backoff (urllib3 ``Retry``, honouring ``Retry-After``) and a client-side rate limit.

Every response becomes a :class:`Page` that keeps the raw bytes, so the payload can be archived
before it is parsed and a partition can be rebuilt offline.
"""

from __future__ import annotations

import json
import os
import reprlib
import threading
import time
from dataclasses import dataclass, field
from typing import Any
from urllib.parse import urlencode

import orjson
import requests
from requests.adapters import HTTPAdapter
from urllib3.util.retry import Retry

RETRY_STATUSES = (429, 500, 502, 503, 504)


class SourceError(RuntimeError):
    """A source could not deliver a usable response. Names source, endpoint and parameters
    (never credentials, which travel only in headers)."""

    def __init__(self, source: str, endpoint: str, params: dict[str, Any], problem: str) -> None:
        self.source, self.endpoint, self.params, self.problem = source, endpoint, params, problem
        super().__init__(f"{source} {endpoint} {json.dumps(params, default=str, sort_keys=True)}: {problem}")


class SourceUnavailable(SourceError):
    """The source could not be had at all (unreachable, 429/5xx after every retry, no collector
    file): the run goes on without it and names the gap, unlike a payload that arrived broken."""

    def __init__(self, source: str, endpoint: str, params: dict[str, Any], problem: str, attempts: int = 1) -> None:
        super().__init__(source, endpoint, params, problem)
        self.attempts = attempts


@dataclass(frozen=True)
class Page:
    """One HTTP response (or one collector tape file), exactly as received."""

    source: str
    endpoint: str
    params: dict[str, Any]
    status: int
    body: bytes
    context: dict[str, Any] = field(default_factory=dict)

    def json(self) -> Any:
        try:
            return orjson.loads(self.body)  # several times faster than json, same values
        except (ValueError, UnicodeDecodeError) as exc:
            snippet = self.body[:80].decode("utf-8", "replace")
            raise self.error(f"malformed JSON ({exc.__class__.__name__}: {exc}); body starts {snippet!r}") from exc

    def error(self, problem: str) -> SourceError:
        return SourceError(self.source, self.endpoint, self.params, problem)


class _RateLimiter:
    """Spaces requests at least ``interval_s`` apart (per source, across threads)."""

    def __init__(self, interval_s: float) -> None:
        self.interval_s = interval_s
        self._lock = threading.Lock()
        self._next = 0.0

    def wait(self) -> None:
        if self.interval_s <= 0:
            return
        with self._lock:
            now = time.monotonic()
            delay = self._next - now
            self._next = max(now, self._next) + self.interval_s
        if delay > 0:
            time.sleep(delay)


@dataclass
class HttpSettings:
    connect_timeout_s: float = 5.0
    read_timeout_s: float = 30.0
    retries: int = 5
    backoff_factor_s: float = 0.5
    backoff_max_s: float = 60.0

    @classmethod
    def from_env(cls) -> HttpSettings:
        """Defaults, or ``LEVSTRESS_HTTP_{RETRIES,BACKOFF_S,CONNECT_TIMEOUT_S,READ_TIMEOUT_S}``: a
        slow link wants longer timeouts, a test of an unreachable venue a short backoff."""
        base = cls()
        env = os.environ.get
        return cls(
            connect_timeout_s=float(env("LEVSTRESS_HTTP_CONNECT_TIMEOUT_S", base.connect_timeout_s)),
            read_timeout_s=float(env("LEVSTRESS_HTTP_READ_TIMEOUT_S", base.read_timeout_s)),
            retries=int(env("LEVSTRESS_HTTP_RETRIES", base.retries)),
            backoff_factor_s=float(env("LEVSTRESS_HTTP_BACKOFF_S", base.backoff_factor_s)),
            backoff_max_s=base.backoff_max_s,
        )


def retrying_session(settings: HttpSettings) -> requests.Session:
    """A session that retries connection errors, timeouts, 429 and 5xx (every method) with
    exponential backoff, honouring ``Retry-After``; the last response is returned, not raised."""
    session = requests.Session()
    session.headers.update({"User-Agent": "levstress/0.1"})
    retry = Retry(
        total=settings.retries,
        connect=settings.retries,
        read=settings.retries,
        status=settings.retries,
        status_forcelist=RETRY_STATUSES,
        allowed_methods=None,
        backoff_factor=settings.backoff_factor_s,
        backoff_max=settings.backoff_max_s,
        respect_retry_after_header=True,
        raise_on_status=False,
    )
    adapter = HTTPAdapter(max_retries=retry, pool_maxsize=8)
    session.mount("http://", adapter)
    session.mount("https://", adapter)
    return session


class SharedFiles:
    """Bodies of immutable files (a static archive's: a published file never changes) that two
    endpoints of one run read, such as the daily file both of a venue's datasets come from. The
    first read fetches and keeps the body, the next takes it and drops it; only 2xx bodies are
    kept, so a file that is missing or failing is asked for again."""

    def __init__(self) -> None:
        self._bodies: dict[str, bytes] = {}
        self._lock = threading.Lock()

    def take(self, url: str) -> bytes | None:
        with self._lock:
            return self._bodies.pop(url, None)

    def keep(self, url: str, body: bytes) -> None:
        with self._lock:
            self._bodies[url] = body

    def clear(self) -> None:
        with self._lock:
            self._bodies.clear()


class SourceClient:
    """requests session for one source. ``secret_headers`` (API keys) are sent but never logged,
    archived or put into error messages. ``shared_files``: where ``get(..., immutable=True)``
    keeps and finds bodies another endpoint of the run also reads."""

    def __init__(
        self,
        source: str,
        base_url: str,
        *,
        min_interval_s: float = 0.0,
        secret_headers: dict[str, str] | None = None,
        settings: HttpSettings | None = None,
        shared_files: SharedFiles | None = None,
    ) -> None:
        self.source = source
        self.shared_files = shared_files
        self.base_url = base_url.rstrip("/")
        self.settings = settings or HttpSettings.from_env()
        self._limiter = _RateLimiter(min_interval_s)
        # Hyperliquid reads are POSTs; they are idempotent queries, so every method is retried
        self.session = retrying_session(self.settings)
        self.session.headers.update({"Accept": "application/json"})
        self.session.headers.update(secret_headers or {})
        self._secrets = [v.encode() for v in (secret_headers or {}).values() if v]

    def get(
        self, path: str, params: dict[str, Any], context: dict[str, Any] | None = None, *, immutable: bool = False
    ) -> Page:
        if not immutable or self.shared_files is None:
            return self._request("GET", path, params, None, context)
        url = f"{self.base_url}{path}?{urlencode(sorted(params.items()))}"
        if (body := self.shared_files.take(url)) is not None:
            return Page(self.source, f"GET {path}", params, 200, body, dict(context or {}))
        page = self._request("GET", path, params, None, context)
        if 200 <= page.status < 300:
            self.shared_files.keep(url, page.body)
        return page

    def post(self, path: str, body: dict[str, Any], context: dict[str, Any] | None = None) -> Page:
        return self._request("POST", path, body, body, context)

    def _request(
        self,
        method: str,
        path: str,
        params: dict[str, Any],
        json_body: dict[str, Any] | None,
        context: dict[str, Any] | None,
    ) -> Page:
        endpoint = f"{method} {path}"
        self._limiter.wait()
        try:
            response = self.session.request(
                method,
                self.base_url + path,
                params=None if json_body is not None else params,
                json=json_body,
                timeout=(self.settings.connect_timeout_s, self.settings.read_timeout_s),
            )
        except requests.RequestException as exc:
            raise SourceUnavailable(
                self.source,
                endpoint,
                params,
                f"request failed after {self.settings.retries} retries: {exc.__class__.__name__}",
                self.settings.retries + 1,
            ) from exc
        body = self._redacted(response.content)
        page = Page(self.source, endpoint, params, response.status_code, body, dict(context or {}))
        if response.status_code in RETRY_STATUSES:
            raise SourceUnavailable(
                self.source,
                endpoint,
                params,
                f"HTTP {response.status_code} after {self.settings.retries} retries: {_snippet(page)}",
                self.settings.retries + 1,
            )
        return page

    def _redacted(self, body: bytes) -> bytes:
        """Some APIs quote the key back (an error naming the invalid key): it is blanked before the
        body is archived, parsed or quoted in an error."""
        for secret in self._secrets:
            body = body.replace(secret, b"[redacted]")
        return body

    def close(self) -> None:
        self.session.close()


def shown(value: Any, limit: int = 200) -> str:
    """A value from a payload as an error message may quote it: strings as they are, anything else
    as a short repr, cut to ``limit``. Never fails: ``str`` of a list nested ~1000 deep (which
    orjson accepts) raises RecursionError."""
    text = value if isinstance(value, str) else reprlib.repr(value)
    return text if len(text) <= limit else f"{text[:limit]}..."


def _snippet(page: Page) -> str:
    return page.body[:200].decode("utf-8", "replace").strip()


def http_error(page: Page) -> SourceError:
    return page.error(f"HTTP {page.status}: {_snippet(page)}")
