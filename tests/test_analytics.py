"""Analytics on real builds: no look-ahead in any mart, and alerts that reach a webhook exactly
once (a real HTTP receiver on loopback)."""

from __future__ import annotations

import json
import os
import subprocess
import sys
import threading
from collections.abc import Iterator
from datetime import date
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from pathlib import Path

import duckdb
import pytest

from alerting import Alert, AlertLedger, deliver
from ingestion.http import HttpSettings
from orchestration.alerts import ALERTS_KEY
from orchestration.dbt_assets import DBT_PROJECT_DIR
from storage.publishing import TIME_COLUMNS
from tests.pipeline_helpers import MARTS, assert_marts_equal, copy_home, run_range, snapshot_counts

pytestmark = pytest.mark.slow

CUT = date(2026, 1, 15)  # rows before this day must not move when later days change
CHANGED_DAYS = ("2026-01-15", "2026-01-17")  # every number of these raw days is scaled
DELETED_FROM = "2026-01-18"  # these raw days are deleted


class Receiver:
    """A webhook endpoint: answers the first ``failures`` POSTs with 503, then 200."""

    def __init__(self, failures: int) -> None:
        self.failures = failures
        self.accepted: list[dict] = []
        self.refused = 0
        receiver = self

        class Handler(BaseHTTPRequestHandler):
            def do_POST(self) -> None:  # noqa: N802
                body = json.loads(self.rfile.read(int(self.headers["Content-Length"])))
                if receiver.refused < receiver.failures:
                    receiver.refused += 1
                    self.send_response(503)
                else:
                    receiver.accepted.append(body)
                    self.send_response(200)
                self.send_header("Content-Length", "2")
                self.end_headers()
                self.wfile.write(b"ok")

            def log_message(self, *args: object) -> None:
                pass

        self.httpd = ThreadingHTTPServer(("127.0.0.1", 0), Handler)
        self.url = f"http://127.0.0.1:{self.httpd.server_address[1]}/services/T0/B0/canary-secret"
        threading.Thread(target=self.httpd.serve_forever, daemon=True).start()


@pytest.fixture
def receiver() -> Iterator[Receiver]:
    r = Receiver(failures=2)
    yield r
    r.httpd.shutdown()


def _time_column(con: duckdb.DuckDBPyConnection, mart: str) -> str:
    columns = {r[0] for r in con.execute(f"DESCRIBE marts.{mart}").fetchall()}
    return next(c for c in TIME_COLUMNS if c in columns)


def _rows_before(database: Path, cut: date) -> dict[str, list[tuple]]:
    with duckdb.connect(str(database), read_only=True) as con:
        return {
            m: con.execute(f"SELECT * FROM marts.{m} WHERE {_time_column(con, m)} < ? ORDER BY ALL", [cut]).fetchall()
            for m in MARTS
        }


def _change_and_delete_later_days(database: Path) -> None:
    with duckdb.connect(str(database)) as con:
        tables = con.execute("SELECT table_name FROM duckdb_tables() WHERE schema_name = 'raw'").fetchall()
        for (table,) in tables:
            con.execute(f"DELETE FROM raw.{table} WHERE partition_date >= ?", [DELETED_FROM])
            doubles = [
                r[0]
                for r in con.execute(
                    "SELECT column_name FROM duckdb_columns() WHERE schema_name = 'raw' AND table_name = ? "
                    "AND data_type = 'DOUBLE'",
                    [table],
                ).fetchall()
            ]
            if doubles:
                assignments = ", ".join(f'"{c}" = "{c}" * 1.5' for c in doubles)
                con.execute(
                    f"UPDATE raw.{table} SET {assignments} WHERE partition_date BETWEEN ? AND ?", list(CHANGED_DAYS)
                )


def _dbt_full_rebuild(home: Path) -> None:
    dbt = Path(sys.executable).parent / "dbt"
    result = subprocess.run(
        [str(dbt), "run", "--full-refresh", "--profiles-dir", ".", "--target-path", str(home / "dbt-rebuild")],
        cwd=DBT_PROJECT_DIR,
        capture_output=True,
        text=True,
        env={**os.environ, "LEVSTRESS_HOME": str(home)},
    )
    assert result.returncode == 0, result.stdout[-3000:]


def test_no_look_ahead_changing_or_deleting_later_days_leaves_earlier_rows_unchanged(demo_history, tmp_path):
    home = copy_home(demo_history, tmp_path / "home")
    warehouse = home / "levstress.duckdb"
    before = _rows_before(warehouse, CUT)
    with duckdb.connect(str(warehouse), read_only=True) as con:
        stress_on_cut = con.execute(
            "SELECT asset, stress_composite FROM marts.fct_leverage_stress_daily WHERE date = ? ORDER BY 1", [CUT]
        ).fetchall()
    # the window that matters has real statistics in it, not NULLs
    assert sum(1 for row in before["fct_leverage_stress_daily"] if row[-1] is not None) > 0  # stress_composite
    assert len(before["fct_alerts"]) > 0 and len(before["fct_liquidation_clusters"]) > 0

    _change_and_delete_later_days(warehouse)
    _dbt_full_rebuild(home)

    assert_marts_equal(_rows_before(warehouse, CUT), before)
    with duckdb.connect(str(warehouse), read_only=True) as con:
        # the later days really did change and disappear
        assert (
            con.execute(
                "SELECT asset, stress_composite FROM marts.fct_leverage_stress_daily WHERE date = ? ORDER BY 1", [CUT]
            ).fetchall()
            != stress_on_cut
        )
        assert con.execute(
            "SELECT count(*) FROM marts.fct_liquidations_hourly WHERE hour_start >= ?", [DELETED_FROM]
        ).fetchone() == (0,)


def test_an_alert_reaches_the_webhook_exactly_once_despite_retries_and_reruns(
    demo_history, tmp_path, monkeypatch, receiver
):
    home = copy_home(demo_history, tmp_path / "home")
    # The history was built without a webhook; its alerts were recorded as shown. Start afresh.
    (home / "alerts" / "ledger.ndjson").unlink()
    monkeypatch.setenv("LEVSTRESS_HOME", str(home))
    monkeypatch.setenv("LEVSTRESS_SOURCE_MODE", "demo")
    monkeypatch.setenv("LEVSTRESS_ALERT_WEBHOOK_URL", receiver.url)

    result = run_range("2026-01-20", "2026-01-20")  # the spike day: stress and spike alerts
    assert result.success
    with duckdb.connect(str(home / "serving.duckdb"), read_only=True) as con:
        expected = dict(
            con.execute("SELECT alert_id, message FROM marts.fct_alerts WHERE date = '2026-01-20'").fetchall()
        )
    assert {"stress_level", "hourly_spike"} <= {body["levstress_alert"]["alert_type"] for body in receiver.accepted}, (
        "the January story raises stress and spike alerts"
    )
    received = [body["levstress_alert"]["alert_id"] for body in receiver.accepted]
    assert sorted(received) == sorted(expected)  # each alert once
    assert receiver.refused == 2  # two 503s were retried, not lost
    assert all(body["text"].startswith("levstress 2026-01-20") for body in receiver.accepted)

    check = next(e for e in result.get_asset_check_evaluations() if e.check_name == "no_alerts")
    assert not check.passed and check.severity.value == "WARN"
    assert check.metadata["alerts"].value == len(expected)
    assert "canary-secret" not in json.dumps([str(e) for e in result.all_events])

    report = next(e for e in result.get_asset_materialization_events() if e.asset_key.path[-1] == "stress_report")
    assert (home / "reports" / "2026-01-20.html").is_file()
    assert "2026-01-20" in report.materialization.metadata["summary"].value
    # Each mart's (table's) materialization in Dagster carries its row count.
    materialized = {
        e.asset_key.path[-1]: e.materialization.metadata["dagster/row_count"].value
        for e in result.get_asset_materialization_events()
        if e.asset_key.path[0] == "marts"
    }
    assert materialized == snapshot_counts(home)

    # The alerts step again (a re-run or a backfill of those days): nothing is sent twice, and
    # the day before, not sent yet, is sent once.
    assert run_range("2026-01-19", "2026-01-20", only=[ALERTS_KEY]).success
    with duckdb.connect(str(home / "serving.duckdb"), read_only=True) as con:
        both_days = [
            r[0] for r in con.execute("SELECT alert_id FROM marts.fct_alerts WHERE date >= '2026-01-19'").fetchall()
        ]
    assert sorted(b["levstress_alert"]["alert_id"] for b in receiver.accepted) == sorted(both_days)  # no repeat


def test_a_failed_delivery_is_retried_on_the_next_run_and_named_without_the_secret(tmp_path):
    down = Receiver(failures=10**6)
    alert = Alert("a1", date(2026, 1, 20), "hourly_spike", "ETH", "bybit", None, 3e7, 2.5e7, "spike")
    ledger = AlertLedger(tmp_path / "ledger.ndjson")
    fast = HttpSettings(connect_timeout_s=2, read_timeout_s=2, retries=2, backoff_factor_s=0.01)
    try:
        failed = deliver([alert], ledger, down.url, fast)
        assert failed.delivered == 0 and len(failed.failures) == 1
        assert "HTTP 503" in failed.failures[0] and "canary-secret" not in failed.failures[0]
        assert down.refused == 3  # first try + 2 retries
        down.failures = 0  # the receiver recovers
        assert deliver([alert], ledger, down.url, fast).delivered == 1
        assert deliver([alert], ledger, down.url, fast).new == []
        assert [b["levstress_alert"]["alert_id"] for b in down.accepted] == ["a1"]
    finally:
        down.httpd.shutdown()
