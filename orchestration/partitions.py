from __future__ import annotations

from datetime import date, timedelta

import dagster as dg

from orchestration.settings import PARTITIONS_START

DAILY = dg.DailyPartitionsDefinition(start_date=PARTITIONS_START, timezone="UTC")
RANGE_START_TAG = "dagster/asset_partition_range_start"
RANGE_END_TAG = "dagster/asset_partition_range_end"
PARTITION_TAG = "dagster/partition"


def run_window_days(context: dg.AssetExecutionContext | dg.AssetCheckExecutionContext) -> list[date]:
    """Days of the run's partition window. Checks have no partition context of their own, so
    both assets and checks read the run's tags (a single partition or a range)."""
    tags = context.run.tags
    if RANGE_START_TAG in tags:
        first, last = date.fromisoformat(tags[RANGE_START_TAG]), date.fromisoformat(tags[RANGE_END_TAG])
    elif PARTITION_TAG in tags:
        first = last = date.fromisoformat(tags[PARTITION_TAG])
    else:
        raise dg.DagsterInvariantViolationError("levstress assets run per daily partition or partition range")
    return [first + timedelta(days=i) for i in range((last - first).days + 1)]
