"""``python -m bench`` / ``make bench``: the benchmark harness of issue #6.

Runs on the demo simulator in a temporary ``$LEVSTRESS_HOME`` (never the one in the environment),
prints one table and writes ``$LEVSTRESS_HOME/bench/latest.json``. Timings are reported, never
asserted: the table shows the issue's targets beside them for reading only.
"""

from __future__ import annotations

import argparse
import cProfile
import io
import json
import os
import platform
import pstats
import shutil
import statistics
import sys
import tempfile
from collections.abc import Callable
from dataclasses import dataclass, field
from datetime import UTC, date, datetime, timedelta
from pathlib import Path
from typing import Any

import duckdb

from bench.procmon import RSS_METHOD, Measured

PARTS = ("ingest", "daily", "backfill", "queries")
REQUIRED_KEYS = (
    "ingest_rows_per_s",
    "duckdb_read_json_rows_per_s",
    "ingest_ratio",
    "daily_run_s",
    "daily_run_peak_rss_mb",
    "backfill_year_s",
    "backfill_year_peak_rss_mb",
    "backfill_speedup",
    "incremental_ratio",
    "query_median_ms",
    "runs",
)
FULL = {"runs": 3, "events": 1_000_000, "ingest_days": 10, "backfill_days": 365, "month_days": 30}
FULL |= {"liquidation_days": None, "long_days": 3 * 365}
QUICK = {"runs": 1, "events": 20_000, "ingest_days": 2, "backfill_days": 7, "month_days": 7}
QUICK |= {"liquidation_days": 14, "long_days": 60}
# The targets, shown beside the figures (never asserted).
TARGETS: dict[str, tuple[str, Callable[[float], bool]]] = {
    "ingest_ratio": (">= 0.5", lambda v: v >= 0.5),
    "daily_run_s": ("<= 20 s", lambda v: v <= 20),
    "backfill_year_s": ("<= 180 s", lambda v: v <= 180),
    "backfill_year_peak_rss_mb": ("< 2048 MB", lambda v: v < 2048),
    "backfill_speedup": (">= 20", lambda v: v >= 20),
    "incremental_ratio": ("<= 1.2", lambda v: v <= 1.2),
    "query_max_ms": ("< 100 ms each", lambda v: v < 100),
}


def log(message: str) -> None:
    print(f"[bench {datetime.now():%H:%M:%S}] {message}", file=sys.stderr, flush=True)


def median(values: list[float]) -> float | None:
    return statistics.median(values) if values else None


@dataclass
class Bench:
    home: Path
    runs: int
    day: date  # the partition the daily runs build; history ends the day before
    keep: bool
    results: dict[str, Any] = field(default_factory=dict)
    notes: list[str] = field(default_factory=list)
    errors: list[str] = field(default_factory=list)

    @property
    def out_dir(self) -> Path:
        return self.home / "bench"

    @property
    def logs(self) -> Path:
        return self.out_dir / "logs"

    @property
    def scratch(self) -> Path:
        return self.home / "scratch"

    def failed(self, what: str, run: Measured) -> None:
        tail = run.log.read_text(errors="replace").splitlines()[-25:]
        self.errors.append(f"{what}: exit code {run.returncode}, log {run.log}")
        log(f"{what} FAILED (exit {run.returncode}); last lines of {run.log}:\n  " + "\n  ".join(tail))


# --- 1. ingest rate ---------------------------------------------------------------------------


def bench_ingest(b: Bench, events: int, n_days: int, profile: bool) -> None:
    from bench.ingest_rate import READ_JSON_NOTE, time_ingest, time_read_json, write_tapes

    work = b.scratch / "ingest"
    shutil.rmtree(work, ignore_errors=True)
    landing = work / "landing"
    log(f"ingest: writing {events:,} forceOrder events over {n_days} day tape(s)")
    days = write_tapes(landing, events, n_days, b.day)
    size_mb = sum(p.stat().st_size for p in (landing / "collector" / "binance").iterdir()) / 2**20
    ingest_rates, read_rates, parse_s, load_s, rejected = [], [], [], [], 0
    for i in range(b.runs):
        timing = time_ingest(landing, days, work / f"home-{i}")
        seconds, rows = time_read_json(landing, work / f"read_json-{i}.duckdb")
        if timing.rows != events or rows != events:
            b.errors.append(f"ingest run {i + 1}: loaded {timing.rows:,} / read_json {rows:,} of {events:,} events")
        ingest_rates.append(timing.rows / timing.seconds)
        read_rates.append(rows / seconds)
        parse_s.append(timing.parse_s)
        load_s.append(timing.load_s)
        rejected = max(rejected, timing.rejected)
        log(
            f"ingest {i + 1}/{b.runs}: {timing.rows / timing.seconds:,.0f} rows/s "
            f"(parse+validate {timing.parse_s:.2f} s, load {timing.load_s:.2f} s); "
            f"read_json {rows / seconds:,.0f} rows/s"
        )
        shutil.rmtree(work / f"home-{i}", ignore_errors=True)
        (work / f"read_json-{i}.duckdb").unlink(missing_ok=True)
    if profile:
        b.results["ingest_profile"] = profile_ingest(b, landing, days, work)
    r = b.results
    r["ingest_rows_per_s"] = median(ingest_rates)
    r["duckdb_read_json_rows_per_s"] = median(read_rates)
    r["ingest_ratio"] = r["ingest_rows_per_s"] / r["duckdb_read_json_rows_per_s"]
    r["ingest_parse_validate_s"] = median(parse_s)
    r["ingest_load_s"] = median(load_s)
    r["ingest_events"], r["ingest_days"], r["ingest_tape_mb"] = events, n_days, round(size_mb, 1)
    r["ingest_rejected"] = rejected
    r["ingest_samples"] = {"ingest_rows_per_s": ingest_rates, "duckdb_read_json_rows_per_s": read_rates}
    r["read_json_method"] = READ_JSON_NOTE
    if not b.keep:
        shutil.rmtree(work, ignore_errors=True)


def profile_ingest(b: Bench, landing: Path, days: list[date], work: Path) -> str:
    """One extra, untimed ingest pass under cProfile: where the time of the Python path goes."""
    from bench.ingest_rate import time_ingest

    profiler = cProfile.Profile()
    profiler.enable()
    time_ingest(landing, days, work / "home-profile")
    profiler.disable()
    text = io.StringIO()
    pstats.Stats(profiler, stream=text).sort_stats("tottime").print_stats(15)
    path = b.out_dir / "ingest_profile.txt"
    path.write_text(text.getvalue())
    profiler.dump_stats(str(b.out_dir / "ingest_profile.pstats"))
    log(f"ingest profile (top 15 by own time): {path}")
    return str(path)


# --- 2, 4, 5. daily run on a month vs the longest history; README queries ---------------------------


# Everything but the liquidation datasets: what a new home gets for its deep history (Binance's
# archive and the APIs that keep years); the Makefile's WITHOUT_LIQUIDATIONS is the same selection.
WITHOUT_LIQUIDATIONS = (
    'not tag:"dataset"="liquidation_events" and not tag:"dataset"="liquidation_buckets" '
    'and not tag:"dataset"="collector_uptime"'
)


def bench_daily(
    b: Bench, month_days: int, liquidation_days: int | None, long_days: int, do_daily: bool, do_queries: bool
) -> None:
    from bench.warehouse import PipelineHome
    from ingestion.simulator.timegrid import ORIGIN
    from orchestration.settings import DEMO_WINDOW

    last = b.day - timedelta(days=1)
    long_first = max(ORIGIN.date(), b.day - timedelta(days=long_days))
    recent_first = DEMO_WINDOW[0] if liquidation_days is None else b.day - timedelta(days=liquidation_days)
    recent_first = max(recent_first, long_first)
    history = {
        "long_first": long_first.isoformat(),
        "long_total_days": (last - long_first).days + 1,
        "liquidations_first": recent_first.isoformat(),
        "method": (
            f"long history = {long_first}..{last}, built by two Dagster range runs on the simulator, as a user's "
            f"home is: {long_first}..{recent_first - timedelta(days=1)} without the liquidation datasets (the "
            f"archive's depth), then {recent_first}..{last} with everything"
        ),
    }
    b.results["history"] = history
    homes: dict[str, PipelineHome] = {}

    def build(home: PipelineHome, name: str, first: date, until: date, select: str = "*") -> bool:
        log(f"{name} history: building {first}..{until} ({(until - first).days + 1} days, one run)")
        run = home.materialize(first, until, f"{name}-history-build", select)
        history[f"{name}_build_s"] = round(run.wall_s, 1)
        if not run.ok:
            b.failed(f"{name} history build", run)
            return False
        log(f"{name} history built in {run.wall_s:.1f} s")
        return True

    long_home = PipelineHome(b.scratch / "long", b.logs)
    deep = recent_first <= long_first or build(
        long_home, "deep", long_first, recent_first - timedelta(days=1), WITHOUT_LIQUIDATIONS
    )
    if not (deep and build(long_home, "recent", recent_first, last)):
        return
    homes["long"] = long_home
    if do_daily:
        month_first = b.day - timedelta(days=month_days)
        history["month_days"] = (last - month_first).days + 1
        month_home = PipelineHome(b.scratch / "month", b.logs)
        if build(month_home, "month", month_first, last):
            homes["month"] = month_home
        samples: dict[str, list[Measured]] = {name: [] for name in homes}
        for i in range(b.runs):  # alternate, so that drift in the machine's load hits both alike
            for name, home in homes.items():
                run = home.materialize(b.day, b.day, f"daily-{name}-{i + 1}")
                if not run.ok:
                    b.failed(f"daily run on {name} history ({b.day})", run)
                    continue
                samples[name].append(run)
                log(f"daily {b.day} on {name} history {i + 1}/{b.runs}: {run.wall_s:.1f} s, {run.peak_rss_mb:.0f} MB")
        record_daily(b, samples)
    if do_queries:
        from bench.queries import time_queries

        per_query = time_queries(long_home.serving, max(b.runs, 3))
        b.results["queries_ms"] = per_query
        b.results["query_median_ms"] = median(list(per_query.values()))
        b.results["query_max_ms"] = max(per_query.values())
        b.results["query_snapshot"] = "serving.duckdb of the long history"
        log(f"README queries: median {b.results['query_median_ms']:.1f} ms, slowest {b.results['query_max_ms']:.1f} ms")
    if not b.keep:
        for home in homes.values():
            home.remove()


def record_daily(b: Bench, samples: dict[str, list[Measured]]) -> None:
    r = b.results
    ok = {name: runs for name, runs in samples.items() if len(runs) == b.runs}
    if "long" in ok:
        r["daily_run_s"] = median([m.wall_s for m in ok["long"]])
        r["daily_run_peak_rss_mb"] = median([m.peak_rss_mb for m in ok["long"]])
        r["daily_run_max_process_rss_mb"] = median([m.max_process_rss_mb for m in ok["long"]])
    if "month" in ok:
        r["daily_run_month_history_s"] = median([m.wall_s for m in ok["month"]])
        r["daily_run_month_history_peak_rss_mb"] = median([m.peak_rss_mb for m in ok["month"]])
    if "long" in ok and "month" in ok:
        r["incremental_ratio"] = r["daily_run_s"] / r["daily_run_month_history_s"]
    r["daily_samples_s"] = {name: [round(m.wall_s, 2) for m in runs] for name, runs in samples.items()}
    r["daily_day"] = b.day.isoformat()


# --- 3. backfill ---------------------------------------------------------------------------------


def bench_backfill(b: Bench, n_days: int) -> None:
    from bench.warehouse import PipelineHome
    from orchestration.settings import DEMO_WINDOW

    last = b.day - timedelta(days=1)
    first = max(DEMO_WINDOW[0], last - timedelta(days=n_days - 1))
    n_days = (last - first).days + 1
    runs: list[Measured] = []
    for i in range(b.runs):
        home = PipelineHome(b.scratch / f"backfill-{i + 1}", b.logs)
        log(f"backfill {i + 1}/{b.runs}: {first}...{last} ({n_days} days) in one run, empty warehouse")
        run = home.materialize(first, last, f"backfill-{i + 1}")
        if run.ok:
            runs.append(run)
            log(f"backfill {i + 1}/{b.runs}: {run.wall_s:.1f} s, {run.peak_rss_mb:.0f} MB")
        else:
            b.failed(f"backfill {first}...{last}", run)
        if not b.keep:
            home.remove()
    r = b.results
    r["backfill_days"], r["backfill_first"], r["backfill_last"] = n_days, first.isoformat(), last.isoformat()
    r["backfill_samples_s"] = [round(m.wall_s, 2) for m in runs]
    if len(runs) == b.runs:
        r["backfill_year_s"] = median([m.wall_s for m in runs])
        r["backfill_year_peak_rss_mb"] = median([m.peak_rss_mb for m in runs])
        r["backfill_year_max_process_rss_mb"] = median([m.max_process_rss_mb for m in runs])


# --- report ------------------------------------------------------------------------------------


def derive(r: dict[str, Any]) -> None:
    if r.get("daily_run_s") and r.get("backfill_year_s"):
        r["backfill_speedup"] = r["backfill_days"] * r["daily_run_s"] / r["backfill_year_s"]


def table(b: Bench) -> str:
    r = b.results
    days = r.get("backfill_days", "N")
    backfill = f"backfill {days} days"
    month_days = r.get("history", {}).get("month_days")
    long_days = r.get("history", {}).get("long_total_days")
    month = f"{month_days}-day history" if month_days else "month history"
    long = f"{long_days}-day history" if long_days else "long history"
    rows: list[tuple[str, str, str | None]] = [
        ("ingest: replay + replace_partitions", "ingest_rows_per_s", "rows/s"),
        ("DuckDB read_json, same tapes", "duckdb_read_json_rows_per_s", "rows/s"),
        ("ingest ratio (ingest / read_json)", "ingest_ratio", ""),
        (f"daily run, {long}: wall", "daily_run_s", "s"),
        (f"daily run, {long}: peak RSS", "daily_run_peak_rss_mb", "MB"),
        (f"daily run, {month}: wall", "daily_run_month_history_s", "s"),
        ("incremental ratio (long / month)", "incremental_ratio", ""),
        (f"{backfill}, one run: wall", "backfill_year_s", "s"),
        (f"{backfill}, one run: peak RSS", "backfill_year_peak_rss_mb", "MB"),
        (f"backfill speedup ({days} x daily / backfill)", "backfill_speedup", ""),
        ("README queries: median of per-query medians", "query_median_ms", "ms"),
        ("README queries: slowest per-query median", "query_max_ms", "ms"),
    ]
    lines = [("measurement", "median", "target", "met")]
    for label, key, unit in rows:
        value = r.get(key)
        target, check = TARGETS.get(key, ("", None))
        shown = "skipped" if value is None else f"{value:,.0f} {unit}" if value >= 1000 else f"{value:,.2f} {unit}"
        met = "" if value is None or check is None else ("yes" if check(value) else "no")
        lines.append((label, shown.strip(), target, met))
    for query, ms in (r.get("queries_ms") or {}).items():
        lines.append((f"  {query}", f"{ms:,.2f} ms", "< 100 ms", "yes" if ms < 100 else "no"))
    widths = [max(len(line[i]) for line in lines) for i in range(4)]
    out = [" | ".join(cell.ljust(widths[i]) for i, cell in enumerate(line)).rstrip() for line in lines]
    out.insert(1, "-+-".join("-" * w for w in widths))
    return "\n".join(out)


def header(b: Bench) -> list[str]:
    r = b.results
    lines = [
        f"levstress benchmark: median of {b.runs} run(s) per figure"
        + (" (README queries: median of max(runs, 3) passes)" if r.get("queries_ms") else "")
        + f"; daily partition {b.day}; machine {os.cpu_count()} CPUs, load at start {r['machine']['loadavg_start']}",
    ]
    if "ingest_events" in r:
        lines.append(
            f"ingest: {r['ingest_events']:,} Binance forceOrder events, {r['ingest_days']} day tapes "
            f"({r['ingest_tape_mb']} MB), {r['ingest_rejected']} rejected; parse+validate "
            f"{r['ingest_parse_validate_s']:.2f} s + load {r['ingest_load_s']:.2f} s; "
            f"read_json = {r['read_json_method']}"
        )
    if "history" in r:
        lines.append(f"history: {r['history']['method']}")
    if any(k in r for k in ("daily_run_s", "backfill_year_s")):
        lines.append(f"peak RSS: {RSS_METHOD}")
    return lines


def write_json(b: Bench, out: Path | None) -> Path:
    b.out_dir.mkdir(parents=True, exist_ok=True)
    payload = {**b.results, "notes": b.notes, "errors": b.errors}
    text = json.dumps(payload, indent=2, default=str) + "\n"
    latest = b.out_dir / "latest.json"
    latest.write_text(text)
    if out is not None:
        out.parent.mkdir(parents=True, exist_ok=True)
        out.write_text(text)
    return latest


def parse_args(argv: list[str] | None) -> argparse.Namespace:
    p = argparse.ArgumentParser(prog="python -m bench", description=__doc__.split("\n\n")[0])
    p.add_argument("--quick", action="store_true", help="smoke run: small N, few days, 1 run (figures not comparable)")
    p.add_argument("--runs", type=int, help="runs per figure, median reported (default 3; --quick 1)")
    p.add_argument("--only", help=f"comma-separated subset of {','.join(PARTS)} (default: all)")
    p.add_argument("--out", type=Path, help="also copy latest.json here")
    p.add_argument("--home", type=Path, help="bench $LEVSTRESS_HOME (default: a new temporary directory)")
    p.add_argument("--keep", action="store_true", help="keep the scratch warehouses under <home>/scratch")
    p.add_argument("--profile", action="store_true", help="cProfile an extra ingest pass: bench/ingest_profile.txt")
    p.add_argument("--day", type=date.fromisoformat, help="daily partition to build (default: yesterday, UTC)")
    p.add_argument("--events", type=int, help="liquidation events for the ingest rate (default 1,000,000)")
    p.add_argument("--ingest-days", type=int, help="day tapes the events are spread over (default 10)")
    p.add_argument("--backfill-days", type=int, help="days in the backfill run (default 365)")
    p.add_argument("--month-days", type=int, help="history of the short case (default 30)")
    p.add_argument(
        "--liquidation-days", type=int, help="days of the long case with liquidations (default: since the demo window)"
    )
    p.add_argument("--long-days", type=int, help="total days of the long case (default 1095)")
    args = p.parse_args(argv)
    for key, value in (QUICK if args.quick else FULL).items():
        if getattr(args, key) is None:
            setattr(args, key, value)
    parts = PARTS if not args.only else tuple(x.strip() for x in args.only.split(",") if x.strip())
    if unknown := set(parts) - set(PARTS):
        p.error(f"--only: unknown part(s) {', '.join(sorted(unknown))}; choose from {', '.join(PARTS)}")
    if args.runs < 1 or args.events < 1 or args.ingest_days < 1:
        p.error("--runs, --events and --ingest-days must be >= 1")
    args.parts = parts
    return args


def main(argv: list[str] | None = None) -> int:
    args = parse_args(argv)
    home = (args.home or Path(tempfile.mkdtemp(prefix="levstress-bench-"))).resolve()
    day = args.day or datetime.now(UTC).date() - timedelta(days=1)
    b = Bench(home=home, runs=args.runs, day=day, keep=args.keep)
    b.out_dir.mkdir(parents=True, exist_ok=True)
    b.results = {key: None for key in REQUIRED_KEYS}
    b.results.update(
        runs=args.runs,
        quick=args.quick,
        parts=list(args.parts),
        started_at=datetime.now(UTC).isoformat(timespec="seconds"),
        home=str(home),
        rss_method=RSS_METHOD,
        machine={
            "cpus": os.cpu_count(),
            "loadavg_start": _loadavg(),
            "python": platform.python_version(),
            "duckdb": duckdb.__version__,
        },
    )
    log(f"LEVSTRESS_HOME for this benchmark: {home} (parts: {', '.join(args.parts)}; {args.runs} run(s) each)")
    if args.quick:
        b.notes.append("--quick: small sizes and one run; a smoke test of the harness, not comparable figures")
    try:
        if "ingest" in args.parts:
            bench_ingest(b, args.events, args.ingest_days, args.profile)
        if {"daily", "queries", "backfill"} & set(args.parts):
            from orchestration.dbt_manifest import ensure_manifest

            ensure_manifest(b.scratch / "dbt-parse")
        if {"daily", "queries"} & set(args.parts):
            bench_daily(
                b,
                args.month_days,
                args.liquidation_days,
                args.long_days,
                "daily" in args.parts,
                "queries" in args.parts,
            )
        if "backfill" in args.parts:
            bench_backfill(b, args.backfill_days)
    finally:
        derive(b.results)
        b.results["machine"]["loadavg_end"] = _loadavg()
        b.results["finished_at"] = datetime.now(UTC).isoformat(timespec="seconds")
        latest = write_json(b, args.out)
    print("\n".join(header(b)))
    print(table(b))
    print(f"JSON: {latest}" + (f" (copied to {args.out})" if args.out else ""))
    for error in b.errors:
        print(f"ERROR: {error}")
    if not b.keep:
        shutil.rmtree(b.scratch, ignore_errors=True)
    return 1 if b.errors else 0


def _loadavg() -> str:
    try:
        return " ".join(f"{x:.2f}" for x in os.getloadavg())
    except OSError:
        return "n/a"
