"""dbt models as Dagster assets. The run's partition window goes to dbt as the half-open
``min_date`` / ``max_date`` window (environment variables, see macros/build_window.sql);
incremental models rebuild only those days (plus the look-back they read). dbt tests load as
blocking asset checks.

The dbt assets are not partitioned themselves: each mart is one table kept current by
incremental runs, and Dagster records a materialization per asset *and partition*, which for a
year-long single-run backfill of 30 models would mean ~11,000 event-log writes for nothing."""

import hashlib
import importlib.metadata
import json
import os
import re
import shutil
import sys
from collections.abc import Iterable, Iterator, Mapping, Sequence
from contextlib import contextmanager
from datetime import date, timedelta
from functools import cached_property
from pathlib import Path
from typing import Any

import dagster as dg
from dagster_dbt import DagsterDbtTranslator, DagsterDbtTranslatorSettings, DbtCliResource, DbtProject, dbt_assets
from packaging import version

from ingestion.registry import raw_schemas
from orchestration import settings
from orchestration.catch_up import last_loaded_day
from orchestration.memory import release_memory, resident_mb
from orchestration.partitions import DAILY_FRESHNESS, run_window_days
from orchestration.preload import preload
from orchestration.resources import WarehouseResource
from storage import Engine

DBT_PROJECT_DIR = Path(__file__).resolve().parent.parent / "dbt_project"
dbt_project = DbtProject(project_dir=DBT_PROJECT_DIR, profiles_dir=DBT_PROJECT_DIR)
dbt_project.prepare_if_dev()


class DbtConfig(dg.Config):
    full_refresh: bool = False


class LevstressTranslator(DagsterDbtTranslator):
    def get_asset_spec(self, manifest: Mapping[str, Any], unique_id: str, project: DbtProject | None) -> dg.AssetSpec:
        spec = super().get_asset_spec(manifest, unique_id, project)
        node = manifest["nodes"].get(unique_id) or manifest["sources"].get(unique_id) or {}
        if node.get("resource_type") == "seed":
            return spec.replace_attributes(group_name="reference", owners=["team:levstress"], kinds={"dbt", "csv"})
        layer = (node.get("fqn") or ["", "other"])[1] if node.get("resource_type") == "model" else None
        if layer is None:
            return spec
        return spec.replace_attributes(
            group_name=layer,
            owners=["team:levstress"],
            kinds={"dbt", settings.warehouse()},
            freshness_policy=DAILY_FRESHNESS if layer == "marts" else None,
        )


KEPT_DBT_RUNS = 10
WINDOW_ENV = ("LEVSTRESS_DBT_MIN_DATE", "LEVSTRESS_DBT_MAX_DATE")


def build_window(days: list[date] | None, full_refresh: bool, last_loaded: date | None) -> dict[str, str]:
    """The run's days as a half-open [min_date, max_date) window; none (build everything) for a
    run without a partition window or a full refresh. The window runs on to the last day the
    warehouse holds: later days' trailing statistics (7-day clusters, 168-hour spikes, 90-day
    stress) read the run's days, so a re-run, a replay or a catch-up of a past day rebuilds them
    too, and the marts equal a build from scratch whichever run built a day first."""
    if full_refresh or days is None:
        return {}
    last = max(days[-1], last_loaded or days[-1])
    return dict(zip(WINDOW_ENV, (days[0].isoformat(), (last + timedelta(days=1)).isoformat()), strict=True))


@contextmanager
def window_environment(window: Mapping[str, str]) -> Iterator[None]:
    # dagster-dbt hands the dbt subprocess a copy of this process's environment.
    saved = {name: os.environ.pop(name, None) for name in WINDOW_ENV}
    os.environ.update(window)
    try:
        yield
    finally:
        for name, value in saved.items():
            os.environ.pop(name, None)
            if value is not None:
                os.environ[name] = value


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
def dbt_models(
    context: dg.AssetExecutionContext, dbt: DbtCliResource, warehouse: WarehouseResource, config: DbtConfig
) -> Iterator[Any]:
    # dbt's unit tests check the SQL logic, not the data: they run in `make test`
    # (tests/test_pipeline_e2e.py), not in every production build, as dbt recommends.
    changed = changed_marts(dbt_project.manifest_path, warehouse.engine().table_columns("marts"))
    if changed and not config.full_refresh:
        context.log.warning(
            f"the warehouse was built by another version of the project ({', '.join(changed)} missing or shaped "
            "differently): rebuilding every model from the raw tables instead of the run's days"
        )
    full_refresh = config.full_refresh or bool(changed)
    paths = warehouse.paths()
    fingerprint = project_fingerprint(dbt_project.manifest_path, DBT_PROJECT_DIR, os.environ)
    views = view_relations(dbt_project.manifest_path)
    views_current = (
        not full_refresh
        and not context.is_subset  # a subset's own selection must stand
        and views_built(views, warehouse.engine(), fingerprint, paths.views_fingerprint)
    )
    if views_current:
        context.log.info("views and seeds are as this project version built them: building tables and tests only")
    # The target is named as `make setup` parsed with: dbt re-parses the whole project (~5 s)
    # when the --target argument differs from the parse's, even if both mean the same target.
    args = [
        "build",
        *("--target", settings.warehouse()),
        *("--exclude-resource-type", "unit_test"),
        *(["--full-refresh"] if full_refresh else []),
        # A --selector makes dbt ignore the `--select fqn:*` dagster-dbt adds to a whole build.
        *(["--selector", TABLES_AND_TESTS] if views_current else []),
    ]
    target = run_target_path(paths.dbt_runs, context.run_id)
    reuse_parse(paths.dbt_parse_state, target)
    # Events are held until dbt exits: only then can this process open the DuckDB file (one
    # writer) to count each table's rows for its materialization. A failed build still reports
    # every model that did build before the error is raised.
    events: list[Any] = []
    failure: Exception | None = None
    window = build_window(run_window_days(context), full_refresh, last_loaded_day(warehouse.engine()))
    warehouse.engine().ensure_tables(raw_schemas())
    preload("reporting")  # the report after publishing draws with matplotlib (~1 s to import)
    warehouse.release()  # dbt's process opens the warehouse: one process at a time
    before = resident_mb()
    release_memory()
    context.log.info(f"memory: {before:.0f} MB -> {resident_mb():.0f} MB before dbt")
    with window_environment(window):
        try:
            events.extend(dbt.cli(args, context=context, target_path=target).stream())
        except Exception as exc:  # noqa: BLE001 - re-raised below, after the events
            failure = exc
    built = [_relation(e) for e in events if isinstance(e, dg.Output)]
    if failure is None and (views_current or views <= set(built)):
        paths.views_fingerprint.write_text(fingerprint)
    keep_parse(target, paths.dbt_parse_state)
    # After a failure dbt may still be running and holding the warehouse: report it, count nothing.
    counts = warehouse.engine().row_counts(built) if built and failure is None else {}
    counted = [
        event.with_metadata({**event.metadata, "dagster/row_count": counts[_relation(event)]})
        if isinstance(event, dg.Output) and _relation(event) in counts
        else event
        for event in events
    ]
    yield from (with_kept_outputs(context, counted, set(built)) if views_current and failure is None else counted)
    if failure is not None:
        raise failure


def with_kept_outputs(
    context: dg.AssetExecutionContext, events: Iterable[Any], built: set[tuple[str, str]]
) -> Iterator[Any]:
    """dbt's events, with an output for each view and seed the run left as it was: they are
    current all the same (a view reads the new raw rows), and the assets after them wait for
    their outputs. Each goes out before the first output that depends on it, as Dagster requires."""
    assets = context.assets_def
    key_of = assets.keys_by_output_name
    kept = {
        key_of[name]: dg.Output(None, output_name=name, metadata={"dbt": "kept: already built by this project version"})
        for name in sorted(context.selected_output_names)
        if name in key_of and _relation(dg.Output(None, name)) not in built
    }

    def upstream_first(key: dg.AssetKey) -> Iterator[dg.Output]:
        for upstream in sorted(assets.asset_deps.get(key, ()), key=str):
            yield from upstream_first(upstream)
        if key in kept:
            yield kept.pop(key)

    for event in events:
        if isinstance(event, dg.Output) and event.output_name in key_of:
            for upstream in sorted(assets.asset_deps.get(key_of[event.output_name], ()), key=str):
                yield from upstream_first(upstream)
        yield event
    for key in sorted(kept, key=str):
        yield from upstream_first(key)


# The selector (dbt_project/selectors.yml) of a run whose views and seeds are current.
TABLES_AND_TESTS = "tables_and_tests"
VIEW_LAYERS = ("staging", "intermediate")
ENV_VAR_READ = re.compile(r"env_var\(\s*['\"](\w+)['\"]")


def project_fingerprint(manifest_path: Path, project_dir: Path, environ: Mapping[str, str]) -> str:
    """What the views and seeds are built from: the parsed models, macros and sources, the vars
    in dbt_project.yml, and the environment variables the project reads (the run window aside)."""
    manifest = json.loads(manifest_path.read_text())
    parsed = {key: manifest[key] for key in ("nodes", "sources", "macros")}
    project_file = (project_dir / "dbt_project.yml").read_text()
    texts = [p.read_text() for p in project_dir.glob("*.yml")]
    texts += [p.read_text() for folder in ("models", "macros") for p in (project_dir / folder).rglob("*.*")]
    read = {name for text in texts for name in ENV_VAR_READ.findall(text)} - set(WINDOW_ENV)
    environment = {name: environ.get(name) for name in sorted(read)}
    content = json.dumps([parsed, project_file, environment], sort_keys=True, default=str)
    return hashlib.sha256(content.encode()).hexdigest()


def view_relations(manifest_path: Path) -> set[tuple[str, str]]:
    nodes = json.loads(manifest_path.read_text())["nodes"].values()
    return {
        (n["schema"], n["alias"])
        for n in nodes
        if n["resource_type"] == "model" and n["config"]["materialized"] == "view"
    }


def views_built(views: set[tuple[str, str]], engine: Engine, fingerprint: str, recorded: Path) -> bool:
    """The last dbt build that made every view was of this project version, and every view is
    still there: re-creating the views and the seed (a third of a daily build) changes nothing."""
    if not recorded.exists() or recorded.read_text() != fingerprint:
        return False
    existing = {layer: engine.table_columns(layer) for layer in VIEW_LAYERS}
    return all(name in existing.get(schema, {}) for schema, name in views)


def changed_marts(manifest_path: Path, existing: Mapping[str, set[str]]) -> list[str]:
    """Incremental models whose table is missing or whose columns differ from the project's
    contract: a warehouse built by an earlier version. An incremental run would fill only the
    run's days of a new model or column, so these call for a rebuild from raw (raw is kept)."""
    manifest = json.loads(manifest_path.read_text())
    changed = []
    for node in manifest["nodes"].values():
        if node["resource_type"] != "model" or node["config"].get("materialized") != "incremental":
            continue
        if existing.get(node["alias"]) != set(node["columns"]):
            changed.append(node["alias"])
    return sorted(changed)


def _relation(output: dg.Output) -> tuple[str, str]:
    """(schema, relation) of a dbt model's output: the asset key is [layer, model] and each layer
    is its own schema."""
    schema, _, name = output.output_name.partition("__")
    return schema, name


PARSE_STATE = "partial_parse.msgpack"


def reuse_parse(kept: Path, target: Path) -> None:
    """Start this run's dbt from the parse state of the last run on this home. dagster-dbt copies
    the project's own (from `make setup`) only into an empty target, and dbt re-parses everything
    when the profile's environment (LEVSTRESS_HOME) differs from that parse's (~5 s); a home's own
    state differs at most by the files that changed, which dbt re-parses itself."""
    if kept.exists():
        target.mkdir(parents=True, exist_ok=True)
        shutil.copyfile(kept, target / PARSE_STATE)


def keep_parse(target: Path, kept: Path) -> None:
    if (target / PARSE_STATE).exists():
        shutil.copyfile(target / PARSE_STATE, kept.with_suffix(".tmp"))
        kept.with_suffix(".tmp").replace(kept)


def run_target_path(root: Path, run_id: str, keep: int = KEPT_DBT_RUNS) -> Path:
    """This run's dbt target folder under ``$LEVSTRESS_HOME``, older ones pruned (each holds a
    manifest of ~9 MB; a daily schedule would otherwise grow it by 3 GB a year)."""
    root.mkdir(parents=True, exist_ok=True)
    runs = sorted(root.iterdir(), key=lambda p: p.stat().st_mtime)
    for old in runs[: max(0, len(runs) - keep + 1)]:
        shutil.rmtree(old, ignore_errors=True)
    return root / run_id


class SubprocessOnlyDbtCliResource(DbtCliResource):
    """dbt runs in its subprocess only; each override below saves ~6-8 s of every run.

    dagster-dbt asks the executable for its version (``dbt --version``, a full dbt start-up) and
    loads dbt-core in this process to get an adapter handle, used solely by
    ``fetch_column_metadata`` / ``fetch_row_counts``. This project runs the dbt installed beside
    this interpreter, so the installed dbt-core's version is the executable's, and it does not
    fetch metadata through the adapter: column schemas come from the manifest, and DuckDB allows
    one writer, so a second connection during the build could not be opened anyway."""

    @cached_property
    def _cli_version(self) -> version.Version:
        return version.parse(importlib.metadata.version("dbt-core"))

    def _initialize_dbt_core_adapter(self, args: Sequence[str]) -> None:  # type: ignore[override]
        return None


def dbt_resource() -> DbtCliResource:
    # The dbt next to this interpreter, so a run works without activating the venv.
    beside = Path(sys.executable).parent / "dbt"
    executable = str(beside) if beside.exists() else "dbt"
    return SubprocessOnlyDbtCliResource(
        project_dir=dbt_project, profiles_dir=str(DBT_PROJECT_DIR), dbt_executable=executable
    )
