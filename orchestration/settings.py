"""The configuration contract (see README): everything comes from the environment."""

from __future__ import annotations

import os
from datetime import UTC, date, datetime
from pathlib import Path

DEFAULT_ASSETS = ("BTC", "ETH", "SOL", "XRP", "DOGE")
PARTITIONS_START = "2021-12-01"  # the first day of Binance's metrics archive, the deepest source
DEMO_WINDOW = (date(2025, 9, 1), date(2026, 1, 31))  # inclusive; the simulator's story lives here


def home() -> Path:
    return Path(os.environ.get("LEVSTRESS_HOME", "warehouse")).resolve()


WAREHOUSES = ("duckdb", "spark")


def warehouse() -> str:
    """The engine behind the warehouse; also the dbt target (dbt_project/profiles.yml)."""
    engine = os.environ.get("LEVSTRESS_WAREHOUSE", "duckdb").lower()
    if engine not in WAREHOUSES:
        raise ValueError(f"LEVSTRESS_WAREHOUSE must be one of {', '.join(WAREHOUSES)}, got {engine!r}")
    return engine


def lake_path(home_dir: Path) -> Path:
    """Root of the Spark lake: raw Parquet under raw/, Spark's tables under warehouse/ (the dbt
    profile computes the same default). The pipeline writes it with file operations, so it is a
    local or mounted path; ``file://`` is accepted."""
    uri = os.environ.get("LEVSTRESS_LAKE_URI") or str(home_dir / "lake")
    scheme, sep, rest = uri.partition("://")
    if not sep:
        return Path(uri).resolve()
    if scheme != "file":
        raise ValueError(
            f"LEVSTRESS_LAKE_URI={uri}: the pipeline writes the lake with file operations; use a path "
            f"(a mounted bucket works, e.g. /mnt/lake), not a {scheme}:// URI (README, Scaling out)"
        )
    return Path(rest)


def source_mode() -> str:
    mode = os.environ.get("LEVSTRESS_SOURCE_MODE", "demo").lower()
    if mode not in ("demo", "live", "replay"):
        raise ValueError(f"LEVSTRESS_SOURCE_MODE must be demo, live or replay, got {mode!r}")
    return mode


def api_today(mode: str) -> date | None:
    """The date live APIs count their look-back from; None where every day can be served (the
    simulator, the landing archive)."""
    return datetime.now(UTC).date() if mode == "live" else None


def tracked_assets() -> tuple[str, ...]:
    raw = os.environ.get("LEVSTRESS_ASSETS")
    return tuple(a.strip().upper() for a in raw.split(",") if a.strip()) if raw else DEFAULT_ASSETS


def run_lock_wait_s() -> float:
    """How long a run waits for another run on the same home before giving up (0: refuse at once)."""
    return float(os.environ.get("LEVSTRESS_RUN_LOCK_WAIT_S", "3600"))
