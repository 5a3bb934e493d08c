"""Turn parsed records into a typed Arrow table plus rejects-with-reasons.

Parsers yield plain dicts whose values may still be strings, numbers or garbage; this module is
the one place that converts them to the dataset's types and applies the row rules. A row either
lands in the accepted table or in the rejects with the reason; nothing is dropped silently.
"""

from __future__ import annotations

import json
import math
from collections.abc import Callable, Iterable
from dataclasses import dataclass
from datetime import UTC, date, datetime, timedelta
from typing import Any

import pyarrow as pa

from ingestion.schemas import LINEAGE_COLUMNS, REJECTS_SCHEMA, Check, Dataset

EPOCH = datetime(1970, 1, 1)


class RowError(ValueError):
    pass


def to_float(value: Any) -> float | None:
    """Numbers arrive as JSON numbers or as strings ("0.00010000"). ``float(str)`` is correctly
    rounded (the nearest double, as via ``Decimal``), so strings parse exactly and fast."""
    if value is None or value == "":
        return None
    if isinstance(value, bool):
        raise RowError(f"boolean {value!r} is not a number")
    if isinstance(value, int | float):
        result = float(value)
    elif isinstance(value, str):
        try:
            result = float(value)
        except ValueError as exc:
            raise RowError(f"{value[:40]!r} is not a number") from exc
    else:
        raise RowError(f"{type(value).__name__} is not a number")
    if not math.isfinite(result):
        raise RowError(f"{value!r} is not finite")
    return result


def to_int(value: Any) -> int | None:
    number = to_float(value)
    if number is None:
        return None
    if number != int(number):
        raise RowError(f"{value!r} is not an integer")
    return int(number)


def ms_to_datetime(value: Any) -> datetime | None:
    millis = to_int(value)
    if millis is None:
        return None
    if not 0 < millis < 4_102_444_800_000:  # 2100-01-01
        raise RowError(f"timestamp {value!r} out of range")
    return EPOCH + timedelta(milliseconds=millis)


def s_to_datetime(value: Any) -> datetime | None:
    seconds = to_int(value)
    return None if seconds is None else ms_to_datetime(seconds * 1000)


def floor_hour(moment: datetime | None) -> datetime | None:
    return None if moment is None else moment.replace(minute=0, second=0, microsecond=0)


def to_str(value: Any) -> str | None:
    if value is None or value == "":
        return None
    if not isinstance(value, str):
        raise RowError(f"{type(value).__name__} {value!r} is not a string")
    return value


def _to_datetime(value: Any) -> datetime | None:
    if value is None or isinstance(value, datetime):
        return value
    raise RowError(f"{value!r} is not a timestamp")


_CONVERTERS: dict[str, Callable[[Any], Any]] = {
    "string": to_str,
    "double": to_float,
    "int32": to_int,
    "timestamp[us]": _to_datetime,
    "date32[day]": lambda v: v if v is None or isinstance(v, date) else date.fromisoformat(v),
}


@dataclass
class ParsedBatch:
    """Accepted rows (typed, with lineage columns) and rejects for one raw table."""

    table: pa.Table
    rejects: pa.Table

    @property
    def accepted(self) -> int:
        return self.table.num_rows

    @property
    def rejected(self) -> int:
        return self.rejects.num_rows


def _check(check: Check, name: str, value: Any, day: date) -> str | None:
    if check is Check.REQUIRED and value is None:
        return f"{name} is missing"
    if value is None:
        return None
    if check is Check.POSITIVE and value <= 0:
        return f"{name} must be > 0, got {value}"
    if check is Check.NON_NEGATIVE and value < 0:
        return f"{name} must be >= 0, got {value}"
    if check is Check.IN_DAY and value.date() != day:
        return f"{name} {value.isoformat()} is outside the partition day {day.isoformat()}"
    if check is Check.SIDE and value not in ("long", "short"):
        return f"{name} must be long or short, got {value!r}"
    return None


def build_batch(
    dataset: Dataset,
    source_table: str,
    records: Iterable[tuple[dict[str, Any], date, str]],
) -> ParsedBatch:
    """records: (record, partition day, payload_ref). Converts column-wise into Python lists, then
    builds the Arrow table in one call per column (no per-row inserts anywhere)."""
    columns = dataset.columns + LINEAGE_COLUMNS
    converters = [(c, _CONVERTERS[str(c.type)]) for c in dataset.columns]
    values: dict[str, list[Any]] = {c.name: [] for c in columns}
    rejects: dict[str, list[Any]] = {name: [] for name in REJECTS_SCHEMA.names}
    for record, day, payload_ref in records:
        row, reason = _convert(record, converters, day)
        if reason is None:
            for name, value in row.items():
                values[name].append(value)
            values["partition_date"].append(day)
            values["payload_ref"].append(payload_ref)
        else:
            rejects["source_table"].append(source_table)
            rejects["partition_date"].append(day)
            rejects["reason"].append(reason)
            rejects["record"].append(json.dumps(record, default=str, sort_keys=True))
            rejects["payload_ref"].append(payload_ref)
    schema = pa.schema([(c.name, c.type) for c in columns])
    table = pa.Table.from_pydict(values, schema=schema)
    return ParsedBatch(table, pa.Table.from_pydict(rejects, schema=REJECTS_SCHEMA))


def _convert(record: dict[str, Any], converters: list, day: date) -> tuple[dict[str, Any], str | None]:
    if not isinstance(record, dict):
        return {}, f"record is {type(record).__name__}, not an object"
    if "_reject" in record:
        return {}, str(record["_reject"])
    row: dict[str, Any] = {}
    for column, convert in converters:
        try:
            value = convert(record.get(column.name))
        except (RowError, ValueError, TypeError) as exc:
            return {}, f"{column.name}: {exc}"
        for check in column.checks:
            problem = _check(check, column.name, value, day)
            if problem:
                return {}, problem
        row[column.name] = value
    return row, None


def utc_day_bounds_ms(day: date) -> tuple[int, int]:
    """[start, end] of a UTC day in epoch ms, end inclusive (most APIs take inclusive ends)."""
    start = int(datetime(day.year, day.month, day.day, tzinfo=UTC).timestamp() * 1000)
    return start, start + 86_400_000 - 1
