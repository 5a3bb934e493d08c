"""Turn parsed records into a typed Arrow table plus rejects-with-reasons.

Parsers yield plain dicts whose values may still be strings, numbers or garbage; this module is
the one place that converts them to the dataset's types and applies the row rules. A row either
lands in the accepted table or in the rejects with the reason; nothing is dropped silently.
"""

from __future__ import annotations

import json
import math
import re
import reprlib
from collections.abc import Callable, Iterable
from dataclasses import dataclass
from datetime import UTC, date, datetime, timedelta
from typing import Any

import pyarrow as pa
import pyarrow.compute as pc

from ingestion.schemas import LINEAGE_COLUMNS, REJECTS_SCHEMA, Check, Column, Dataset

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
        try:
            result = float(value)
        except OverflowError as exc:  # an int beyond any double, e.g. seconds 1e308 scaled to ms
            raise RowError(f"{reprlib.repr(value)} is out of range") from exc
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
        raise RowError(f"{type(value).__name__} {reprlib.repr(value)} is not a string")
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


def _check_message(check: Check, name: str, value: Any, day: date) -> str:
    if check is Check.REQUIRED:
        return f"{name} is missing"
    if check is Check.POSITIVE:
        return f"{name} must be > 0, got {value}"
    if check is Check.NON_NEGATIVE:
        return f"{name} must be >= 0, got {value}"
    if check is Check.IN_DAY:
        return f"{name} {value.isoformat()} is outside the partition day {day.isoformat()}"
    return f"{name} must be long or short, got {value!r}"


def _violations(check: Check, values: pa.Array, days: pa.Array) -> pa.Array:
    """Rows breaking ``check``, as a boolean array (a null value breaks only REQUIRED)."""
    if check is Check.REQUIRED:
        return pc.is_null(values)
    if check is Check.POSITIVE:
        broken = pc.less_equal(values, 0)
    elif check is Check.NON_NEGATIVE:
        broken = pc.less(values, 0)
    elif check is Check.IN_DAY:
        broken = pc.not_equal(pc.cast(values, pa.date32()), days)
    else:
        broken = pc.invert(pc.is_in(values, value_set=pa.array(["long", "short"])))
    return pc.fill_null(broken, False)


# Value types for which Arrow converts a whole column at once, per target type.
_FAST_TYPES: dict[str, frozenset[type]] = {
    "double": frozenset({float, int, type(None)}),
    "int32": frozenset({int, type(None)}),
    "timestamp[us]": frozenset({datetime, type(None)}),
    "date32[day]": frozenset({date, type(None)}),
}
_STRINGS = frozenset({str, type(None)})


def _convert_column(column: Column, raw: list[Any]) -> tuple[pa.Array, dict[int, str]]:
    """The column as one typed Arrow array, plus the rows whose value could not be converted (as
    nulls in the array). Whole-column conversion when the values' Python types allow it; the
    per-value converters otherwise (mixed or odd input is rare and gets the exact reason)."""
    kind = str(column.type)
    types = set(map(type, raw))
    try:
        if kind == "string" and types <= _STRINGS:
            strings = pa.array(raw, type=pa.string())
            return pc.if_else(pc.equal(strings, ""), pa.scalar(None, pa.string()), strings), {}
        if kind in _FAST_TYPES and types <= _FAST_TYPES[kind]:
            return _finite(pa.array(raw, type=column.type)), {}
        if kind == "double" and types <= _STRINGS:  # numbers sent as strings: Arrow parses exactly
            strings = pa.array(raw, type=pa.string())
            blank = pc.equal(strings, "")
            return _finite(pc.cast(pc.if_else(blank, pa.scalar(None, pa.string()), strings), pa.float64())), {}
    except (pa.ArrowInvalid, pa.ArrowTypeError, OverflowError):
        pass  # something in the column is not what it looks like: find it value by value
    convert = _CONVERTERS[kind]
    values: list[Any] = []
    errors: dict[int, str] = {}
    for index, value in enumerate(raw):
        try:
            values.append(convert(value))
        except (RowError, ValueError, TypeError) as exc:
            values.append(None)
            errors[index] = f"{column.name}: {exc}"
    return pa.array(values, type=column.type), errors


def _finite(values: pa.Array) -> pa.Array:
    if pa.types.is_floating(values.type) and not pc.all(pc.is_finite(pc.fill_null(values, 0.0))).as_py():
        raise pa.ArrowInvalid("non-finite value")  # NaN / Infinity: the per-value path names it
    return values


def _clipped(value: Any, depth: int = 32) -> Any:
    """``value`` with anything nested deeper than ``depth`` replaced by "...": orjson accepts 1024
    levels, ``json.dumps`` raises RecursionError well before that."""
    if isinstance(value, dict):
        return {k: _clipped(v, depth - 1) for k, v in value.items()} if depth else "..."
    if isinstance(value, list | tuple):
        return [_clipped(v, depth - 1) for v in value] if depth else "..."
    return value


class BulkUnfit(ValueError):
    """A payload the column-wise parser does not take whole (a line that is not JSON, a field of
    another type or missing): the endpoint's per-record parser reads it instead and gives every
    bad row its own reason."""


@dataclass(frozen=True)
class ColumnChunk:
    """One payload parsed column-wise: the dataset's columns, typed, with each row's day."""

    table: pa.Table
    days: pa.Array
    payload_ref: str


def raw_schema(dataset: Dataset) -> pa.Schema:
    """The columns of a raw table of ``dataset``: its own, then the lineage columns."""
    return pa.schema([(c.name, c.type) for c in dataset.columns + LINEAGE_COLUMNS])


def build_batch(
    dataset: Dataset,
    source_table: str,
    records: Iterable[tuple[dict[str, Any], date, str]],
    chunks: Iterable[ColumnChunk] = (),
) -> ParsedBatch:
    """records: (record, partition day, payload_ref), converted column by column; chunks: payloads
    already parsed to typed columns. Every column is checked as a whole Arrow array (no per-row
    inserts or per-row checks); a row that breaks a rule goes to the rejects with the first
    reason, in column order."""
    rows: list[dict[str, Any]] = []
    days: list[date] = []
    refs: list[str] = []
    rejects: dict[str, list[Any]] = {name: [] for name in REJECTS_SCHEMA.names}

    def reject(record: Any, day: date, ref: str, reason: str) -> None:
        rejects["source_table"].append(source_table)
        rejects["partition_date"].append(day)
        rejects["reason"].append(reason)
        rejects["record"].append(json.dumps(_clipped(record), default=str, sort_keys=True))
        rejects["payload_ref"].append(ref)

    for record, day, payload_ref in records:
        if not isinstance(record, dict):
            reject(record, day, payload_ref, f"record is {type(record).__name__}, not an object")
        elif "_reject" in record:
            reject(record, day, payload_ref, str(record["_reject"]))
        else:
            rows.append(record)
            days.append(day)
            refs.append(payload_ref)

    schema = raw_schema(dataset)
    reasons: list[str | None] = [None] * len(rows)
    arrays: dict[str, pa.Array] = {}
    for column in dataset.columns:
        values, errors = _convert_column(column, [r.get(column.name) for r in rows])
        for index, problem in errors.items():
            reasons[index] = problem
        arrays[column.name] = values
    arrays["partition_date"] = pa.array(days, type=pa.date32())
    arrays["payload_ref"] = pa.array(refs, type=pa.string())
    parts = [pa.Table.from_pydict(arrays, schema=schema)]
    for chunk in chunks:
        parts.append(
            chunk.table.append_column("partition_date", chunk.days).append_column(
                "payload_ref", pa.repeat(chunk.payload_ref, chunk.table.num_rows)
            )
        )
        reasons += [None] * chunk.table.num_rows
    table = pa.concat_tables([part.select(schema.names).cast(schema) for part in parts]).combine_chunks()
    day_of = table["partition_date"]
    for column in dataset.columns:
        values = table[column.name]
        for check in column.checks:
            broken = _violations(check, values, day_of)
            if pc.any(broken).as_py():
                for index in pc.indices_nonzero(broken).to_pylist():
                    if reasons[index] is None:
                        value, day = values[index].as_py(), day_of[index].as_py()
                        reasons[index] = _check_message(check, column.name, value, day)
    bad = [i for i, reason in enumerate(reasons) if reason is not None]
    if bad:
        for index in bad:
            record = rows[index] if index < len(rows) else _row(table, index, dataset)
            reject(record, day_of[index].as_py(), table["payload_ref"][index].as_py(), reasons[index] or "")
        table = table.filter(pa.array([reason is None for reason in reasons]))
    return ParsedBatch(table, pa.Table.from_pydict(rejects, schema=REJECTS_SCHEMA))


def _row(table: pa.Table, index: int, dataset: Dataset) -> dict[str, Any]:
    """A column-wise parsed row as a record (what a reject keeps of it)."""
    return table.select([c.name for c in dataset.columns]).slice(index, 1).to_pylist()[0]


# Column maps for the column-wise parsers: wire values to the dataset's types, whole arrays at a
# time; anything a map cannot convert exactly makes the payload BulkUnfit.


def _cast_numbers(values: pa.Array | pa.ChunkedArray, target: pa.DataType, what: str) -> pa.Array:
    """JSON numbers or numeric strings cast to ``target``. Arrow would also cast booleans (true -> 1);
    the per-record converters reject them, as they reject objects and lists, so a column of any
    other type, or a value that does not convert, is not taken whole."""
    kind = values.type
    if not (pa.types.is_integer(kind) or pa.types.is_floating(kind) or pa.types.is_string(kind)):
        raise BulkUnfit(f"{what} arrived as {kind}")
    try:
        return pc.cast(values, target)
    except (pa.ArrowInvalid, pa.ArrowNotImplementedError) as exc:
        raise BulkUnfit(f"not all {what}: {exc}") from exc


def bulk_strings(values: pa.Array | pa.ChunkedArray) -> pa.Array | pa.ChunkedArray:
    if not pa.types.is_string(values.type):
        raise BulkUnfit(f"a text field arrived as {values.type}")
    return values


def bulk_numbers(values: pa.Array | pa.ChunkedArray) -> pa.Array:
    """Numbers sent as JSON numbers or strings, as doubles (Arrow parses strings exactly)."""
    numbers = _cast_numbers(values, pa.float64(), "numbers")
    if not pc.all(pc.is_finite(pc.fill_null(numbers, 0.0))).as_py():
        raise BulkUnfit("a number is not finite")
    return numbers


def bulk_ms_timestamps(values: pa.Array | pa.ChunkedArray) -> pa.Array:
    """Epoch milliseconds (numbers or digit strings) as UTC timestamps, in the range ms_to_datetime takes."""
    millis = _cast_numbers(values, pa.int64(), "epoch milliseconds")
    if not pc.all(pc.and_(pc.greater(millis, 0), pc.less(millis, 4_102_444_800_000))).as_py():
        raise BulkUnfit("a timestamp is out of range")
    return pc.cast(pc.cast(millis, pa.timestamp("ms")), pa.timestamp("us"))


def bulk_constants(rows: int, **values: Any) -> dict[str, pa.Array]:
    """Columns holding one value on every row (what a page says once: its venue, asset, interval)."""
    return {name: pa.repeat(value, rows) for name, value in values.items()}


def bulk_s_timestamps(values: pa.Array | pa.ChunkedArray) -> pa.Array:
    """Epoch seconds (numbers or digit strings) as UTC timestamps, as s_to_datetime reads them."""
    return bulk_ms_timestamps(pc.multiply(_cast_numbers(values, pa.int64(), "epoch seconds"), 1000))


def bulk_unless_zero(values: pa.Array, fallback: pa.Array) -> pa.Array:
    """``values`` where set and not zero, else ``fallback`` (an average fill price of 0 means none yet)."""
    for column in (values, fallback):
        if not (pa.types.is_integer(column.type) or pa.types.is_floating(column.type)):
            raise BulkUnfit(f"a number arrived as {column.type}")
    return pc.if_else(pc.fill_null(pc.not_equal(values, 0), False), values, fallback)


def bulk_mapped(values: pa.Array | pa.ChunkedArray, mapping: dict[str, str]) -> pa.Array:
    """Values renamed by ``mapping``; others kept as they came (the side rule rejects them by name)."""
    position = pc.index_in(values, value_set=pa.array(list(mapping)))
    renamed = pc.take(pa.array(list(mapping.values())), position)
    return pc.coalesce(renamed, values)


def bulk_without_suffix(values: pa.Array | pa.ChunkedArray, suffix: str) -> pa.Array:
    return pc.replace_substring_regex(values, pattern=f"{re.escape(suffix)}$", replacement="")


def bulk_required(table: dict[str, pa.Array]) -> pa.Table:
    """The parsed columns as a table; a null in any of them makes the payload BulkUnfit, so that the
    per-record parser says which field of which row was missing."""
    for name, values in table.items():
        if values.null_count:
            raise BulkUnfit(f"{name} is missing in {values.null_count} row(s)")
    return pa.table(table)


def utc_day_bounds_ms(day: date) -> tuple[int, int]:
    """[start, end] of a UTC day in epoch ms, end inclusive (most APIs take inclusive ends)."""
    start = int(datetime(day.year, day.month, day.day, tzinfo=UTC).timestamp() * 1000)
    return start, start + 86_400_000 - 1
