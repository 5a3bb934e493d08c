"""Binance's public data archive (data.binance.vision): one zipped CSV per symbol and day under
``/data/futures/um/daily/<type>/<SYMBOL>/``, each with a ``.zip.CHECKSUM`` (sha256sum format)
beside it. Only ``metrics`` is simulated. A day's file exists once the day is over; a missing
key answers S3's XML ``NoSuchKey``, as the real bucket does."""

from __future__ import annotations

import hashlib
import io
import re
import zipfile
from datetime import UTC, date, datetime

import numpy as np

from ingestion.simulator.catalog import ASSET_INDEX, EXCHANGE_INDEX, asset_from_symbol
from ingestion.simulator.timegrid import DAY_MS, ORIGIN_MS, STEP_MS, day_start_ms
from ingestion.simulator.venues.base import VenueApp
from ingestion.simulator.wire import Request, Response, fixed, text_response

VENUE = EXCHANGE_INDEX["binance"]
FAULT_SYMBOL = "BTCUSDT"  # the file the archive faults (corrupt_zip, bad_checksum, missing_file) hit
METRICS_PATH = re.compile(
    r"^/data/futures/um/daily/metrics/(?P<symbol>[A-Z0-9]+)/(?P=symbol)-metrics-(?P<day>\d{4}-\d{2}-\d{2})"
    r"\.zip(?P<checksum>\.CHECKSUM)?$"
)
METRICS_HEADER = (
    "create_time,symbol,sum_open_interest,sum_open_interest_value,count_toptrader_long_short_ratio,"
    "sum_toptrader_long_short_ratio,count_long_short_ratio,sum_taker_long_short_vol_ratio"
)
ZIP_TIME = (1980, 1, 1, 0, 0, 0)  # fixed member time: the same day always zips to the same bytes


class BinanceArchive(VenueApp):
    source = "binance_archive"

    def handle(self, req: Request) -> Response:
        match = METRICS_PATH.match(req.path) if req.method == "GET" else None
        if match is None:
            return self.not_found(req)
        symbol, day = match["symbol"], date.fromisoformat(match["day"])
        asset = asset_from_symbol(symbol)
        faults = self.ctx.faults.data_faults(self.source, day) if symbol == FAULT_SYMBOL else ()
        if asset is None or not self._published(day) or "missing_file" in faults:
            return self.not_found(req)
        name = f"{symbol}-metrics-{day.isoformat()}.zip"
        archive = self._metrics_zip(symbol, ASSET_INDEX[asset], day, name)
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
        match = METRICS_PATH.match(req.path)
        return date.fromisoformat(match["day"]) if match else None

    def _published(self, day: date) -> bool:
        start = day_start_ms(day)
        return start >= ORIGIN_MS and start + DAY_MS <= self.ctx.until_ms

    def _metrics_zip(self, symbol: str, asset: int, day: date, name: str) -> bytes:
        buffer = io.BytesIO()
        member = zipfile.ZipInfo(name.removesuffix(".zip") + ".csv", ZIP_TIME)
        member.compress_type = zipfile.ZIP_DEFLATED
        with zipfile.ZipFile(buffer, "w") as archive:
            archive.writestr(member, self._metrics_csv(symbol, asset, day))
        return buffer.getvalue()

    def _metrics_csv(self, symbol: str, asset: int, day: date) -> str:
        """The day's 5-minute rows, the same series the live /futures/data endpoints serve."""
        times = day_start_ms(day) + np.arange(DAY_MS // STEP_MS, dtype=np.int64) * STEP_MS
        coins, usd = self.ctx.market.open_interest(VENUE, asset, times)
        ratios = self.ctx.market.long_short(VENUE, asset, times)
        lines = [METRICS_HEADER]
        for i, t in enumerate(times):
            moment = datetime.fromtimestamp(int(t) / 1000, tz=UTC).strftime("%Y-%m-%d %H:%M:%S")
            values = (
                fixed(round(float(coins[i]), 3), 8),
                fixed(float(usd[i]), 8),
                *(fixed(float(ratios[k][i]), 4) for k in ("top_account", "top_position", "account", "taker")),
            )
            lines.append(",".join((moment, symbol, *values)))
        return "\n".join(lines) + "\n"
