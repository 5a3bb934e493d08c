"""Where a Dagster run's time went: each step's duration and the time between steps, from the
run's event log in ``$DAGSTER_HOME``.

``python -m bench.steps`` (the latest run) or ``python -m bench.steps <run id>``.
"""

from __future__ import annotations

import sys
from collections import defaultdict

import dagster as dg


def step_times(instance: dg.DagsterInstance, run_id: str) -> tuple[list[tuple[str, float, float]], float, float]:
    """(step, start offset, duration) per step in start order, the run's wall time in the event
    log, and the time no step was running (Dagster's own work between steps)."""
    records = instance.get_records_for_run(run_id).records
    events = [r.event_log_entry for r in records]
    stamps: dict[str, dict[str, float]] = defaultdict(dict)
    for event in events:
        if event.step_key and event.dagster_event:
            kind = event.dagster_event.event_type_value
            if kind == "STEP_START":
                stamps[event.step_key]["start"] = event.timestamp
            elif kind in ("STEP_SUCCESS", "STEP_FAILURE", "STEP_SKIPPED"):
                stamps[event.step_key]["end"] = event.timestamp
    first, last = events[0].timestamp, events[-1].timestamp
    steps = sorted(
        ((key, s["start"] - first, s["end"] - s["start"]) for key, s in stamps.items() if {"start", "end"} <= s.keys()),
        key=lambda step: step[1],
    )
    busy = sum(duration for _, _, duration in steps)
    return steps, last - first, last - first - busy


def main(argv: list[str]) -> int:
    instance = dg.DagsterInstance.get()
    run_id = argv[0] if argv else instance.get_runs(limit=1)[0].run_id
    steps, wall, between = step_times(instance, run_id)
    for key, start, duration in steps:
        print(f"{start:7.2f} {duration:6.2f}  {key}")
    groups: dict[str, float] = defaultdict(float)
    for key, _, duration in steps:
        groups[_group(key)] += duration
    print(f"run {run_id}: {wall:.1f} s from first to last event, {between:.1f} s between steps")
    for group, seconds in sorted(groups.items(), key=lambda g: -g[1]):
        print(f"  {group:<14} {seconds:6.2f} s")
    return 0


def _group(step_key: str) -> str:
    if step_key.startswith("raw__"):
        return "raw checks" if step_key.endswith("_raw_expectations") else "raw ingest"
    return step_key.split("__")[0] if "__" in step_key else step_key


if __name__ == "__main__":
    raise SystemExit(main(sys.argv[1:]))
