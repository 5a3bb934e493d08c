"""Which alerts were already handled: an append-only JSON-lines file, fsynced per line, so a
re-run of the same days (or a crash right after a POST) does not send an alert twice."""

from __future__ import annotations

import json
import os
from dataclasses import dataclass
from datetime import UTC, datetime
from pathlib import Path


@dataclass(frozen=True)
class AlertLedger:
    path: Path

    def delivered(self) -> set[str]:
        """alert_ids already delivered (or recorded while no webhook was configured)."""
        if not self.path.exists():
            return set()
        ids: set[str] = set()
        with self.path.open("rb") as handle:
            for line in handle:
                try:
                    entry = json.loads(line)
                except ValueError:
                    continue  # a torn last line after a crash: that alert is simply sent again
                if entry.get("status") in ("delivered", "recorded"):
                    ids.add(entry["alert_id"])
        return ids

    def record(self, alert_id: str, status: str, detail: str = "") -> None:
        self.path.parent.mkdir(parents=True, exist_ok=True)
        entry = {"alert_id": alert_id, "status": status, "at": datetime.now(UTC).isoformat(), "detail": detail}
        with self.path.open("a", encoding="utf-8") as handle:
            handle.write(json.dumps(entry) + "\n")
            handle.flush()
            os.fsync(handle.fileno())
