"""One daily-partitioned raw asset per registered source endpoint, each gated by a blocking
Great Expectations check. Built from the registry, so a new source needs no edit here."""

from datetime import date

import dagster as dg

from ingestion.catch_up import FillPlan
from ingestion.registry import ENDPOINTS
from ingestion.sources.base import Endpoint
from orchestration import settings
from orchestration.catch_up import warehouse_fill_plan
from orchestration.partitions import DAILY, partition_days
from orchestration.resources import MarketSourcesResource, WarehouseResource
from quality.suites import raw_suite
from quality.validate import validate

OWNER = "team:levstress"


def raw_key(endpoint: Endpoint) -> dg.AssetKey:
    return dg.AssetKey(["raw", endpoint.table])


def _column_schema(endpoint: Endpoint) -> dg.TableSchema:
    return dg.TableSchema(
        columns=[dg.TableColumn(c.name, str(c.type), description=c.description) for c in endpoint.dataset.columns]
    )


def build_raw_asset(endpoint: Endpoint) -> dg.AssetsDefinition:
    @dg.asset(
        key=raw_key(endpoint),
        description=f"{endpoint.description}\n\nDataset `{endpoint.dataset.name}`: {endpoint.dataset.description}",
        group_name="raw",
        partitions_def=DAILY,
        backfill_policy=dg.BackfillPolicy.single_run(),
        pool="warehouse",
        kinds={"python", settings.warehouse()},
        owners=[OWNER],
        tags={"source": endpoint.source, "dataset": endpoint.dataset.name},
        metadata={"dagster/column_schema": _column_schema(endpoint), "look_back_days": endpoint.look_back_days},
    )
    def _raw(
        context: dg.AssetExecutionContext, sources: MarketSourcesResource, warehouse: WarehouseResource
    ) -> dg.MaterializeResult:
        days = partition_days(context)
        paths = warehouse.paths()
        fill = _fill_plan(context, endpoint, days, sources, warehouse) if endpoint.fills else None
        report = sources.ingest(endpoint, days, paths, fill.days(endpoint.table) if fill else None)
        warehouse.engine().replace_partitions(endpoint.table, report.batch.table, report.batch.rejects, report.days)
        context.log.info(
            f"{endpoint.table}: {report.batch.accepted} rows, {report.batch.rejected} rejected, "
            f"{report.pages} payloads over {len(report.days)} day(s)"
        )
        if report.skipped_days:
            context.log.warning(
                f"{endpoint.table}: {len(report.skipped_days)} day(s) not fetched "
                f"({report.skipped_days[0]}..{report.skipped_days[-1]}): {report.skipped_reason}. "
                "Rows already in the warehouse for those days were kept."
            )
        return dg.MaterializeResult(
            metadata={
                "dagster/row_count": report.batch.accepted,
                "rejected_rows": report.batch.rejected,
                "payloads": report.pages,
                "days": len(days),
                "first_day": days[0].isoformat(),
                "last_day": days[-1].isoformat(),
                "days_not_fetched": len(report.skipped_days),
                "not_fetched_reason": report.skipped_reason or "",
                **(_fill_metadata(endpoint, fill) if fill else {}),
            }
        )

    return _raw


def _fill_plan(
    context: dg.AssetExecutionContext,
    endpoint: Endpoint,
    days: list[date],
    sources: MarketSourcesResource,
    warehouse: WarehouseResource,
) -> FillPlan:
    """What a catch-up endpoint is asked to fill on the run's days: the gaps the last build found."""
    plan = warehouse_fill_plan(warehouse.engine(), days, sources.today())
    for row, reason in plan.unrecoverable:
        context.log.warning(f"{row.exchange} {row.dataset} on {row.day} is {row.level} and cannot be filled: {reason}")
    return plan


def _fill_metadata(endpoint: Endpoint, plan: FillPlan) -> dict[str, object]:
    asked = plan.days(endpoint.table)
    return {
        "fill_requests": dg.MetadataValue.md(
            "\n".join(f"- {day}: {', '.join(sorted(exchanges))}" for day, exchanges in sorted(asked.items()))
            or "No gap to fill on these days."
        ),
        "unrecoverable_gaps": dg.MetadataValue.md(
            "\n".join(f"- {r.day} {r.exchange} {r.dataset} ({r.level}): {why}" for r, why in plan.unrecoverable)
            or "None."
        ),
    }


def build_raw_check(endpoint: Endpoint) -> dg.AssetChecksDefinition:
    @dg.asset_check(
        asset=raw_key(endpoint),
        name="raw_expectations",
        blocking=True,
        description="Great Expectations suite for this raw dataset on the run's days: schema, non-null keys, "
        "sides, sizes and prices > 0, timestamps inside the day, no duplicate events, plausible values.",
    )
    def _check(context: dg.AssetCheckExecutionContext, warehouse: WarehouseResource) -> dg.AssetCheckResult:
        days = partition_days(context)
        frame = warehouse.engine().read_days("raw", endpoint.table, "partition_date", days)
        report = validate(endpoint.table, frame, raw_suite(endpoint.dataset, days))
        return dg.AssetCheckResult(
            passed=report.success,
            severity=dg.AssetCheckSeverity.ERROR,
            metadata={
                "days": f"{days[0]}..{days[-1]}",
                "rows": report.rows,
                "evaluated_expectations": report.evaluated,
                "failed_expectations": len(report.failures),
                "failing_examples": dg.MetadataValue.md(report.markdown()),
            },
        )

    return _check


RAW_ASSETS = [build_raw_asset(e) for e in ENDPOINTS.values()]
RAW_CHECKS = [build_raw_check(e) for e in ENDPOINTS.values()]
