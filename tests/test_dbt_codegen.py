"""The dbt side of the source registry is generated (orchestration/dbt_codegen.py): the committed
files must be what the registry generates, and a new source must need nothing else."""

from __future__ import annotations

import dataclasses
import shutil
from pathlib import Path

from ingestion.registry import SOURCES
from orchestration import dbt_codegen
from orchestration.dbt_codegen import DBT_DIR, REGISTRY_MACRO, STAGING, render, stale, write


def test_the_committed_dbt_sources_and_staging_models_are_what_the_registry_generates() -> None:
    assert stale() == [], "run `python -m orchestration.dbt_codegen` and commit the result"


def test_a_new_source_is_one_module_and_one_registration(tmp_path: Path, monkeypatch) -> None:
    """A copy of the project with a hypothetical venue registered: its sources, staging model,
    tests and registry entry appear, and a removed source's files go."""
    root = tmp_path / "dbt_project"
    shutil.copytree(DBT_DIR / STAGING, root / STAGING)
    (root / REGISTRY_MACRO).parent.mkdir(parents=True)
    gate = next(s for s in SOURCES if s.name == "gate")
    venue = dataclasses.replace(
        gate, name="kraken", endpoints=tuple(dataclasses.replace(e, source="kraken") for e in gate.endpoints[:1])
    )
    monkeypatch.setattr(dbt_codegen, "SOURCES", (*[s for s in SOURCES if s.name != "deribit"], venue))
    write(root)
    model = root / STAGING / "kraken" / "stg_kraken__liquidations.sql"
    assert model.read_text().endswith("{{ stg_liquidation_buckets('kraken_liquidations') }}\n")
    assert "name: stg_kraken__liquidations" in model.with_suffix(".yml").read_text()
    assert "name: kraken_liquidations" in (root / STAGING / "kraken" / "_kraken__sources.yml").read_text()
    registry = (root / REGISTRY_MACRO).read_text()
    assert '"model": "stg_kraken__liquidations", "dataset": "liquidation_buckets", "whole": "estimate"' in registry
    assert '"kraken"' in registry and "stg_deribit__dvol" not in registry
    assert not (root / STAGING / "deribit" / "stg_deribit__dvol.sql").exists()
    assert stale(root) == [] and set(render()) >= {STAGING / "kraken" / "stg_kraken__liquidations.yml"}
