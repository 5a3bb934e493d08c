from __future__ import annotations

from datetime import date, timedelta

import dagster as dg

from orchestration.settings import PARTITIONS_START

DAILY = dg.DailyPartitionsDefinition(start_date=PARTITIONS_START, timezone="UTC")
RANGE_START_TAG = "dagster/asset_partition_range_start"
RANGE_END_TAG = "dagster/asset_partition_range_end"
PARTITION_TAG = "dagster/partition"
# The daily schedule runs at 00:30 UTC for yesterday. The marts and the published copy are late
# when it has not rebuilt them by 02:30 UTC (a rebuild any time after midnight counts); the UI
# shows them as failing freshness until then.
DAILY_FRESHNESS = dg.FreshnessPolicy.cron(deadline_cron="30 2 * * *", lower_bound_delta=timedelta(hours=2, minutes=30))


def run_window_days(context: dg.AssetExecutionContext | dg.AssetCheckExecutionContext) -> list[date] | None:
    """Days of the run's partition window (one day, or a single-run backfill range), or None for
    a run that targets no partition. Read from the run's tags, so that the unpartitioned dbt and
    publish steps and the checks see the same window as the raw assets."""
    tags = context.run.tags
    if RANGE_START_TAG in tags:
        first, last = date.fromisoformat(tags[RANGE_START_TAG]), date.fromisoformat(tags[RANGE_END_TAG])
    elif PARTITION_TAG in tags:
        first = last = date.fromisoformat(tags[PARTITION_TAG])
    else:
        return None
    return [first + timedelta(days=i) for i in range((last - first).days + 1)]


def partition_days(context: dg.AssetExecutionContext | dg.AssetCheckExecutionContext) -> list[date]:
    days = run_window_days(context)
    if days is None:
        raise dg.DagsterInvariantViolationError("raw assets are materialized per daily partition or partition range")
    return days
