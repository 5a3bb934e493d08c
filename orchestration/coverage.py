"""Coverage in Dagster: one non-blocking check per dataset on the coverage mart, which turns
yellow (WARN) when a day of the run has a partial or missing series, with each gap's start and
end in its metadata; and the catch-up, which re-requests those days from a source that can still
serve them (a sensor after every successful daily run, or ``levstress catch-up``)."""

import dagster as dg
import pandas as pd

from ingestion.registry import ENDPOINTS
from orchestration import settings
from orchestration.catch_up import COVERAGE_MART, FETCH_MART, FILL_ENDPOINTS, published_fill_plan, published_retry_days
from orchestration.partitions import DAILY, run_window_days
from orchestration.publish import mart_key
from orchestration.raw_assets import raw_key
from orchestration.resources import WarehouseResource
from quality.coverage import COVERAGE_DATASETS, coverage_gaps, gaps_markdown
from quality.fetch_status import WHOLE, status_markdown, status_table
from storage import Paths

RETRY_DAYS = {e.table: e.retry_days for e in ENDPOINTS.values()}


def build_coverage_check(dataset: str) -> dg.AssetChecksDefinition:
    @dg.asset_check(
        asset=mart_key(COVERAGE_MART),
        name=f"{dataset}_coverage",
        blocking=False,
        description=f"WARN when a day of the run has {dataset} that is partial or missing for an exchange and asset.",
    )
    def _check(context: dg.AssetCheckExecutionContext, warehouse: WarehouseResource) -> dg.AssetCheckResult:
        days = run_window_days(context)
        gaps = coverage_gaps(warehouse.engine().read_days("marts", COVERAGE_MART, "date", days), dataset)
        return dg.AssetCheckResult(
            passed=gaps.empty,
            severity=dg.AssetCheckSeverity.WARN,
            metadata={
                "days": f"{days[0]}..{days[-1]}" if days else "all",
                "gaps": len(gaps),
                "exchanges": ", ".join(sorted(gaps["exchange"].unique())) or "none",
                "gaps_table": dg.MetadataValue.md(gaps_markdown(gaps)),
            },
        )

    return _check


@dg.asset_check(
    asset=mart_key(FETCH_MART),
    name="fetch_status",
    blocking=False,
    description="WARN when a source endpoint was unavailable on a day of the run, or fetched it with a gap or "
    "rejected rows; the metadata is the table `levstress status` prints.",
)
def fetch_status_check(context: dg.AssetCheckExecutionContext, warehouse: WarehouseResource) -> dg.AssetCheckResult:
    days = run_window_days(context)
    engine = warehouse.engine()
    table = status_table(
        engine.read_days("marts", FETCH_MART, "date", days),
        engine.read_days("marts", COVERAGE_MART, "date", days),
        RETRY_DAYS,
        settings.api_today(settings.source_mode()),
    )
    degraded = table[~table["state"].isin(WHOLE)]
    return dg.AssetCheckResult(
        passed=degraded.empty,
        severity=dg.AssetCheckSeverity.WARN,
        description=None if degraded.empty else f"{len(degraded)} endpoint-day(s) not whole: {_first(degraded)}",
        metadata={
            "days": f"{days[0]}..{days[-1]}" if days else "all",
            "missing": int((table["state"] == "missing").sum()),
            "partial": int((table["state"] == "partial").sum()),
            "with_rejected_rows": int((table["state"] == "rejected rows").sum()),
            "status": dg.MetadataValue.md(status_markdown(table)),
        },
    )


def _first(table: pd.DataFrame) -> str:
    row = table.iloc[0]
    return f"{row['date']} {row['source']} {row['endpoint']} {row['state']} ({row['why']})"


COVERAGE_CHECKS = [*(build_coverage_check(d) for d in COVERAGE_DATASETS), fetch_status_check]


FETCH_OUTCOMES_MODEL = dg.AssetKey(["staging", "stg_pipeline__fetch_outcomes"])

catch_up_job = dg.define_asset_job(
    "levstress_catch_up",
    # and what the fills' fetch outcomes feed (fct_source_fetch_daily), which no raw asset owns
    selection=dg.AssetSelection.assets(*(raw_key(e) for e in FILL_ENDPOINTS), FETCH_OUTCOMES_MODEL).downstream(),
    partitions_def=DAILY,
    description="Re-requests the days whose coverage is partial from a catch-up source that can still serve them "
    "(Coinalyze for a venue whose collector was away), rebuilds those days' marts and publishes.",
)


def build_catch_up_sensor(daily_job: dg.JobDefinition) -> dg.RunStatusSensorDefinition:
    """After every successful daily run: one catch-up run per day with a gap a catch-up source can
    still fill, and in live mode one daily run per earlier day with an endpoint that was
    unavailable and is still inside its look-back (read from the published copy, so it never
    waits on the warehouse). A retry's run key holds today's date: a day is retried at most once
    per calendar day, so a source that stays down is not hammered."""

    @dg.run_status_sensor(
        name="coverage_catch_up",
        run_status=dg.DagsterRunStatus.SUCCESS,
        monitored_jobs=[daily_job],
        request_jobs=[catch_up_job, daily_job],
        default_status=dg.DefaultSensorStatus.RUNNING,
        description="Requests levstress_catch_up for each day whose published coverage is partial and can be "
        "filled, and (live) levstress_daily again for each earlier day a source was unavailable on.",
    )
    def coverage_catch_up(context: dg.RunStatusSensorContext):  # noqa: ANN202 - yields requests or a skip
        serving = Paths(settings.home()).serving
        today = settings.api_today(settings.source_mode())
        plan = published_fill_plan(serving, today)
        run_id = context.dagster_run.run_id
        requests = [
            dg.RunRequest(run_key=f"catch-up-{day}-{run_id}", partition_key=day.isoformat(), job_name=catch_up_job.name)
            for day in plan.new_days()
        ]
        if today is not None:
            ran = context.dagster_run.tags.get("dagster/partition")
            requests += [
                dg.RunRequest(run_key=f"retry-{day}-on-{today}", partition_key=day.isoformat(), job_name=daily_job.name)
                for day in published_retry_days(serving, today)
                if day.isoformat() != ran
            ]
        if not requests:
            yield dg.SkipReason(
                f"no gap a catch-up source can fill and no unavailable day to retry; {len(plan.unrecoverable)} "
                "gap(s) cannot be filled"
            )
            return
        yield from requests

    return coverage_catch_up
