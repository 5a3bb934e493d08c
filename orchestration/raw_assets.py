"""One daily-partitioned raw asset per registered source endpoint, each gated by a blocking
Great Expectations check. Built from the registry, so a new source needs no edit here."""

from collections.abc import Iterator
from datetime import UTC, date, datetime

import dagster as dg

from ingestion.catch_up import COVERAGE_DATASET, FillPlan, unavailable_rows
from ingestion.pipeline import IngestReport, outcome_table
from ingestion.registry import ENDPOINTS, endpoint_exchanges
from ingestion.sources.base import Endpoint
from orchestration import settings
from orchestration.catch_up import unavailable_outcomes, warehouse_fill_plan
from orchestration.partitions import DAILY, partition_days
from orchestration.preload import keep_out_of_collections
from orchestration.resources import MarketSourcesResource, WarehouseResource
from quality.suites import raw_suite
from quality.validate import QualityReport, validate, warm_up

OWNER = "team:levstress"


def raw_key(endpoint: Endpoint) -> dg.AssetKey:
    return dg.AssetKey(["raw", endpoint.table])


def _column_schema(endpoint: Endpoint) -> dg.TableSchema:
    return dg.TableSchema(
        columns=[dg.TableColumn(c.name, str(c.type), description=c.description) for c in endpoint.dataset.columns]
    )


def _filled_by(endpoint: Endpoint) -> list[dg.AssetKey]:
    """A catch-up endpoint runs after the endpoints whose gaps it fills, so that a day one of them
    could not fetch is filled in the same run."""
    if endpoint.fills is None:
        return []
    return [
        raw_key(e)
        for e in ENDPOINTS.values()
        if e.fills is None
        and e.coverage is not None
        and COVERAGE_DATASET[e.dataset.name] == endpoint.fills
        and set(endpoint_exchanges(e)) & endpoint.fill_exchanges
    ]


def build_raw_asset(endpoint: Endpoint) -> dg.AssetsDefinition:
    @dg.asset(
        key=raw_key(endpoint),
        deps=_filled_by(endpoint),
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
        # The raw checks after these steps validate with GX; its objects then live as long as the process.
        warm_up(on_ready=keep_out_of_collections)
        paths = warehouse.paths()
        fill = _fill_plan(context, endpoint, days, sources, warehouse) if endpoint.fills else None
        report = sources.ingest(endpoint, days, paths, fill.days(endpoint.table) if fill else None)
        outcomes = outcome_table(endpoint, report, datetime.now(UTC).replace(tzinfo=None))
        warehouse.engine().replace_partitions(
            endpoint.table, report.batch.table, report.batch.rejects, report.days, outcomes
        )
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
                "not_fetched": dg.MetadataValue.md(_not_fetched_markdown(report)),
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
    """What a catch-up endpoint is asked to fill on the run's days: the gaps the last build found,
    and the days this run could not fetch from the venues it fills for."""
    engine = warehouse.engine()
    unavailable = [
        (ENDPOINTS[table], day)
        for table, day, _ in unavailable_outcomes(engine, days)
        if raw_key(ENDPOINTS[table]) in _filled_by(endpoint)
    ]
    plan = warehouse_fill_plan(engine, days, sources.today(), unavailable_rows(unavailable, endpoint_exchanges))
    for row, reason in plan.unrecoverable:
        context.log.warning(f"{row.exchange} {row.dataset} on {row.day} is {row.level} and cannot be filled: {reason}")
    return plan


def _not_fetched_markdown(report: IngestReport) -> str:
    if not report.not_fetched:
        return "Every requested day was fetched."
    lines = ["| day | reason | attempts |", "|---|---|---|"]
    lines += [f"| {day} | {gap.reason} | {gap.attempts} |" for day, gap in sorted(report.not_fetched.items())]
    return "\n".join(lines)


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


RAW_CHECK_DESCRIPTION = (
    "Great Expectations suite for this raw dataset on the run's days: schema, non-null keys, sides, sizes and "
    "prices > 0, timestamps inside the day, no duplicate events, plausible values."
)
ENDPOINT_OF_KEY = {raw_key(e): e for e in ENDPOINTS.values()}


def build_raw_checks(endpoints: list[Endpoint], name: str) -> dg.AssetChecksDefinition:
    """One step validating the raw tables of ``endpoints``: one GX context, fetch outcomes read once."""

    @dg.multi_asset_check(
        name=name,
        specs=[
            dg.AssetCheckSpec("raw_expectations", asset=raw_key(e), blocking=True, description=RAW_CHECK_DESCRIPTION)
            for e in endpoints
        ],
        can_subset=True,
    )
    def _checks(context: dg.AssetCheckExecutionContext, warehouse: WarehouseResource) -> Iterator[dg.AssetCheckResult]:
        days = partition_days(context)
        engine = warehouse.engine()
        unavailable = unavailable_outcomes(engine, days)
        for check in sorted(context.selected_asset_check_keys, key=lambda k: k.asset_key.to_user_string()):
            endpoint = ENDPOINT_OF_KEY[check.asset_key]
            frame = engine.read_days("raw", endpoint.table, "partition_date", days)
            report = validate(endpoint.table, frame, raw_suite(endpoint.dataset, days))
            gaps = [(day, reason) for table, day, reason in unavailable if table == endpoint.table]
            yield _raw_check_result(check, days, report, gaps)

    return _checks


def _raw_check_result(
    check: dg.AssetCheckKey, days: list[date], report: QualityReport, gaps: list[tuple[date, str]]
) -> dg.AssetCheckResult:
    return dg.AssetCheckResult(
        asset_key=check.asset_key,
        check_name=check.name,
        # Bad data blocks (ERROR); a source that could not be had warns (WARN) and the run goes on.
        passed=report.success and not gaps,
        severity=dg.AssetCheckSeverity.ERROR if not report.success else dg.AssetCheckSeverity.WARN,
        description=_gaps_line(gaps) if report.success and gaps else None,
        metadata={
            "days": f"{days[0]}..{days[-1]}",
            "rows": report.rows,
            "evaluated_expectations": report.evaluated,
            "failed_expectations": len(report.failures),
            "failing_examples": dg.MetadataValue.md(report.markdown()),
            "unavailable_days": len(gaps),
            "unavailable": dg.MetadataValue.md(
                "\n".join(f"- {day}: {reason}" for day, reason in gaps) or "None: every day was fetched."
            ),
        },
    )


def _gaps_line(gaps: list[tuple[date, str]]) -> str:
    first, last = gaps[0][0], gaps[-1][0]
    span = str(first) if first == last else f"{len(gaps)} days {first}..{last}"
    return f"unavailable on {span}: {gaps[0][1]}"


RAW_ASSETS = [build_raw_asset(e) for e in ENDPOINTS.values()]
# The venues' tables in one step; a catch-up table runs after the tables it fills (it reads their
# outcomes), so it has a step of its own: one step for both would have to wait for itself.
RAW_CHECKS = [
    build_raw_checks([e for e in ENDPOINTS.values() if e.fills is None], "raw_expectations"),
    *(build_raw_checks([e], f"{e.table}_raw_expectations") for e in ENDPOINTS.values() if e.fills is not None),
]
