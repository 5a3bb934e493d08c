"""The project's Dagster event log (orchestration/instance_storage.py, named in dagster.yaml) stores
what Dagster's own SQLite storage stores, though it writes a step's partition events as one batch."""

from pathlib import Path

import dagster as dg
import pytest
from dagster._core.storage.tags import ASSET_PARTITION_RANGE_END_TAG, ASSET_PARTITION_RANGE_START_TAG

from orchestration.instance_storage import FastSqliteEventLogStorage

REPO = Path(__file__).resolve().parent.parent
DAYS = dg.DailyPartitionsDefinition(start_date="2024-01-01")
RANGE = ("2024-01-01", "2024-01-12")


@dg.asset(partitions_def=DAYS, backfill_policy=dg.BackfillPolicy.single_run())
def ranged(context: dg.AssetExecutionContext) -> dg.MaterializeResult:
    return dg.MaterializeResult(metadata={"days": len(context.partition_keys)})


@dg.asset_check(asset=ranged, blocking=True)
def ranged_is_fine() -> dg.AssetCheckResult:
    return dg.AssetCheckResult(passed=True)


def _project_instance(home: Path, monkeypatch: pytest.MonkeyPatch) -> dg.DagsterInstance:
    home.mkdir()
    monkeypatch.setenv("DAGSTER_HOME", str(home))  # where dagster.yaml puts the storages
    (home / "dagster.yaml").write_text((REPO / "orchestration" / "dagster.yaml").read_text())
    return dg.DagsterInstance.from_config(str(home))


def _stored(instance: dg.DagsterInstance) -> dict[str, object]:
    key = ranged.key
    for first, last in (RANGE, ("2024-01-05", "2024-01-06")):  # a second run overwrites the asset's row
        tags = {ASSET_PARTITION_RANGE_START_TAG: first, ASSET_PARTITION_RANGE_END_TAG: last}
        assert dg.materialize([ranged, ranged_is_fine], instance=instance, tags=tags).success
    record = instance.get_asset_records([key])[0].asset_entry
    latest = record.last_materialization_record
    assert latest is not None
    return {
        "partitions": sorted(instance.get_materialized_partitions(key)),
        "latest_partition": latest.event_log_entry.dagster_event.partition,
        "latest_is_that_partition_s_record": latest.storage_id
        == instance.fetch_materializations(
            dg.AssetRecordsFilter(key, asset_partitions=["2024-01-06"]), 1, ascending=False
        )
        .records[0]
        .storage_id,
        "latest_run_is_the_last": record.last_run_id == instance.get_runs(limit=1)[0].run_id,
        "records_of_one_day": len(
            instance.fetch_materializations(dg.AssetRecordsFilter(key, asset_partitions=["2024-01-05"]), 10).records
        ),
        "indexed_tags": sorted(name for tags in instance.get_event_tags_for_asset(key) for name in tags),
        "check_passed": instance.event_log_storage.get_latest_asset_check_execution_by_key([ranged_is_fine.check_key])[
            ranged_is_fine.check_key
        ].status.value,
    }


def test_the_event_log_stores_a_range_run_s_batch_as_dagster_s_own_storage_does(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    batches: list[int] = []
    store_batch = FastSqliteEventLogStorage.store_event_batch

    def counted(self: FastSqliteEventLogStorage, events: list) -> None:
        batches.append(len(events))
        store_batch(self, events)

    monkeypatch.setattr(FastSqliteEventLogStorage, "store_event_batch", counted)
    project = _project_instance(tmp_path / "project", monkeypatch)
    assert isinstance(project.event_log_storage, FastSqliteEventLogStorage)
    ours = _stored(project)
    (tmp_path / "dagster_own").mkdir()
    dagster_own = _stored(dg.DagsterInstance.local_temp(str(tmp_path / "dagster_own")))

    assert ours == dagster_own
    assert ours["partitions"] == [f"2024-01-{day:02d}" for day in range(1, 13)]
    assert ours["latest_partition"] == "2024-01-06" and ours["records_of_one_day"] == 2
    # The twelve days' materializations went in as one batch, not one by one.
    assert 12 in batches
