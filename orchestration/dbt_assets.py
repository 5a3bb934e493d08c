"""dbt models as Dagster assets. The run's partition window goes to dbt as half-open
``min_date`` / ``max_date`` vars; incremental models rebuild only those days (plus the look-back
they read). dbt tests load as blocking asset checks.

The dbt assets are not partitioned themselves: each mart is one table kept current by
incremental runs, and Dagster records a materialization per asset *and partition*, which for a
year-long single-run backfill of 30 models would mean ~11,000 event-log writes for nothing."""


import json
import sys
from collections.abc import Iterator, Mapping
from datetime import timedelta
from pathlib import Path
from typing import Any

import dagster as dg
from dagster_dbt import DagsterDbtTranslator, DagsterDbtTranslatorSettings, DbtCliResource, DbtProject, dbt_assets

from orchestration.partitions import run_window_days

DBT_PROJECT_DIR = Path(__file__).resolve().parent.parent / "dbt_project"
dbt_project = DbtProject(project_dir=DBT_PROJECT_DIR, profiles_dir=DBT_PROJECT_DIR)
dbt_project.prepare_if_dev()


class DbtConfig(dg.Config):
    full_refresh: bool = False


class LevstressTranslator(DagsterDbtTranslator):
    def get_asset_spec(self, manifest: Mapping[str, Any], unique_id: str, project: DbtProject | None) -> dg.AssetSpec:
        spec = super().get_asset_spec(manifest, unique_id, project)
        node = manifest["nodes"].get(unique_id) or manifest["sources"].get(unique_id) or {}
        layer = (node.get("fqn") or ["", "other"])[1] if node.get("resource_type") == "model" else None
        if layer is None:
            return spec
        return spec.replace_attributes(group_name=layer, owners=["team:levstress"], kinds={"dbt", "duckdb"})


def dbt_args(context: dg.AssetExecutionContext, full_refresh: bool) -> list[str]:
    """``dbt build`` for the run's days as a half-open [min_date, max_date) window; a run with
    no partition window (or a full refresh) rebuilds everything."""
    days = run_window_days(context)
    if full_refresh or days is None:
        return ["build", "--full-refresh"] if full_refresh else ["build"]
    window = {"min_date": days[0].isoformat(), "max_date": (days[-1] + timedelta(days=1)).isoformat()}
    return ["build", "--vars", json.dumps(window)]


@dbt_assets(
    manifest=dbt_project.manifest_path,
    project=dbt_project,
    dagster_dbt_translator=LevstressTranslator(
        settings=DagsterDbtTranslatorSettings(enable_asset_checks=True, enable_source_tests_as_checks=False)
    ),
    backfill_policy=dg.BackfillPolicy.single_run(),
    pool="warehouse",
    name="dbt_models",
)
def dbt_models(context: dg.AssetExecutionContext, dbt: DbtCliResource, config: DbtConfig) -> Iterator[Any]:
    yield from dbt.cli(dbt_args(context, config.full_refresh), context=context).stream()


def dbt_resource() -> DbtCliResource:
    # The dbt next to this interpreter, so a run works without activating the venv.
    beside = Path(sys.executable).parent / "dbt"
    executable = str(beside) if beside.exists() else "dbt"
    return DbtCliResource(project_dir=dbt_project, profiles_dir=str(DBT_PROJECT_DIR), dbt_executable=executable)
