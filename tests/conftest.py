from __future__ import annotations

import json
import os
from pathlib import Path

import pytest
from filelock import FileLock

from orchestration.dbt_manifest import ensure_manifest

os.environ.setdefault("GX_ANALYTICS_ENABLED", "false")
os.environ.setdefault("DO_NOT_TRACK", "1")


# `make test` runs the suite on two workers, a whole file at a time (pytest-xdist, --dist loadfile),
# handing out files in collection order as a worker frees up: the longest files go first, so that
# neither worker is left with one of them at the end while the other waits.
LONGEST_FIRST = (
    "test_spark.py",
    "test_reliability.py",
    "test_analytics.py",
    "test_live_mode.py",
    "test_pipeline_e2e.py",
    "test_degraded_runs.py",
)


def pytest_collection_modifyitems(items: list[pytest.Item]) -> None:
    rank = {name: i for i, name in enumerate(LONGEST_FIRST)}
    items.sort(key=lambda item: rank.get(item.path.name, len(rank)))  # stable: the others keep their order


@pytest.fixture(scope="session", autouse=True)
def dbt_manifest(tmp_path_factory: pytest.TempPathFactory) -> Path:
    """dagster-dbt loads the manifest when orchestration.definitions is imported; `make setup`
    keeps it current, and this makes a bare `pytest` work too."""
    return ensure_manifest(tmp_path_factory.mktemp("parse-home"))


@pytest.fixture
def levstress_home(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Path:
    home = tmp_path / "home"
    home.mkdir()
    monkeypatch.setenv("LEVSTRESS_HOME", str(home))
    monkeypatch.setenv("LEVSTRESS_SOURCE_MODE", "demo")
    monkeypatch.setenv("LEVSTRESS_WAREHOUSE", "duckdb")
    monkeypatch.delenv("LEVSTRESS_SIM_FAULTS", raising=False)
    return home


HISTORY_START, HISTORY_END = "2025-11-15", "2026-01-21"


@pytest.fixture(scope="session")
def demo_history(tmp_path_factory: pytest.TempPathFactory) -> Path:
    """68 demo days built once by the real job: enough history for mature stress scores (30 ranked
    days from day 44), spikes and alerts in mid-January. Tests copy it with ``copy_home`` before
    writing to it. Under xdist the workers share one build: the first to ask builds it while the
    other waits on the lock, or finds it done."""
    if not os.environ.get("PYTEST_XDIST_WORKER"):
        return _build_demo_history(tmp_path_factory.mktemp("history") / "home")
    shared = tmp_path_factory.getbasetemp().parent  # this run's folder, above the workers' own
    built = shared / "demo_history.path"
    with FileLock(shared / "demo_history.lock"):
        if not built.exists():
            home = _build_demo_history(tmp_path_factory.mktemp("history") / "home")
            built.write_text(str(home))
        return Path(built.read_text())


def _build_demo_history(home: Path) -> Path:
    from tests.pipeline_helpers import run_range

    home.mkdir()
    with pytest.MonkeyPatch.context() as patch:
        patch.setenv("LEVSTRESS_HOME", str(home))
        patch.setenv("LEVSTRESS_SOURCE_MODE", "demo")
        patch.setenv("LEVSTRESS_WAREHOUSE", "duckdb")
        patch.delenv("LEVSTRESS_SIM_FAULTS", raising=False)
        patch.delenv("LEVSTRESS_ALERT_WEBHOOK_URL", raising=False)
        result = run_range(HISTORY_START, HISTORY_END)
        assert result.success
    checks = {
        e.check_name: {"passed": e.passed, "gaps_table": e.metadata["gaps_table"].value}
        for e in result.get_asset_check_evaluations()
        if e.check_name.endswith("_coverage")
    }
    (home.parent / COVERAGE_CHECKS_FILE).write_text(json.dumps(checks))
    return home


COVERAGE_CHECKS_FILE = "coverage_checks.json"  # the coverage checks' verdicts on the shared build
