"""dbt models as Dagster assets. The partition window goes to dbt as half-open ``min_date`` /
``max_date`` vars; incremental models rebuild only those days (plus the look-back they read).
dbt tests load as blocking asset checks."""


import json
import sys
from collections.abc import Iterator, Mapping
from datetime import timedelta
from pathlib import Path
from typing import Any

import dagster as dg
from dagster_dbt import DagsterDbtTranslator, DagsterDbtTranslatorSettings, DbtCliResource, DbtProject, dbt_assets

from orchestration.partitions import DAILY, run_window_days

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


def dbt_vars(context: dg.AssetExecutionContext) -> dict[str, str]:
    days = run_window_days(context)
    return {"min_date": days[0].isoformat(), "max_date": (days[-1] + timedelta(days=1)).isoformat()}


@dbt_assets(
    manifest=dbt_project.manifest_path,
    project=dbt_project,
    dagster_dbt_translator=LevstressTranslator(
        settings=DagsterDbtTranslatorSettings(enable_asset_checks=True, enable_source_tests_as_checks=False)
    ),
    partitions_def=DAILY,
    backfill_policy=dg.BackfillPolicy.single_run(),
    pool="warehouse",
    name="dbt_models",
)
def dbt_models(context: dg.AssetExecutionContext, dbt: DbtCliResource, config: DbtConfig) -> Iterator[Any]:
    args = ["build"]
    if config.full_refresh:
        args.append("--full-refresh")
    else:
        args += ["--vars", json.dumps(dbt_vars(context))]
    yield from dbt.cli(args, context=context).stream()


def dbt_resource() -> DbtCliResource:
    # The dbt next to this interpreter, so a run works without activating the venv.
    beside = Path(sys.executable).parent / "dbt"
    executable = str(beside) if beside.exists() else "dbt"
    return DbtCliResource(project_dir=dbt_project, profiles_dir=str(DBT_PROJECT_DIR), dbt_executable=executable)
