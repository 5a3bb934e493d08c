"""Coverage in Dagster: one non-blocking check per dataset on the coverage mart, which turns
yellow (WARN) when a day of the run has a partial or missing series, with each gap's start and
end in its metadata; and the catch-up, which re-requests those days from a source that can still
serve them (a sensor after every successful daily run, or ``levstress catch-up``)."""

import dagster as dg

from orchestration import settings
from orchestration.catch_up import COVERAGE_MART, FILL_ENDPOINTS, published_fill_plan
from orchestration.partitions import DAILY, run_window_days
from orchestration.publish import mart_key
from orchestration.raw_assets import raw_key
from orchestration.resources import WarehouseResource
from quality.coverage import COVERAGE_DATASETS, coverage_gaps, gaps_markdown
from storage import Paths


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


COVERAGE_CHECKS = [build_coverage_check(d) for d in COVERAGE_DATASETS]


catch_up_job = dg.define_asset_job(
    "levstress_catch_up",
    selection=dg.AssetSelection.assets(*(raw_key(e) for e in FILL_ENDPOINTS)).downstream(),
    partitions_def=DAILY,
    description="Re-requests the days whose coverage is partial from a catch-up source that can still serve them "
    "(Coinalyze for a venue whose collector was away), rebuilds those days' marts and publishes.",
)


def build_catch_up_sensor(daily_job: dg.JobDefinition) -> dg.RunStatusSensorDefinition:
    """After every successful daily run: one catch-up run per day with a gap a catch-up source can
    still fill (read from the published copy, so it never waits on the warehouse)."""

    @dg.run_status_sensor(
        name="coverage_catch_up",
        run_status=dg.DagsterRunStatus.SUCCESS,
        monitored_jobs=[daily_job],
        request_job=catch_up_job,
        default_status=dg.DefaultSensorStatus.RUNNING,
        description="Requests levstress_catch_up for each day whose published coverage is partial and can be filled.",
    )
    def coverage_catch_up(context: dg.RunStatusSensorContext):  # noqa: ANN202 - yields requests or a skip
        plan = published_fill_plan(Paths(settings.home()).serving, settings.api_today(settings.source_mode()))
        if not plan.new_gaps:
            yield dg.SkipReason(f"no gap a catch-up source can fill; {len(plan.unrecoverable)} cannot be filled")
            return
        for day in plan.new_days():
            yield dg.RunRequest(run_key=f"catch-up-{day}-{context.dagster_run.run_id}", partition_key=day.isoformat())

    return coverage_catch_up
