"""The benchmark harness writes the JSON other tools read. Only the ingest-rate part runs here, on
a few thousand events; its figures are checked for presence and sign, never against a target."""

from __future__ import annotations

import json
from pathlib import Path

from bench.cli import REQUIRED_KEYS, main

INGEST_KEYS = ("ingest_rows_per_s", "duckdb_read_json_rows_per_s", "ingest_ratio")


def test_ingest_rate_writes_latest_json(tmp_path: Path) -> None:
    home, copy = tmp_path / "bench-home", tmp_path / "out" / "bench.json"
    argv = ["--only", "ingest", "--events", "3000", "--ingest-days", "2", "--runs", "1"]
    assert main([*argv, "--home", str(home), "--out", str(copy)]) == 0

    latest = home / "bench" / "latest.json"
    data = json.loads(latest.read_text())
    assert set(REQUIRED_KEYS) <= data.keys()
    for key in INGEST_KEYS:
        assert isinstance(data[key], float) and data[key] > 0, (key, data[key])
    assert data["runs"] == 1
    assert data["ingest_events"] == 3000 and data["ingest_rejected"] == 0
    assert data["errors"] == []
    assert json.loads(copy.read_text()) == data
    assert not (home / "scratch").exists()  # tapes and scratch warehouses are removed
