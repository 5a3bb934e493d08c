"""Binance's public data archive (data.binance.vision): one zipped CSV per symbol and day under
``/data/futures/um/daily/<type>/<SYMBOL>/`` or per symbol and month under ``.../monthly/...``,
each with a ``.zip.CHECKSUM`` (sha256sum format) beside it. Daily ``metrics`` and 1h ``klines``
and monthly ``fundingRate`` are simulated; kline files carry a header row from KLINE_HEADER_FROM
on and none before, as the real archive's newer and older files do. A file exists once its day
or month is over; a missing key answers S3's XML ``NoSuchKey``, as the real bucket does."""

from __future__ import annotations

import hashlib
import io
import re
import zipfile
from calendar import monthrange
from datetime import date
from functools import lru_cache

import numpy as np

from ingestion.simulator.bars import bars
from ingestion.simulator.catalog import ASSET_INDEX, EXCHANGE_INDEX, asset_from_symbol
from ingestion.simulator.timegrid import DAY_MS, HOUR_MS, ORIGIN_MS, STEP_MS, day_start_ms
from ingestion.simulator.venues.base import VenueApp
from ingestion.simulator.venues.binance import kline_rows, settle_jitter
from ingestion.simulator.wire import Request, Response, fixed, text_response

VENUE = EXCHANGE_INDEX["binance"]
FAULT_SYMBOL = "BTCUSDT"  # the file the archive faults (corrupt_zip, bad_checksum, missing_file) hit
FILE_PATH = re.compile(
    r"^/data/futures/um/daily/(?P<kind>metrics|klines)/(?P<symbol>[A-Z0-9]+)/(?:1h/)?"
    r"(?P=symbol)-(?P<name>metrics|1h)-(?P<day>\d{4}-\d{2}-\d{2})\.zip(?P<checksum>\.CHECKSUM)?$"
)
MONTHLY_PATH = re.compile(
    r"^/data/futures/um/monthly/(?P<kind>fundingRate)/(?P<symbol>[A-Z0-9]+)/"
    r"(?P=symbol)-(?P<name>fundingRate)-(?P<month>\d{4}-\d{2})\.zip(?P<checksum>\.CHECKSUM)?$"
)
FUNDING_HEADER = "calc_time,funding_interval_hours,last_funding_rate"
METRICS_HEADER = (
    "create_time,symbol,sum_open_interest,sum_open_interest_value,count_toptrader_long_short_ratio,"
    "sum_toptrader_long_short_ratio,count_long_short_ratio,sum_taker_long_short_vol_ratio"
)
KLINE_HEADER = (
    "open_time,open,high,low,close,volume,close_time,quote_volume,count,taker_buy_volume,taker_buy_quote_volume,ignore"
)
KLINE_HEADER_FROM = date(2025, 12, 1)  # the demo has files of both kinds (the real switch date is not known)
ZIP_TIME = (1980, 1, 1, 0, 0, 0)  # fixed member time: the same day always zips to the same bytes
# A file is asked for twice per endpoint (CHECKSUM, zip), and a metrics file by two endpoints:
# built once, it is served up to four times (a year of five symbols is ~20 MB of metrics zips).
CACHED_FILES = 2048
STEP_CLOCKS = tuple(f"{m // 60:02d}:{m % 60:02d}:00" for m in range(0, 24 * 60, STEP_MS // 60_000))


def _month_end(first: date) -> date:
    return first.replace(day=monthrange(first.year, first.month)[1])


class BinanceArchive(VenueApp):
    source = "binance_archive"

    def handle(self, req: Request) -> Response:
        match, span = self._file(req)
        if match is None or span is None:
            return self.not_found(req)
        symbol, (first, last) = match["symbol"], span
        asset = asset_from_symbol(symbol)
        faults = self.ctx.faults.data_faults(self.source, first) if symbol == FAULT_SYMBOL else ()
        if asset is None or not self._published(first, last) or "missing_file" in faults:
            return self.not_found(req)
        name = req.path.rsplit("/", 1)[-1].removesuffix(".CHECKSUM")
        archive = self._zip(match["kind"], symbol, ASSET_INDEX[asset], first, name)
        if match["checksum"]:
            digest = hashlib.sha256(b"another file" if "bad_checksum" in faults else archive).hexdigest()
            return text_response(f"{digest}  {name}\n", 200, "binary/octet-stream")
        if "corrupt_zip" in faults:  # cut short on the way: the CHECKSUM is the whole file's
            archive = archive[: len(archive) // 2]
        return Response(200, archive, "application/zip")

    def not_found(self, req: Request) -> Response:
        key = req.path.removeprefix("/")
        body = (
            '<?xml version="1.0" encoding="UTF-8"?>\n<Error><Code>NoSuchKey</Code>'
            f"<Message>The specified key does not exist.</Message><Key>{key}</Key></Error>"
        )
        return text_response(body, 404, "application/xml")

    def fault_day(self, req: Request) -> date | None:
        """A file's first day (a monthly file's faults are those of its month's first day)."""
        return span[0] if (span := self._file(req)[1]) else None

    @staticmethod
    def _file(req: Request) -> tuple[re.Match[str] | None, tuple[date, date] | None]:
        """The file asked for and the days it holds, or None for a key the archive never has."""
        if req.method != "GET":
            return None, None
        if daily := FILE_PATH.match(req.path):
            day = date.fromisoformat(daily["day"])
            return daily, (day, day) if (daily["kind"] == "klines") == (daily["name"] == "1h") else None
        if monthly := MONTHLY_PATH.match(req.path):
            first = date.fromisoformat(monthly["month"] + "-01")
            return monthly, (first, _month_end(first))
        return None, None

    def _published(self, first: date, last: date) -> bool:
        return day_start_ms(first) >= ORIGIN_MS and day_start_ms(last) + DAY_MS <= self.ctx.until_ms

    @lru_cache(maxsize=CACHED_FILES)  # noqa: B019 - one app per simulator process, alive as long as it
    def _zip(self, kind: str, symbol: str, asset: int, day: date, name: str) -> bytes:
        if kind == "metrics":
            csv = self._metrics_csv(symbol, asset, day)
        elif kind == "klines":
            csv = self._klines_csv(asset, day)
        else:
            csv = self._funding_csv(asset, day)
        buffer = io.BytesIO()
        member = zipfile.ZipInfo(name.removesuffix(".zip") + ".csv", ZIP_TIME)
        member.compress_type = zipfile.ZIP_DEFLATED
        with zipfile.ZipFile(buffer, "w") as archive:
            archive.writestr(member, csv)
        return buffer.getvalue()

    def _klines_csv(self, asset: int, day: date) -> str:
        """The day's 24 hourly candles, the same as the live /fapi/v1/klines serves."""
        opens = day_start_ms(day) + np.arange(DAY_MS // HOUR_MS, dtype=np.int64) * HOUR_MS
        rows = kline_rows(bars(self.ctx.market, VENUE, asset, opens, HOUR_MS, self.ctx.until_ms), HOUR_MS, asset)
        lines = [KLINE_HEADER] if day >= KLINE_HEADER_FROM else []
        lines += [",".join(str(cell) for cell in row) for row in rows]
        return "\n".join(lines) + "\n"

    def _funding_csv(self, asset: int, first: date) -> str:
        """The month's settlements, at the moments and rates the live /fapi/v1/fundingRate gives."""
        end_ms = day_start_ms(_month_end(first)) + DAY_MS - 1
        hours, rates = self.ctx.market.settled(VENUE, asset, day_start_ms(first), end_ms)
        stamps = hours + settle_jitter(hours // HOUR_MS, asset)
        lines = [f"{t},8,{fixed(r, 8)}" for t, r in zip(stamps.tolist(), rates.tolist(), strict=True)]
        return "\n".join([FUNDING_HEADER, *lines]) + "\n"

    def _metrics_csv(self, symbol: str, asset: int, day: date) -> str:
        """The day's 5-minute rows, the same series the live /futures/data endpoints serve (all
        values positive, so plain fixed-point formatting never writes "-0")."""
        times = day_start_ms(day) + np.arange(DAY_MS // STEP_MS, dtype=np.int64) * STEP_MS
        coins, usd = self.ctx.market.open_interest(VENUE, asset, times)
        ratios = self.ctx.market.long_short(VENUE, asset, times)
        columns = (
            [f"{day.isoformat()} {clock}" for clock in STEP_CLOCKS],
            [round(c, 3) for c in coins.tolist()],
            usd.tolist(),
            *(ratios[k].tolist() for k in ("top_account", "top_position", "account", "taker")),
        )
        row = f"%s,{symbol},%.8f,%.8f,%.4f,%.4f,%.4f,%.4f"
        return "\n".join([METRICS_HEADER, *(row % values for values in zip(*columns, strict=True))]) + "\n"
