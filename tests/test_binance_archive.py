"""Binance's data archive source against the simulator's archive over loopback: the real client,
checksums verified, bad files rejected with the reason and kept, a day not yet in the archive
unavailable, and the column-wise and per-row readers giving the same rows."""

from __future__ import annotations

import hashlib
import io
import zipfile
from collections import Counter
from datetime import UTC, date, datetime
from pathlib import Path

import pytest

from ingestion.http import Page, SharedFiles, SourceError
from ingestion.landing import read_archive
from ingestion.pipeline import archive_path, ingest, outcome_table
from ingestion.registry import ENDPOINTS, SOURCES_BY_NAME
from ingestion.rows import BulkUnfit
from ingestion.simulator import Fault, Simulator
from ingestion.sources.base import FetchContext, Window

DAY = date(2026, 1, 15)
NOW = datetime(2026, 1, 20, tzinfo=UTC)
RATIOS = ENDPOINTS["binance_archive_long_short_ratios"]
OPEN_INTEREST = ENDPOINTS["binance_archive_open_interest"]
KLINES = ENDPOINTS["binance_archive_klines"]
FUNDING = ENDPOINTS["binance_archive_funding"]
# The simulator's kline files have a header row from 2025-12-01 on (as the archive's newer files).
NO_HEADER_DAY, HEADER_DAY = date(2025, 11, 30), date(2025, 12, 1)


def _ingest(endpoint, landing: Path, days: list[date], faults: list[Fault] = (), assets=("BTC", "ETH")):
    with Simulator(seed=7, now=NOW, faults=faults) as sim:
        client = SOURCES_BY_NAME[endpoint.source].client(sim.base_url(endpoint.source), demo=False)
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


def test_the_two_metrics_datasets_fetch_each_published_file_once_and_load_as_if_each_fetched_it(
    tmp_path: Path,
) -> None:
    """Open interest and the ratios come from the same daily metrics file. In a run the second
    dataset takes the first's copy of each published file (SharedFiles); a file that was not there
    is asked for again. Rows, rejects, gaps and the landing archive are as if each fetched alone."""
    missing, later = DAY, date(2026, 1, 16)
    faults = [Fault("missing_file", "binance_archive", missing.isoformat())]
    alone = {e.table: _ingest(e, tmp_path / e.table, [missing, later], faults) for e in (OPEN_INTEREST, RATIOS)}
    shared, fetched = SharedFiles(), Counter()
    with Simulator(seed=7, now=NOW, faults=faults) as sim:
        for endpoint in (OPEN_INTEREST, RATIOS):
            client = SOURCES_BY_NAME["binance_archive"].client(
                sim.base_url("binance_archive"), demo=False, shared_files=shared
            )
            client.session.hooks["response"].append(lambda r, *_, **__: fetched.update([(r.url, r.status_code)]))
            report = ingest(endpoint, FetchContext(client, ("BTC", "ETH")), [missing, later], tmp_path / "run")
            expected = alone[endpoint.table]
            assert report.batch.table.equals(expected.batch.table) and report.batch.rejected == 0
            assert report.skipped_days == expected.skipped_days == [missing]
            assert report.skipped_reason == expected.skipped_reason
            ran, fetched_alone = (
                [
                    (p.endpoint, p.status, p.body)
                    for p in read_archive(archive_path(root, endpoint, Window(missing, later)))
                ]
                for root in (tmp_path / "run", tmp_path / endpoint.table)
            )
            assert ran == fetched_alone
    published = {url: n for (url, status), n in fetched.items() if status == 200}
    assert len(published) == 2 * 2 + 1 * 2  # both files of both assets on the later day, ETH's on the missing one
    assert set(published.values()) == {1}
    assert {n for (_, status), n in fetched.items() if status != 200} == {2}  # BTC's missing file, once each


def _zips(landing: Path, endpoint, days: list[date]) -> list[Page]:
    pages = read_archive(archive_path(landing, endpoint, Window(days[0], days[-1])))
    return [p for p in pages if p.endpoint.endswith(".zip")]


def _csv_text(page: Page) -> str:
    with zipfile.ZipFile(io.BytesIO(page.body)) as archive:
        return archive.read(archive.namelist()[0]).decode()


@pytest.mark.parametrize(
    ("endpoint", "days"),
    [(RATIOS, [DAY]), (KLINES, [NO_HEADER_DAY, HEADER_DAY]), (FUNDING, [date(2025, 11, 29), date(2025, 12, 2)])],
    ids=["metrics", "klines", "funding"],
)
def test_the_column_wise_reader_gives_the_rows_the_per_row_reader_gives(endpoint, days, tmp_path: Path) -> None:
    report = _ingest(endpoint, tmp_path, days)
    zipped = _zips(tmp_path, endpoint, days)
    by_row = [r for p in zipped for r in endpoint.parse(p)]
    by_column = [r for p in zipped for r in endpoint.parse_columns(p).to_pylist()]
    assert by_row and len(by_row) == len(by_column) == report.batch.accepted
    numbers = {c.name for c in endpoint.dataset.columns if str(c.type) == "double"}
    for row, column in zip(by_row, by_column, strict=True):
        assert {k: float(v) if k in numbers else v for k, v in row.items()} == column


def test_kline_files_with_and_without_a_header_give_the_live_api_candles(tmp_path: Path) -> None:
    days = [NO_HEADER_DAY, HEADER_DAY]
    report = _ingest(KLINES, tmp_path, days)
    first_lines = {
        date.fromisoformat(p.context["day"]): _csv_text(p).split("\n", 1)[0] for p in _zips(tmp_path, KLINES, days)
    }
    assert first_lines[HEADER_DAY].startswith("open_time,open,high,low,close,volume,")
    assert first_lines[NO_HEADER_DAY][:13].isdigit()  # the first candle's open time, in epoch ms
    assert report.batch.rejected == 0 and report.batch.accepted == 2 * 2 * 24
    live = _ingest(ENDPOINTS["binance_klines"], tmp_path / "live", days)
    key = ["symbol", "open_time"]
    candles = ["open", "high", "low", "close", "volume_coins"]
    assert (
        report.batch.table.sort_by([(k, "ascending") for k in key])
        .select(key + candles)
        .equals(live.batch.table.sort_by([(k, "ascending") for k in key]).select(key + candles))
    )


def test_a_kline_file_whose_header_changed_rejects_its_rows_naming_the_column(tmp_path: Path) -> None:
    """Schema drift in a file that passes its checksum: every row a reject, nothing guessed."""
    _ingest(KLINES, tmp_path, [HEADER_DAY], assets=("BTC",))
    good = _zips(tmp_path, KLINES, [HEADER_DAY])[0]
    buffer = io.BytesIO()
    with zipfile.ZipFile(buffer, "w") as archive:
        archive.writestr("BTCUSDT-1h.csv", _csv_text(good).replace("open_time,", "openTime,", 1))
    drifted = buffer.getvalue()
    context = {**good.context, "expected_sha256": hashlib.sha256(drifted).hexdigest()}
    page = Page(good.source, good.endpoint, good.params, 200, drifted, context)
    with pytest.raises(BulkUnfit):
        KLINES.parse_columns(page)
    records = list(KLINES.parse(page))
    assert len(records) == 24 and all("KeyError: 'open_time'" in r["_reject"] for r in records)


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


def test_a_month_of_funding_gives_the_window_s_settlements_as_the_live_api_does(tmp_path: Path) -> None:
    """A monthly file holds the whole month: the window's days are kept (none filed as rejects),
    equal to the live endpoint's settlements; a month not over yet is unavailable, named."""
    days = [date(2025, 12, 30), date(2025, 12, 31), date(2026, 1, 1)]
    report = _ingest(FUNDING, tmp_path, days)
    assert report.batch.rejected == 0 and report.days == days[:2] and report.skipped_days == days[2:]
    assert "published after the month ends): BTCUSDT-fundingRate-2026-01.zip" in (report.skipped_reason or "")
    assert report.batch.accepted == 2 * 2 * 3  # two days, two assets, three settlements each
    assert [p.endpoint.rsplit("/", 1)[-1] for p in _zips(tmp_path, FUNDING, days)] == [
        "BTCUSDT-fundingRate-2025-12.zip",
        "ETHUSDT-fundingRate-2025-12.zip",
    ]
    live = _ingest(ENDPOINTS["binance_funding"], tmp_path / "live", days[:2])
    key = ["symbol", "funding_time"]
    columns = [*key, "funding_rate", "interval_hours", "partition_date"]
    assert (
        report.batch.table.sort_by([(k, "ascending") for k in key])
        .select(columns)
        .equals(live.batch.table.sort_by([(k, "ascending") for k in key]).select(columns))
    )


def test_live_the_days_of_a_month_not_over_are_not_needed_not_unavailable(tmp_path: Path) -> None:
    """Live (``today`` known): the month's file cannot exist yet, so its days are not asked for and
    never retried; the month before still loads."""
    days = [date(2025, 12, 31), date(2026, 1, 1)]
    with Simulator(seed=7, now=NOW, faults=[]) as sim:
        client = SOURCES_BY_NAME["binance_archive"].client(sim.base_url("binance_archive"), demo=False)
        report = ingest(FUNDING, FetchContext(client, ("BTC",)), days, tmp_path, today=NOW.date())
    assert report.days == days[:1] and report.skipped_days == [] and report.batch.accepted == 3
    assert list(report.not_needed) == days[1:]
    assert "2026-01 is published after the month ends" in report.not_needed[days[1]]
    outcomes = outcome_table(FUNDING, report, NOW).to_pylist()
    assert [(o["partition_date"], o["status"]) for o in outcomes] == [(days[0], "fetched"), (days[1], "not_needed")]


def test_a_funding_file_that_fails_its_checksum_is_one_reject_filed_under_the_window_s_first_day_of_it(
    tmp_path: Path,
) -> None:
    days = [date(2025, 11, 20), date(2025, 11, 21)]
    month = Fault("bad_checksum", "binance_archive", "2025-11-01")  # a monthly file's faults: its first day
    report = _ingest(FUNDING, tmp_path, days, [month])
    rejects = report.batch.rejects.to_pylist()
    assert len(rejects) == 1 and rejects[0]["partition_date"] == days[0]
    assert rejects[0]["reason"].startswith("BTCUSDT-fundingRate-2025-11.zip: checksum mismatch")
    assert set(report.batch.table["asset"].to_pylist()) == {"ETH"}
