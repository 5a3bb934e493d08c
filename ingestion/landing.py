"""The landing zone: raw payloads archived under ``$LEVSTRESS_HOME/landing`` before parsing.

Files are written to a temporary name, fsynced and renamed, so a crash never leaves a
half-written payload behind.
"""

from __future__ import annotations

import base64
import json
import os
from collections.abc import Iterable, Iterator
from pathlib import Path

from ingestion.http import Page


def write_atomic(path: Path, data: bytes) -> Path:
    path.parent.mkdir(parents=True, exist_ok=True)
    tmp = path.with_name(f".{path.name}.{os.getpid()}.tmp")
    try:
        with open(tmp, "wb") as handle:
            handle.write(data)
            handle.flush()
            os.fsync(handle.fileno())
        os.replace(tmp, path)
    except OSError as exc:
        tmp.unlink(missing_ok=True)  # a full disk must not also keep the torn copy
        raise OSError(exc.errno, f"{exc.strerror}: could not archive {path}") from exc
    return path


def _encode(page: Page) -> dict:
    try:
        body: str = page.body.decode("utf-8")
        encoding = "utf-8"
    except UnicodeDecodeError:
        body, encoding = base64.b64encode(page.body).decode("ascii"), "base64"
    return {
        "source": page.source,
        "endpoint": page.endpoint,
        "params": page.params,
        "status": page.status,
        "context": page.context,
        "encoding": encoding,
        "body": body,
    }


def archive_pages(path: Path, pages: Iterable[Page]) -> Path:
    """One NDJSON file per (endpoint, day): one line per HTTP response, body kept verbatim."""
    lines = (json.dumps(_encode(p), default=str, separators=(",", ":")) for p in pages)
    return write_atomic(path, ("\n".join(lines) + "\n").encode("utf-8"))


def read_archive(path: Path) -> Iterator[Page]:
    """Replays an archive written by :func:`archive_pages` (offline rebuild of a partition)."""
    with open(path, encoding="utf-8") as handle:
        for line in handle:
            if not line.strip():
                continue
            item = json.loads(line)
            raw = item["body"]
            body = base64.b64decode(raw) if item["encoding"] == "base64" else raw.encode("utf-8")
            yield Page(item["source"], item["endpoint"], item["params"], item["status"], body, item["context"])
