"""Measurement 1: liquidation events per second through the real ingestion path, beside DuckDB's
own JSON reader on the same files.

The events are Binance ``forceOrder`` websocket messages in the wire format the collector writes
(and the simulator serves): one compact JSON object per line in
``landing/collector/binance/<day>.ndjson``.
"""

from __future__ import annotations

import gc
import time
from dataclasses import dataclass
from datetime import UTC, date, datetime, timedelta
from pathlib import Path

import duckdb
import numpy as np

from ingestion.pipeline import replay
from ingestion.registry import ENDPOINTS
from storage import DuckDBEngine, Paths

ENDPOINT = ENDPOINTS["binance_liquidations"]
DAY_MS = 86_400_000
# asset: (typical price, price decimals, quantity decimals, typical quantity)
MARKETS = {
    "BTC": (95_000.0, 2, 3, 0.05),
    "ETH": (3_300.0, 2, 3, 1.5),
    "SOL": (180.0, 3, 2, 25.0),
    "XRP": (2.3, 4, 1, 2_000.0),
    "DOGE": (0.32, 6, 0, 15_000.0),
}
BANKRUPTCY_GAP = 0.0035  # the order price (bankruptcy) sits beyond the average fill, as on Binance


def write_tapes(landing: Path, events: int, n_days: int, last_day: date, seed: int = 6) -> list[date]:
    """``events`` forceOrder messages spread evenly over ``n_days`` days ending at ``last_day``."""
    rng = np.random.default_rng(seed)
    days = [last_day - timedelta(days=n_days - 1 - i) for i in range(n_days)]
    folder = landing / "collector" / "binance"
    folder.mkdir(parents=True, exist_ok=True)
    assets = list(MARKETS)
    per_day = [events // n_days + (1 if i < events % n_days else 0) for i in range(n_days)]
    for day, count in zip(days, per_day, strict=True):
        start = int(datetime(day.year, day.month, day.day, tzinfo=UTC).timestamp() * 1000)
        traded = np.sort(rng.integers(start, start + DAY_MS - 1_000, count))
        sent = np.minimum(traded + rng.integers(0, 900, count), start + DAY_MS - 1)
        which = rng.choice(len(assets), count, p=[0.35, 0.25, 0.15, 0.15, 0.10])
        longs = rng.random(count) < 0.6
        moves = rng.normal(0.0, 0.01, count)
        sizes = rng.lognormal(0.0, 1.0, count)
        lines = []
        for i in range(count):
            asset = assets[which[i]]
            price, price_dp, qty_dp, qty = MARKETS[asset]
            fill = price * (1.0 + moves[i])
            long = bool(longs[i])
            order_px = fill * (1 - BANKRUPTCY_GAP if long else 1 + BANKRUPTCY_GAP)
            q = f"{max(qty * sizes[i], 10.0**-qty_dp):.{qty_dp}f}"
            lines.append(
                f'{{"e":"forceOrder","E":{sent[i]},"o":{{"s":"{asset}USDT","S":"{"SELL" if long else "BUY"}",'
                f'"o":"LIMIT","f":"IOC","q":"{q}","p":"{order_px:.{price_dp}f}","ap":"{fill:.{price_dp}f}",'
                f'"X":"FILLED","l":"{q}","z":"{q}","T":{traded[i]}}}}}\n'
            )
        (folder / f"{day.isoformat()}.ndjson").write_text("".join(lines))
    return days


@dataclass
class IngestTiming:
    seconds: float
    parse_s: float  # replay: read tapes, parse, validate, build Arrow
    load_s: float  # replace_partitions: one transaction into raw.binance_liquidations
    rows: int
    rejected: int


def time_ingest(landing: Path, days: list[date], home: Path) -> IngestTiming:
    """The path the raw asset runs (``replay`` is ``ingest`` minus the download) into a fresh
    warehouse file."""
    gc.collect()
    start = time.perf_counter()
    report = replay(ENDPOINT, days, landing)
    parsed = time.perf_counter()
    DuckDBEngine(Paths(home)).replace_partitions(ENDPOINT.table, report.batch.table, report.batch.rejects, report.days)
    end = time.perf_counter()
    with duckdb.connect(str(Paths(home).warehouse), read_only=True) as con:
        rows = con.execute(f"SELECT count(*) FROM raw.{ENDPOINT.table}").fetchone()[0]
    return IngestTiming(end - start, parsed - start, end - parsed, rows, report.batch.rejected)


# Auto-detection cannot read this wire format (keys differing only in case: "e"/"E", "s"/"S"
# are one name to DuckDB), so the order object is read as JSON and its fields extracted by path.
READ_JSON_SQL = """
CREATE TABLE liquidations AS
WITH src AS (
    SELECT json_extract_string(o, ['$.s', '$.S', '$.ap', '$.z', '$.T']) AS f, filename
    FROM read_json(?, format = 'newline_delimited', columns = {'o': 'JSON'}, filename = true)
)
SELECT
    'binance' AS exchange,
    replace(f[1], 'USDT', '') AS asset,
    f[1] AS symbol,
    epoch_ms(CAST(f[5] AS BIGINT)) AS event_time,
    CASE f[2] WHEN 'SELL' THEN 'long' WHEN 'BUY' THEN 'short' END AS side,
    CAST(f[3] AS DOUBLE) AS price,
    CAST(f[4] AS DOUBLE) AS quantity,
    CAST(f[3] AS DOUBLE) * CAST(f[4] AS DOUBLE) AS usd_value,
    CAST(epoch_ms(CAST(f[5] AS BIGINT)) AS DATE) AS partition_date,
    filename AS payload_ref
FROM src
"""
READ_JSON_NOTE = (
    "DuckDB read_json(columns={'o': 'JSON'}) + json_extract_string of the order fields into a table of the raw "
    "table's columns (auto-detect rejects the wire format: keys differing only in case)"
)


def time_read_json(landing: Path, database: Path) -> tuple[float, int]:
    database.unlink(missing_ok=True)
    pattern = str(landing / "collector" / "binance" / "*.ndjson")
    gc.collect()
    start = time.perf_counter()  # connect and close (checkpoint) included, as in replace_partitions
    with duckdb.connect(str(database)) as con:
        con.execute(READ_JSON_SQL, [pattern])
    seconds = time.perf_counter() - start
    with duckdb.connect(str(database), read_only=True) as con:
        rows = con.execute("SELECT count(*) FROM liquidations").fetchone()[0]
    return seconds, rows
