"""The daily HTML report (reporting/), rendered from the published snapshot after every run."""

from datetime import UTC, datetime, timedelta

import dagster as dg

from orchestration.partitions import run_window_days
from orchestration.publish import published_snapshot
from orchestration.resources import WarehouseResource


@dg.asset(
    key=dg.AssetKey(["serving", "stress_report"]),
    deps=[published_snapshot],
    group_name="publish",
    backfill_policy=dg.BackfillPolicy.single_run(),
    kinds={"html"},
    owners=["team:levstress"],
    description="Self-contained HTML report (reports/<date>.html, opens offline) for the last day of the run: "
    "stress per asset with levels, long vs short liquidations by exchange, hourly spikes, market-cap heatmap, "
    "funding and open interest, liquidation clusters against price.",
)
def stress_report(context: dg.AssetExecutionContext, warehouse: WarehouseResource) -> dg.MaterializeResult:
    from reporting import build_report  # matplotlib: imported while dbt runs (orchestration.dbt_assets)

    days = run_window_days(context)
    as_of = days[-1] if days else datetime.now(UTC).date() - timedelta(days=1)
    paths = warehouse.paths()
    report = build_report(paths.serving, as_of, paths.reports)
    return dg.MaterializeResult(
        metadata={
            "as_of": as_of.isoformat(),
            "path": dg.MetadataValue.path(str(report.path)),
            "summary": dg.MetadataValue.md(report.summary_markdown),
            "charts": len(report.charts),
        }
    )
