"""Binance's public data archive (data.binance.vision; docs/sources/binance-archive.md): years of
USDT-M ``metrics`` (open interest and the four long/short ratios, every 5 minutes) and hourly
``klines``, one zipped CSV per symbol and day, and ``fundingRate``, one per symbol and month, each
with a sha256 ``.zip.CHECKSUM`` beside it. No key, no rate limit of note.

Each zip is checked against its CHECKSUM before it is read; a file that fails it, or that does
not unzip, is one rejected row naming the file and the reason (both files stay in the landing
zone). A day whose file is not in the archive (it appears after the day, or the month, is over) is
unavailable; a month's file holds the whole month, and only the window's days are kept.
The CSV is read whole by Arrow's CSV reader; the hourly datasets take the reading at the top of
each hour, as the live endpoints' 1h period gives it (the 5-minute rows stay in the landing zip).
Kline and funding files may start with a header row or not: told by the first line.
The live endpoints of the same venue come first where both have an hour (int_* models).
"""

from __future__ import annotations

import csv
import hashlib
import io
import itertools
import zipfile
import zlib
from collections.abc import Callable, Iterator, Mapping
from datetime import date, datetime
from typing import Any

import pyarrow as pa
import pyarrow.compute as pc
import pyarrow.csv as pa_csv

from ingestion.http import Page
from ingestion.rows import (
    BulkUnfit,
    bulk_constants,
    bulk_ms_timestamps,
    bulk_numbers,
    bulk_required,
    bulk_without_suffix,
    floor_hour,
    ms_to_datetime,
)
from ingestion.schemas import CANDLES, FUNDING_RATES, LONG_SHORT_RATIOS, OPEN_INTEREST, Dataset
from ingestion.sources.base import (
    Absent,
    Endpoint,
    Fetch,
    FetchContext,
    Parse,
    ParseColumns,
    Rejected,
    Source,
    Window,
    in_flight,
    iter_records,
    rejected,
)
from ingestion.sources.binance import EXCHANGE, asset_of, symbol

NAME = "binance_archive"
METRICS_FILE = "/data/futures/um/daily/metrics/{symbol}/{symbol}-metrics-{day}.zip"
TIME_FORMAT = "%Y-%m-%d %H:%M:%S"
CHECKSUM_SUFFIX = ".CHECKSUM"
DAYS_IN_FLIGHT = 4  # the HTTP session keeps 8 connections per host
METRICS_FROM = date(2021, 12, 1)  # the first daily metrics file (docs/sources/binance-archive.md)
KLINES_FILE = "/data/futures/um/daily/klines/{symbol}/1h/{symbol}-1h-{day}.zip"
KLINES_FROM = date(2020, 1, 1)  # assumed, not verified: BTCUSDT futures klines reach back to 2019
KLINE_COLUMNS = (
    "open_time",
    "open",
    "high",
    "low",
    "close",
    "volume",
    "close_time",
    "quote_volume",
    "count",
    "taker_buy_volume",
    "taker_buy_quote_volume",
    "ignore",
)
FUNDING_FILE = "/data/futures/um/monthly/fundingRate/{symbol}/{symbol}-fundingRate-{month}.zip"
FUNDING_FROM = date(2020, 1, 1)  # assumed: public downloaders read BTCUSDT's months from 2020-01
FUNDING_COLUMNS = ("calc_time", "funding_interval_hours", "last_funding_rate")


def daily_files(template: str) -> Fetch:
    """Per day, each asset's CHECKSUM then its zip; the zip's page carries the expected hash. A
    day with a file missing is unavailable as a whole, naming the files. Days are fetched
    DAYS_IN_FLIGHT at a time and come out in order: the archive is a bucket of small static
    files, each a round trip away, and a bootstrap asks for tens of thousands of them."""

    def fetch(ctx: FetchContext, window: Window) -> Iterator[Page | Absent]:
        return in_flight(window.days, lambda day: _day_files(ctx, window, template, day), DAYS_IN_FLIGHT, "archive")

    return fetch


def monthly_files(template: str) -> Fetch:
    """Per month the window touches, each asset's CHECKSUM then its zip, a few months in flight.
    A month's file is published after the month ends: until then the window's days of that
    month are unavailable, naming the files (the live endpoint has them)."""

    def fetch(ctx: FetchContext, window: Window) -> Iterator[Page | Absent]:
        months = [list(days) for _, days in itertools.groupby(window.days, key=lambda day: (day.year, day.month))]
        return in_flight(months, lambda days: _month_files(ctx, window, template, days), DAYS_IN_FLIGHT, "archive")

    return fetch


def _day_files(ctx: FetchContext, window: Window, template: str, day: date) -> list[Page | Absent]:
    pages, missing = _asset_files(ctx, window, lambda sym: template.format(symbol=sym, day=day.isoformat()), day)
    if missing:
        return [Absent(day, f"not in the Binance archive (published after the day ends): {', '.join(missing)}")]
    return pages


def _month_files(ctx: FetchContext, window: Window, template: str, days: list[date]) -> list[Page | Absent]:
    month = days[0].strftime("%Y-%m")
    pages, missing = _asset_files(ctx, window, lambda sym: template.format(symbol=sym, month=month), days[0])
    if missing:
        reason = f"not in the Binance archive (published after the month ends): {', '.join(missing)}"
        return [Absent(day, reason) for day in days]
    return pages


def _asset_files(
    ctx: FetchContext, window: Window, path_of: Callable[[str], str], day: date
) -> tuple[list[Page | Absent], list[str]]:
    """Each asset's CHECKSUM and zip (whose page carries the expected hash; ``day``, the first
    of the window's days the file holds, files its rejects), and the names of those not there."""
    pages: list[Page | Absent] = []
    missing = []
    for asset in ctx.assets:
        path = path_of(symbol(asset))
        context = window.context(asset=asset, day=day.isoformat())
        # Published files never change, and the metrics file feeds two datasets: see SharedFiles.
        checksum = ctx.client.get(path + CHECKSUM_SUFFIX, {}, context, immutable=True)
        archive = None
        if checksum.status != 404:
            expected = {**context, "expected_sha256": _expected_sha256(checksum)}
            archive = ctx.client.get(path, {}, expected, immutable=True)
        if archive is None or archive.status == 404:
            missing.append(path.rsplit("/", 1)[-1])
            continue
        pages += [checksum, archive]
    return pages, missing


def _expected_sha256(page: Page) -> str:
    """The hash a ``sha256sum``-format CHECKSUM file gives (``<hex>  <file name>``)."""
    if not 200 <= page.status < 300:
        raise page.error(f"HTTP {page.status} for a CHECKSUM file: {page.body[:120]!r}")
    digest = page.body.decode("ascii", "replace").split(maxsplit=1)[:1]
    if not digest or len(digest[0]) != 64 or any(c not in "0123456789abcdef" for c in digest[0].lower()):
        raise page.error(f"CHECKSUM file holds no sha256: {page.body[:120]!r}")
    return digest[0].lower()


class UnreadableFile(ValueError):
    """A zip that fails its checksum or does not open: the file is rejected, not its rows."""


def _csv_bytes(page: Page) -> bytes:
    if not 200 <= page.status < 300:
        raise page.error(f"HTTP {page.status}: {page.body[:120]!r}")
    actual = hashlib.sha256(page.body).hexdigest()
    expected = page.context.get("expected_sha256")
    if actual != expected:
        raise UnreadableFile(f"checksum mismatch: the file's sha256 is {actual}, its CHECKSUM says {expected}")
    try:
        with zipfile.ZipFile(io.BytesIO(page.body)) as archive:
            names = archive.namelist()
            members = [m for m in names if m.endswith(".csv")]
            data = archive.read(members[0]) if len(members) == 1 else None
    # What a damaged or odd zip raises: a bad central directory or CRC, a cut deflate stream (zlib),
    # a negative offset (ValueError), an unknown compression method, an encrypted member.
    except (
        zipfile.BadZipFile,
        zipfile.LargeZipFile,
        zlib.error,
        EOFError,
        OSError,
        ValueError,
        NotImplementedError,
        RuntimeError,
    ) as exc:
        raise UnreadableFile(f"not a readable zip ({exc.__class__.__name__}: {exc})") from exc
    if data is None:
        raise UnreadableFile(f"the zip holds {len(members)} CSV files, not one: {names}")
    return data


def _is_checksum(page: Page) -> bool:
    return page.endpoint.endswith(CHECKSUM_SUFFIX)


def _file_rejected(page: Page, reason: str) -> dict[str, Any]:
    record = rejected(f"{page.endpoint.rsplit('/', 1)[-1]}: {reason}", page.endpoint)
    record["_day"] = date.fromisoformat(page.context["day"])
    return record


CsvRows = Callable[[str], Iterator[dict[str, str] | Rejected]]
RowBuilder = Callable[[dict[str, str]], dict[str, Any]]


def file_parse(rows: CsvRows, builder: Callable[[Page], RowBuilder]) -> Parse:
    """Per-row reader of an archive file: the checked CSV's ``rows``, each built by the page's
    ``builder``; a file that fails its checksum or does not unzip is one reject naming it."""

    def parse(page: Page) -> Iterator[dict[str, Any]]:
        if _is_checksum(page):
            return iter(())
        try:
            text = _csv_bytes(page).decode("utf-8")
        except (UnreadableFile, UnicodeDecodeError) as exc:
            return iter([_file_rejected(page, str(exc))])
        return iter_records(page, rows(text), builder(page))

    return parse


def _hourly_metrics_rows(text: str) -> Iterator[dict[str, str] | Rejected]:
    return (r for r in _csv_rows(text) if isinstance(r, Rejected) or _on_the_hour(r))


def _csv_rows(text: str, names: tuple[str, ...] | None = None) -> Iterator[dict[str, str] | Rejected]:
    """The file's rows by column name (the header's, or ``names`` for a file without one); a line
    the CSV reader cannot read is a reject of its own."""
    reader = csv.DictReader(io.StringIO(text), fieldnames=names)
    while True:
        try:
            row = next(reader)
        except StopIteration:
            return
        except csv.Error as exc:
            yield rejected(f"unreadable CSV line {reader.line_num}: {exc}", None)
            continue
        if None in row:  # cells beyond the header: kept under a name, so a reject can show them
            row["_cells_beyond_header"] = row.pop(None)
        yield row


def _on_the_hour(row: dict[str, str]) -> bool:
    """A row at the top of an hour, or one whose time does not read (the builder rejects it)."""
    try:
        moment = datetime.strptime(row["create_time"], TIME_FORMAT)
    except (KeyError, TypeError, ValueError):
        return True
    return moment.minute == 0 and moment.second == 0


def _metrics_builder(columns: Mapping[str, str]) -> RowBuilder:
    def build(row: dict[str, str]) -> dict[str, Any]:
        sym = row["symbol"]
        return {
            "exchange": EXCHANGE,
            "asset": asset_of(sym),
            "symbol": sym,
            "observed_at": datetime.strptime(row["create_time"], TIME_FORMAT),
            **{measure: row[column] or None for measure, column in columns.items()},
        }

    return build


def file_columns(read: Callable[[Page, bytes], pa.Table], dataset: Dataset) -> ParseColumns:
    """The whole file at once with Arrow's CSV reader (``read``: every column read as text, then
    cast); anything it cannot take whole goes to the per-row reader, which names each bad row."""

    def parse_columns(page: Page) -> pa.Table:
        if _is_checksum(page):
            return dataset.schema.empty_table()
        try:
            raw = _csv_bytes(page)
        except UnreadableFile as exc:
            raise BulkUnfit(str(exc)) from exc
        return read(page, raw)

    return parse_columns


def _metrics_reader(columns: Mapping[str, str]) -> Callable[[Page, bytes], pa.Table]:
    def read(page: Page, raw: bytes) -> pa.Table:
        wanted = ["create_time", "symbol", *columns.values()]
        table = pa_csv.read_csv(
            io.BytesIO(raw),
            convert_options=pa_csv.ConvertOptions(
                column_types=dict.fromkeys(wanted, pa.string()), include_columns=wanted, strings_can_be_null=True
            ),
        )
        moments = pc.strptime(table["create_time"], TIME_FORMAT, "us")  # raises on a time that does not read
        on_the_hour = pc.equal(pc.floor_temporal(moments, unit="hour"), moments)
        table = table.append_column("observed_at", moments).filter(pc.fill_null(on_the_hour, True))
        parsed = bulk_required(
            {
                "exchange": pa.repeat(EXCHANGE, table.num_rows),
                "asset": bulk_without_suffix(table["symbol"], "USDT"),
                "symbol": table["symbol"],
                "observed_at": table["observed_at"],
            }
        )
        for measure, column in columns.items():  # a ratio may be empty in a row: kept as NULL
            parsed = parsed.append_column(measure, bulk_numbers(table[column]))
        return parsed

    return read


def metrics_endpoint(name: str, dataset: Dataset, columns: Mapping[str, str], what: str) -> Endpoint:
    return Endpoint(
        NAME,
        name,
        dataset,
        daily_files(METRICS_FILE),
        file_parse(_hourly_metrics_rows, lambda _page: _metrics_builder(columns)),
        f"Binance data archive, daily `metrics` files (sha256-checked zipped CSV): {what}, at the top of each hour.",
        parse_columns=file_columns(_metrics_reader(columns), dataset),
        venues=(EXCHANGE,),
        history_from=METRICS_FROM,
    )


def _starts_with_header(text: str) -> bool:
    """Whether a file starts with its header row: newer kline files do, older ones start with a
    row of numbers. Told by the first cell, never by the file's date (the switch is undated)."""
    return not text[:1].isdigit()


def _known_rows(columns: tuple[str, ...]) -> CsvRows:
    """Rows by the header's names, or by ``columns`` for a file without a header."""
    return lambda text: _csv_rows(text, None if _starts_with_header(text) else columns)


def _read_known_csv(raw: bytes, columns: tuple[str, ...]) -> pa.Table:
    """A file of ``columns``, with or without their header, every cell as text. Any other header
    goes to the per-row reader, which names what is missing."""
    header = _starts_with_header(raw[:1].decode("ascii", "replace"))
    if header and raw.split(b"\n", 1)[0].strip() != ",".join(columns).encode():
        raise BulkUnfit("the header is not the known one")
    return pa_csv.read_csv(
        io.BytesIO(raw),
        read_options=pa_csv.ReadOptions(column_names=list(columns), skip_rows=1 if header else 0),
        convert_options=pa_csv.ConvertOptions(
            column_types=dict.fromkeys(columns, pa.string()), strings_can_be_null=True
        ),
    )


def _named_by_file(fields: Callable[[dict[str, str]], dict[str, Any]]) -> Callable[[Page], RowBuilder]:
    """A builder for files whose symbol is in their name (the page's asset), not in their rows."""

    def builder(page: Page) -> RowBuilder:
        asset = page.context["asset"]
        named = {"exchange": EXCHANGE, "asset": asset, "symbol": symbol(asset)}
        return lambda row: {**named, **fields(row)}

    return builder


def _named_by_file_columns(page: Page, rows: int) -> dict[str, pa.Array]:
    asset = page.context["asset"]
    return bulk_constants(rows, exchange=EXCHANGE, asset=asset, symbol=symbol(asset))


_kline_builder = _named_by_file(
    lambda row: {
        "open_time": ms_to_datetime(row["open_time"]),
        "interval_minutes": 60,
        "open": row["open"],
        "high": row["high"],
        "low": row["low"],
        "close": row["close"],
        "volume_coins": row["volume"],
    }
)


def _read_klines(page: Page, raw: bytes) -> pa.Table:
    table = _read_known_csv(raw, KLINE_COLUMNS)
    rows = table.num_rows
    return bulk_required(
        {
            **_named_by_file_columns(page, rows),
            "open_time": bulk_ms_timestamps(table["open_time"]),
            **bulk_constants(rows, interval_minutes=pa.scalar(60, pa.int32())),
            **{name: bulk_numbers(table[name]) for name in ("open", "high", "low", "close")},
            "volume_coins": bulk_numbers(table["volume"]),
        }
    )


def _funding_parse(page: Page) -> Iterator[dict[str, Any]]:
    """A month's settlements, those of the window's days only (the others are no error)."""
    window = Window.from_context(page.context)
    rows = _known_rows(FUNDING_COLUMNS)
    return file_parse(lambda text: (r for r in rows(text) if _in_window(r, window)), _funding_builder)(page)


def _in_window(row: dict[str, str] | Rejected, window: Window) -> bool:
    """A settlement of the window's days, or a row whose time does not read (the builder rejects it)."""
    if isinstance(row, Rejected):
        return True
    try:
        moment = ms_to_datetime(row["calc_time"])
    except (KeyError, ValueError):
        return True
    return moment is None or window.first <= moment.date() <= window.last


_funding_builder = _named_by_file(
    lambda row: {
        "funding_time": floor_hour(ms_to_datetime(row["calc_time"])),
        "funding_rate": row["last_funding_rate"],
        "interval_hours": row["funding_interval_hours"],
    }
)


def _read_funding(page: Page, raw: bytes) -> pa.Table:
    table = _read_known_csv(raw, FUNDING_COLUMNS)
    window = Window.from_context(page.context)
    settled = bulk_ms_timestamps(table["calc_time"])
    # a time that does not read stays, so that bulk_required sends the file to the per-row reader
    inside = pc.fill_null(window.holds(settled), True)
    table, settled = table.filter(inside), settled.filter(inside)
    return bulk_required(
        {
            **_named_by_file_columns(page, table.num_rows),
            "funding_time": pc.floor_temporal(settled, unit="hour"),
            "funding_rate": bulk_numbers(table["last_funding_rate"]),
            "interval_hours": bulk_numbers(table["funding_interval_hours"]),
        }
    )


SOURCE = Source(
    name=NAME,
    default_base_url="https://data.binance.vision",
    venues=(EXCHANGE,),
    endpoints=(
        metrics_endpoint(
            "open_interest",
            OPEN_INTEREST,
            {"open_interest_coins": "sum_open_interest", "open_interest_usd": "sum_open_interest_value"},
            "open interest in coins and USD",
        ),
        metrics_endpoint(
            "long_short_ratios",
            LONG_SHORT_RATIOS,
            {
                "account_ratio": "count_long_short_ratio",
                "top_account_ratio": "count_toptrader_long_short_ratio",
                "top_position_ratio": "sum_toptrader_long_short_ratio",
                "taker_buy_sell_ratio": "sum_taker_long_short_vol_ratio",
            },
            "the four long/short ratios",
        ),
        Endpoint(
            NAME,
            "klines",
            CANDLES,
            daily_files(KLINES_FILE),
            file_parse(_known_rows(KLINE_COLUMNS), _kline_builder),
            "Binance data archive, daily `klines` files of 1h candles (sha256-checked zipped CSV, with or without "
            "a header row): the reference price where the live API does not reach.",
            parse_columns=file_columns(_read_klines, CANDLES),
            venues=(EXCHANGE,),
            history_from=KLINES_FROM,
        ),
        Endpoint(
            NAME,
            "funding",
            FUNDING_RATES,
            monthly_files(FUNDING_FILE),
            _funding_parse,
            "Binance data archive, monthly `fundingRate` files (sha256-checked zipped CSV): settled funding, "
            "behind the live endpoint where both have a settlement.",
            parse_columns=file_columns(_read_funding, FUNDING_RATES),
            venues=(EXCHANGE,),
            history_from=FUNDING_FROM,
            whole_months=True,
        ),
    ),
)
