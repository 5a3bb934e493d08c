"""Binance's data archive source against the simulator's archive over loopback: the real client,
checksums verified, bad files rejected with the reason and kept, a day not yet in the archive
unavailable, and the column-wise and per-row readers giving the same rows."""

from __future__ import annotations

import hashlib
from datetime import UTC, date, datetime
from pathlib import Path

import pytest

from ingestion.http import Page, SourceError
from ingestion.landing import read_archive
from ingestion.pipeline import archive_path, ingest
from ingestion.registry import ENDPOINTS, SOURCES_BY_NAME
from ingestion.simulator import Fault, Simulator
from ingestion.sources.base import FetchContext, Window

DAY = date(2026, 1, 15)
NOW = datetime(2026, 1, 20, tzinfo=UTC)
RATIOS = ENDPOINTS["binance_archive_long_short_ratios"]
OPEN_INTEREST = ENDPOINTS["binance_archive_open_interest"]


def _ingest(endpoint, landing: Path, days: list[date], faults: list[Fault] = (), assets=("BTC", "ETH")):
    with Simulator(seed=7, now=NOW, faults=faults) as sim:
        client = SOURCES_BY_NAME["binance_archive"].client(sim.base_url("binance_archive"), demo=False)
        return ingest(endpoint, FetchContext(client, assets), days, landing)


@pytest.mark.parametrize("endpoint", [RATIOS, OPEN_INTEREST], ids=lambda e: e.table)
def test_a_day_loads_the_hourly_readings_of_every_asset(endpoint, tmp_path: Path) -> None:
    report = _ingest(endpoint, tmp_path, [DAY])
    rows = report.batch.table
    assert report.batch.rejected == 0 and rows.num_rows == 2 * 24 and report.days == [DAY]
    assert {t.minute for t in rows["observed_at"].to_pylist()} == {0}
    measures = [c.name for c in endpoint.dataset.columns[4:]]
    assert all(rows[m].null_count == 0 and min(rows[m].to_pylist()) > 0 for m in measures)
    # Both files of each asset are in the landing zone as received; the zip replays to the same rows.
    pages = list(read_archive(archive_path(tmp_path, endpoint, Window(DAY, DAY))))
    assert [p.endpoint.rsplit(".", 1)[-1] for p in pages] == ["CHECKSUM", "zip"] * 2


def test_the_column_wise_reader_gives_the_rows_the_per_row_reader_gives(tmp_path: Path) -> None:
    report = _ingest(RATIOS, tmp_path, [DAY])
    pages = list(read_archive(archive_path(tmp_path, RATIOS, Window(DAY, DAY))))
    zipped = [p for p in pages if p.endpoint.endswith(".zip")]
    by_row = [r for p in zipped for r in RATIOS.parse(p)]
    by_column = [r for p in zipped for r in RATIOS.parse_columns(p).to_pylist()]
    assert by_row and len(by_row) == len(by_column) == report.batch.accepted
    for row, column in zip(by_row, by_column, strict=True):
        assert {k: float(v) if k.endswith("ratio") else v for k, v in row.items()} == column


@pytest.mark.parametrize(
    ("kind", "reason"),
    [("bad_checksum", "checksum mismatch: the file's sha256 is "), ("corrupt_zip", "checksum mismatch")],
)
def test_a_file_that_fails_its_checksum_is_rejected_with_the_reason_and_kept(
    kind: str, reason: str, tmp_path: Path
) -> None:
    report = _ingest(RATIOS, tmp_path, [DAY], [Fault(kind, "binance_archive", DAY.isoformat())])
    rejects = report.batch.rejects.to_pylist()
    assert len(rejects) == 1 and rejects[0]["partition_date"] == DAY
    assert rejects[0]["reason"].startswith(f"BTCUSDT-metrics-{DAY}.zip: {reason}"), rejects[0]["reason"]
    assert set(report.batch.table["asset"].to_pylist()) == {"ETH"}  # the other file of the day loads
    kept = [p for p in read_archive(archive_path(tmp_path, RATIOS, Window(DAY, DAY))) if "BTCUSDT" in p.endpoint]
    assert len(kept) == 2 and kept[1].body  # the bad zip itself, as received


def test_a_zip_that_matches_its_checksum_but_does_not_open_is_rejected(tmp_path: Path) -> None:
    """A file published broken (its CHECKSUM made from the broken bytes)."""
    report = _ingest(RATIOS, tmp_path, [DAY])
    pages = list(read_archive(archive_path(tmp_path, RATIOS, Window(DAY, DAY))))
    good = pages[1]
    cut = good.body[:100]
    context = {**good.context, "expected_sha256": hashlib.sha256(cut).hexdigest()}
    broken = Page(good.source, good.endpoint, good.params, 200, cut, context)
    records = list(RATIOS.parse(broken))
    assert len(records) == 1 and "not a readable zip (BadZipFile" in records[0]["_reject"]
    assert report.batch.accepted == 48


def test_a_day_missing_from_the_archive_is_unavailable_and_named(tmp_path: Path) -> None:
    later = date(2026, 1, 16)
    report = _ingest(RATIOS, tmp_path, [DAY, later], [Fault("missing_file", "binance_archive", DAY.isoformat())])
    assert report.skipped_days == [DAY] and report.days == [later]
    assert f"not in the Binance archive (published after the day ends): BTCUSDT-metrics-{DAY}.zip" in (
        report.skipped_reason or ""
    )
    assert report.batch.accepted == 48 and set(report.batch.table["partition_date"].to_pylist()) == {later}
    # The simulator's clock: the day that is not over yet is not published.
    today = _ingest(RATIOS, tmp_path / "today", [NOW.date()])
    assert today.skipped_days == [NOW.date()] and today.batch.accepted == 0


def test_a_checksum_file_without_a_hash_is_a_named_error(tmp_path: Path) -> None:
    from tests.test_live_mode import serve

    httpd = serve(lambda: b"<html><body>Access Denied</body></html>")
    try:
        client = SOURCES_BY_NAME["binance_archive"].client(f"http://127.0.0.1:{httpd.server_address[1]}", demo=True)
        with pytest.raises(SourceError, match=r"^binance_archive .*CHECKSUM file holds no sha256"):
            ingest(RATIOS, FetchContext(client, ("BTC",)), [DAY], tmp_path)
    finally:
        httpd.shutdown()
