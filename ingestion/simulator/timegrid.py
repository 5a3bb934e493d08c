"""The simulator's fixed time grid.

Every series is precomputed on one grid that starts at a fixed origin, so the value of any
moment never depends on which window a request asks for.
"""

from __future__ import annotations

from datetime import UTC, date, datetime

ORIGIN = datetime(2022, 10, 1, tzinfo=UTC)  # a month before FTX: the demo's years of history
# The story's present: the series from here on draw from the seed's first random stream, the years
# before it from a stream of their own (ingestion/simulator/streams.py), so history added before
# the present never changes it.
PRESENT = datetime(2025, 6, 1, tzinfo=UTC)
HORIZON = datetime(2028, 1, 1, tzinfo=UTC)  # exclusive: the last simulated day is 2027-12-31

SECOND_MS = 1_000
MINUTE_MS = 60_000
STEP_MS = 5 * MINUTE_MS  # base resolution of prices, volumes and liquidation intensity
HOUR_MS = 3_600_000
DAY_MS = 86_400_000
STEPS_PER_HOUR = HOUR_MS // STEP_MS
STEPS_PER_DAY = DAY_MS // STEP_MS


def to_ms(moment: datetime) -> int:
    return int(moment.timestamp() * 1000)


ORIGIN_MS = to_ms(ORIGIN)
HORIZON_MS = to_ms(HORIZON)
N_STEPS = (HORIZON_MS - ORIGIN_MS) // STEP_MS
N_HOURS = (HORIZON_MS - ORIGIN_MS) // HOUR_MS
N_DAYS = (HORIZON_MS - ORIGIN_MS) // DAY_MS
PRESENT_MS = to_ms(PRESENT)
PAST_STEPS = (PRESENT_MS - ORIGIN_MS) // STEP_MS
PAST_HOURS = (PRESENT_MS - ORIGIN_MS) // HOUR_MS
PAST_DAYS = (PRESENT_MS - ORIGIN_MS) // DAY_MS


def parse_ts(text: str) -> int:
    """'2025-10-10T21:20' (UTC) -> epoch ms; the story tables are written this way."""
    return to_ms(datetime.fromisoformat(text).replace(tzinfo=UTC))


def day_start_ms(day: date) -> int:
    return to_ms(datetime(day.year, day.month, day.day, tzinfo=UTC))


def ms_to_day(ms: int) -> date:
    return datetime.fromtimestamp(ms / 1000, tz=UTC).date()


def day_index(day: date) -> int:
    return (day - ORIGIN.date()).days


def floor_to(ms: int, period_ms: int, offset_ms: int = 0) -> int:
    """Start of the period containing ``ms``; ``offset_ms`` shifts the alignment (OKX's UTC+8 bars)."""
    return (ms + offset_ms) // period_ms * period_ms - offset_ms


def ceil_to(ms: int, period_ms: int, offset_ms: int = 0) -> int:
    return -((-(ms + offset_ms)) // period_ms) * period_ms - offset_ms
