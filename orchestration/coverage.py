"""One non-blocking check per dataset on the coverage mart: it turns yellow (WARN) when a day of
the run has a partial or missing series, with each gap's start and end in its metadata."""

import dagster as dg

from orchestration.partitions import run_window_days
from orchestration.publish import mart_key
from orchestration.resources import WarehouseResource
from quality.coverage import COVERAGE_DATASETS, coverage_gaps, gaps_markdown

COVERAGE_MART = "fct_source_coverage_daily"


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
