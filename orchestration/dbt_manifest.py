"""Keep dbt_project/target/manifest.json current: dagster-dbt reads it when the definitions are
imported, and a manifest older than the models makes the dbt step fail. `make setup` applies this
rule through make; tests and the benchmark call :func:`ensure_manifest` (no Dagster import here)."""

from __future__ import annotations

import json
import os
import subprocess
import sys
from collections.abc import Iterable
from pathlib import Path

PROJECT = Path(__file__).resolve().parent.parent / "dbt_project"
MANIFEST = PROJECT / "target" / "manifest.json"
PARSE_TARGET = "duckdb"  # as in `make setup`: partial parsing holds only for runs with the same --target


def is_stale() -> bool:
    built = MANIFEST.stat().st_mtime if MANIFEST.exists() else 0.0
    sources = (
        p
        for p in PROJECT.rglob("*")
        if p.suffix in (".sql", ".yml", ".csv") and p.relative_to(PROJECT).parts[0] != "target"
    )
    return any(p.stat().st_mtime > built for p in sources)


def ensure_manifest(scratch_home: Path) -> Path:
    """Re-parse the project if any model, test or seed is newer than the manifest.
    ``scratch_home`` is a ``LEVSTRESS_HOME`` for the profile (parsing opens no database)."""
    if is_stale():
        scratch_home.mkdir(parents=True, exist_ok=True)
        dbt = Path(sys.executable).parent / "dbt"
        env = {**os.environ, "LEVSTRESS_HOME": str(scratch_home)}
        parse = [str(dbt), "parse", "--profiles-dir", ".", "--quiet", "--target", PARSE_TARGET]
        subprocess.run(parse, cwd=PROJECT, env=env, check=True)
        MANIFEST.touch()
    return MANIFEST


def contract_columns(manifest: Path, relations: Iterable[str]) -> dict[str, list[str]]:
    """The documented columns of each model or seed, in the order of its YAML: the order
    readers of the published copy see, whatever order the engine stored them in."""
    nodes = json.loads(manifest.read_text())["nodes"].values()
    relations_by_name = {n["alias"]: n for n in nodes if n["resource_type"] in ("model", "seed")}
    return {name: list(relations_by_name[name]["columns"]) for name in relations}
