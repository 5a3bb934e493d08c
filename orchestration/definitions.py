"""The code location: ``dagster dev -w workspace.yaml`` and ``dagster asset materialize -m
orchestration.definitions`` both load ``defs`` from here."""

from __future__ import annotations

import dagster as dg

from orchestration.alerts import market_alerts
from orchestration.coverage import COVERAGE_CHECKS, build_catch_up_sensor, catch_up_job
from orchestration.dbt_assets import dbt_models, dbt_resource
from orchestration.partitions import DAILY
from orchestration.preload import keep_out_of_collections
from orchestration.publish import MART_CHECKS, published_snapshot
from orchestration.raw_assets import RAW_ASSETS, RAW_CHECKS
from orchestration.report import stress_report
from orchestration.resources import MarketSourcesResource, WarehouseResource

daily_job = dg.define_asset_job(
    "levstress_daily",
    selection=dg.AssetSelection.all(),
    partitions_def=DAILY,
    description="Ingest -> raw checks -> dbt build + tests -> mart checks -> publish -> alerts and report, for one "
    "day or a range.",
)

daily_schedule = dg.build_schedule_from_partitioned_job(
    daily_job,
    hour_of_day=0,
    minute_of_hour=30,
    default_status=dg.DefaultScheduleStatus.RUNNING,
)

defs = dg.Definitions(
    assets=[*RAW_ASSETS, dbt_models, published_snapshot, market_alerts, stress_report],
    asset_checks=[*RAW_CHECKS, *MART_CHECKS, *COVERAGE_CHECKS],
    jobs=[daily_job, catch_up_job],
    schedules=[daily_schedule],
    sensors=[build_catch_up_sensor(daily_job)],
    resources={
        "sources": MarketSourcesResource(),
        "warehouse": WarehouseResource(),
        "dbt": dbt_resource(),
    },
    # One process, one writer: DuckDB takes a single writing process per file.
    executor=dg.in_process_executor,
)

keep_out_of_collections()  # the code location's imports and definitions live as long as the process
