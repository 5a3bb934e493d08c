"""The engine seam's contract, held by both engines: how raw days land and are read back. The
Spark engine writes the Parquet lake dbt-spark reads; it needs no JVM for any of this."""

from __future__ import annotations

import subprocess
import sys
from collections.abc import Iterator
from datetime import date
from pathlib import Path

import pyarrow as pa
import pyarrow.parquet as pq
import pytest

from storage import DuckDBEngine, DuckDBSession, Engine, Paths, SparkEngine, WarehouseLocked

DAY_1, DAY_2 = date(2026, 1, 15), date(2026, 1, 16)
TABLE = "binance_funding"


def _rows(values: dict[date, list[float]]) -> pa.Table:
    days = [d for d, vs in values.items() for _ in vs]
    rates = [v for vs in values.values() for v in vs]
    return pa.table(
        {
            "symbol": pa.array(["BTCUSDT"] * len(rates)),
            "funding_time": pa.array([None] * len(rates), pa.timestamp("us")),
            "funding_rate": pa.array(rates, pa.float64()),
            "partition_date": pa.array(days, pa.date32()),
        }
    )


def _rejects(values: dict[date, list[str]]) -> pa.Table:
    days = [d for d, rs in values.items() for _ in rs]
    reasons = [r for rs in values.values() for r in rs]
    return pa.table(
        {
            "source_table": pa.array([TABLE] * len(reasons)),
            "reason": pa.array(reasons),
            "payload": pa.array(["{}"] * len(reasons)),
            "partition_date": pa.array(days, pa.date32()),
        }
    )


@pytest.fixture(params=["duckdb", "duckdb-session", "spark"])
def engine(request: pytest.FixtureRequest, tmp_path: Path) -> Iterator[Engine]:
    paths = Paths(tmp_path / "home")
    if request.param == "spark":
        yield SparkEngine(paths, tmp_path / "lake")
        return
    session = DuckDBSession(paths) if request.param == "duckdb-session" else None
    yield DuckDBEngine(paths, session=session)
    if session is not None:
        session.release()


def _rates(engine: Engine, days: list[date] | None) -> list[tuple[date, float]]:
    frame = engine.read_days("raw", TABLE, "partition_date", days)
    days_read = [d.date() for d in frame.partition_date]
    return sorted(zip(days_read, frame.funding_rate, strict=True))


def test_a_replaced_day_holds_only_the_new_rows_and_its_neighbour_is_untouched(engine: Engine) -> None:
    engine.replace_partitions(
        TABLE, _rows({DAY_1: [0.1, 0.2], DAY_2: [0.3]}), _rejects({DAY_1: ["bad"]}), [DAY_1, DAY_2]
    )
    engine.replace_partitions(TABLE, _rows({DAY_2: [0.4, 0.5]}), _rejects({}), [DAY_2])

    assert _rates(engine, None) == [(DAY_1, 0.1), (DAY_1, 0.2), (DAY_2, 0.4), (DAY_2, 0.5)]
    assert _rates(engine, [DAY_2]) == [(DAY_2, 0.4), (DAY_2, 0.5)]
    assert engine.row_counts([("raw", TABLE), ("raw", "never_written")]) == {("raw", TABLE): 4}
    assert engine.last_day("raw", TABLE, "partition_date") == DAY_2
    assert engine.last_day("raw", "never_written", "partition_date") is None
    assert engine.table_columns("raw")[TABLE] == {"symbol", "funding_time", "funding_rate", "partition_date"}
    rejects = engine.read_days("raw", "rejected_rows", "partition_date", None)
    assert list(rejects.reason) == ["bad"] and set(rejects.source_table) == {TABLE}


def test_a_day_fetched_empty_replaces_the_old_rows_with_none(engine: Engine) -> None:
    engine.replace_partitions(TABLE, _rows({DAY_1: [0.1], DAY_2: [0.2]}), _rejects({DAY_2: ["bad"]}), [DAY_1, DAY_2])
    engine.replace_partitions(TABLE, _rows({}), _rejects({}), [DAY_2])

    assert _rates(engine, None) == [(DAY_1, 0.1)]
    assert engine.read_days("raw", "rejected_rows", "partition_date", [DAY_2]).empty


def test_a_table_with_nothing_fetched_yet_exists_with_no_rows(engine: Engine) -> None:
    engine.replace_partitions(TABLE, _rows({}), _rejects({}), [])

    assert engine.read_days("raw", TABLE, "partition_date", None).empty
    assert TABLE in engine.table_columns("raw")
    assert engine.last_day("raw", TABLE, "partition_date") is None


def test_a_table_no_run_ever_selected_is_created_empty_and_a_written_one_is_left_alone(engine: Engine) -> None:
    engine.replace_partitions(TABLE, _rows({DAY_1: [0.1]}), _rejects({}), [DAY_1])
    never = pa.schema([("exchange", pa.string()), ("event_time", pa.timestamp("us")), ("partition_date", pa.date32())])

    engine.ensure_tables({TABLE: _rows({}).schema, "never_selected": never})

    assert _rates(engine, None) == [(DAY_1, 0.1)]
    assert engine.read_days("raw", "never_selected", "partition_date", None).empty
    assert engine.table_columns("raw")["never_selected"] == {"exchange", "event_time", "partition_date"}


def _write_from_another_process(paths: Paths) -> subprocess.CompletedProcess:
    script = (
        "import duckdb, sys; con = duckdb.connect(sys.argv[1]); "
        "con.execute('CREATE TABLE raw.from_dbt AS SELECT 42 AS answer'); con.close()"
    )
    return subprocess.run([sys.executable, "-c", script, str(paths.warehouse)], capture_output=True, text=True)


def test_a_run_s_session_keeps_the_warehouse_until_released_then_sees_what_another_process_wrote(
    tmp_path: Path,
) -> None:
    """A run's steps share one connection (and the writer lock); dbt's process can open the file
    only once the run has released it, and the next step reopens it and reads dbt's tables."""
    paths = Paths(tmp_path / "home")
    session = DuckDBSession(paths)
    engine = DuckDBEngine(paths, session=session)
    try:
        engine.replace_partitions(TABLE, _rows({DAY_1: [0.1]}), _rejects({}), [DAY_1])
        with pytest.raises(WarehouseLocked), DuckDBEngine(paths, lock_timeout_s=0.2).connect():
            pass
        held = _write_from_another_process(paths)
        assert held.returncode != 0 and "lock" in held.stderr.lower(), held.stderr[-2000:]

        session.release()
        written = _write_from_another_process(paths)
        assert written.returncode == 0, written.stderr[-2000:]

        assert engine.row_counts([("raw", "from_dbt"), ("raw", TABLE)]) == {("raw", "from_dbt"): 1, ("raw", TABLE): 1}
    finally:
        session.release()


def test_the_spark_lake_is_one_hive_folder_per_day_with_no_leftovers(tmp_path: Path) -> None:
    engine = SparkEngine(Paths(tmp_path / "home"), tmp_path / "lake")
    engine.replace_partitions(TABLE, _rows({DAY_1: [0.1], DAY_2: [0.2]}), _rejects({DAY_1: ["bad"]}), [DAY_1, DAY_2])
    engine.replace_partitions(TABLE, _rows({DAY_1: [0.9]}), _rejects({}), [DAY_1])

    table = tmp_path / "lake" / "raw" / TABLE
    assert sorted(p.name for p in table.iterdir()) == ["partition_date=2026-01-15", "partition_date=2026-01-16"]
    day = pq.read_table(table / "partition_date=2026-01-15")
    assert day.column("funding_rate").to_pylist() == [0.9]
    assert "partition_date" not in day.column_names  # the folder carries it, as Spark expects
    rejects = tmp_path / "lake" / "raw" / "rejected_rows" / f"source_table={TABLE}"
    assert sorted(p.name for p in rejects.iterdir()) == ["partition_date=2026-01-15", "partition_date=2026-01-16"]
    assert pq.read_table(rejects / "partition_date=2026-01-15").num_rows == 0


def test_the_lake_is_a_path_and_an_object_store_uri_is_refused_by_name(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    from orchestration.settings import lake_path

    monkeypatch.delenv("LEVSTRESS_LAKE_URI", raising=False)
    assert lake_path(tmp_path) == tmp_path / "lake"
    monkeypatch.setenv("LEVSTRESS_LAKE_URI", f"file://{tmp_path}/shared")
    assert lake_path(tmp_path) == tmp_path / "shared"
    monkeypatch.setenv("LEVSTRESS_LAKE_URI", "s3a://bucket/lake")
    with pytest.raises(ValueError, match="s3a:// URI"):
        lake_path(tmp_path)
