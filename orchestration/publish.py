"""Write-audit-publish, last step: blocking checks on the marts, then the read-only snapshot and
the Parquet exports. Runs only if every upstream check in the run passed."""

import dagster as dg

from orchestration import settings
from orchestration.dbt_assets import dbt_project
from orchestration.dbt_manifest import contract_columns
from orchestration.partitions import DAILY_FRESHNESS, run_window_days
from orchestration.resources import WarehouseResource
from quality.suites import MART_SUITES
from quality.validate import validate

MARTS = [
    "fct_liquidations_hourly",
    "fct_liquidation_imbalance_daily",
    "fct_funding_daily",
    "fct_open_interest_daily",
    "fct_market_cap_daily",
    "fct_market_breadth_daily",
    "fct_leverage_stress_daily",
    "fct_liquidation_clusters",
    "fct_volatility_daily",
    "fct_stress_vs_episodes",
    "fct_alerts",
    "fct_source_coverage_daily",
    "fct_source_fetch_daily",
    "fct_positioning_daily",
    "fct_stress_signals_daily",
    "fct_stress_event_study",
    "fct_estimated_liquidation_levels",
    "fct_liquidation_map_validation",
    "ref_liquidation_episodes",
]


def mart_key(mart: str) -> dg.AssetKey:
    return dg.AssetKey(["marts", mart])


def build_mart_check(mart: str) -> dg.AssetChecksDefinition:
    @dg.asset_check(
        asset=mart_key(mart),
        name="mart_expectations",
        blocking=True,
        description=f"Great Expectations suite for {mart} on the run's days; blocks publishing.",
    )
    def _check(context: dg.AssetCheckExecutionContext, warehouse: WarehouseResource) -> dg.AssetCheckResult:
        days = run_window_days(context)
        expectations, prepare = MART_SUITES[mart]()
        frame = prepare(warehouse.engine().read_days("marts", mart, "date", days))
        report = validate(mart, frame, expectations)
        return dg.AssetCheckResult(
            passed=report.success,
            severity=dg.AssetCheckSeverity.ERROR,
            metadata={
                "days": f"{days[0]}..{days[-1]}" if days else "all",
                "rows": report.rows,
                "evaluated_expectations": report.evaluated,
                "failing_examples": dg.MetadataValue.md(report.markdown()),
            },
        )

    return _check


@dg.asset(
    key=dg.AssetKey(["serving", "published_snapshot"]),
    deps=[mart_key(m) for m in MARTS],
    group_name="publish",
    backfill_policy=dg.BackfillPolicy.single_run(),
    pool="warehouse",
    kinds={settings.warehouse(), "parquet"},
    owners=["team:levstress"],
    freshness_policy=DAILY_FRESHNESS,
    description="serving.duckdb (read-only snapshot of every mart, DuckDB 1.x storage format) and the Parquet "
    "exports (export/<mart>/<mart>_<YYYY-MM>.parquet, one file per month), replaced atomically after every gate "
    "of the run passed.",
)
def published_snapshot(context: dg.AssetExecutionContext, warehouse: WarehouseResource) -> dg.MaterializeResult:
    days = run_window_days(context)
    counts = warehouse.engine().publish(contract_columns(dbt_project.manifest_path, MARTS))
    paths = warehouse.paths()
    return dg.MaterializeResult(
        metadata={
            "serving_path": dg.MetadataValue.path(str(paths.serving)),
            "export_dir": dg.MetadataValue.path(str(paths.export)),
            "window": f"{days[0]}..{days[-1]}" if days else "full rebuild",
            **{f"rows/{m}": n for m, n in counts.items()},
        }
    )


MART_CHECKS = [build_mart_check(m) for m in MART_SUITES]
