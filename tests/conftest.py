from __future__ import annotations

import os
import subprocess
import sys
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parent.parent
os.environ.setdefault("GX_ANALYTICS_ENABLED", "false")
os.environ.setdefault("DO_NOT_TRACK", "1")


@pytest.fixture(scope="session", autouse=True)
def dbt_manifest(tmp_path_factory: pytest.TempPathFactory) -> Path:
    """dagster-dbt loads the manifest when orchestration.definitions is imported; `make setup`
    prepares it, and this makes a bare `pytest` work too."""
    manifest = ROOT / "dbt_project" / "target" / "manifest.json"
    if not manifest.exists():
        env = {**os.environ, "LEVSTRESS_HOME": str(tmp_path_factory.mktemp("parse-home"))}
        dbt = Path(sys.executable).parent / "dbt"
        subprocess.run(
            [str(dbt), "parse", "--profiles-dir", ".", "--quiet"], cwd=ROOT / "dbt_project", env=env, check=True
        )
    return manifest


@pytest.fixture
def levstress_home(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Path:
    home = tmp_path / "home"
    home.mkdir()
    monkeypatch.setenv("LEVSTRESS_HOME", str(home))
    monkeypatch.setenv("LEVSTRESS_SOURCE_MODE", "demo")
    monkeypatch.delenv("LEVSTRESS_SIM_FAULTS", raising=False)
    return home
