"""``levstress`` command line: what the pipeline built, in the terminal."""

from __future__ import annotations

import argparse
import logging
import os
import signal
import threading
from datetime import date
from typing import TYPE_CHECKING

import duckdb

from orchestration import settings
from storage import Paths

if TYPE_CHECKING:  # the CLI imports the registry only in the commands that use it
    from ingestion.sources.base import Endpoint

SUMMARY_SQL = """
SELECT date, asset, round(stress_score, 1) AS stress_score, stress_level, is_pressure_cooker, is_deleveraging,
       round(long_liquidations_usd / 1e6, 1) AS long_liq_musd,
       round(short_liquidations_usd / 1e6, 1) AS short_liq_musd,
       round(funding_rate_8h * 1e4, 2) AS funding_8h_bp,
       round(open_interest_usd / 1e9, 2) AS oi_busd,
       price_close
FROM marts.fct_leverage_stress_daily
QUALIFY row_number() OVER (PARTITION BY asset ORDER BY date DESC) <= ?
ORDER BY asset, date
"""


def summary(days: int) -> None:
    paths = Paths(settings.home())
    if not paths.serving.exists():
        raise SystemExit(f"no published snapshot at {paths.serving}: run `make run` first")
    with duckdb.connect(str(paths.serving), read_only=True) as con:
        print(f"Last {days} days of marts.fct_leverage_stress_daily per asset:")
        con.sql(SUMMARY_SQL, params=[days]).show(max_rows=100, max_width=200)
        print("Latest alerts (marts.fct_alerts):")
        con.sql("SELECT date, alert_type, message FROM marts.fct_alerts ORDER BY date DESC, alert_type LIMIT 8").show(
            max_width=200
        )
        counts = con.sql(
            "SELECT table_name, estimated_size FROM duckdb_tables() WHERE schema_name = 'marts' ORDER BY 1"
        ).fetchall()
    print("Marts in the snapshot:", ", ".join(f"{name} ({rows} rows)" for name, rows in counts))
    if settings.warehouse() == "spark":
        print(f"Spark lake (raw Parquet, Spark's tables):                   {settings.lake_path(paths.home)}/")
    else:
        print(f"Warehouse (pipeline only, do not open while a run is going): {paths.warehouse}")
    print(f"Published snapshot (open read-only):  duckdb -readonly {paths.serving}")
    print(f"Parquet exports:                      {paths.export}/")
    print(f"Landing zone (raw payloads):          {paths.landing}/")
    reports = sorted(paths.reports.glob("*.html")) if paths.reports.exists() else []
    if reports:
        print(f"Latest report (opens offline):        {reports[-1]}")


def collect_liquidations(exchanges: list[str] | None) -> None:
    """Run the websocket collectors until SIGINT / SIGTERM, then flush and exit."""
    from ingestion.collector import run_collectors
    from ingestion.registry import SOURCES

    streams = {s.name: s.stream for s in SOURCES if s.stream is not None}
    exchanges = exchanges or list(streams)
    unknown = sorted(set(exchanges) - set(streams))
    if unknown:
        raise SystemExit(f"no liquidation stream for {', '.join(unknown)}; streams exist for {', '.join(streams)}")
    logging.basicConfig(level=logging.INFO, format="%(asctime)s %(levelname)s %(message)s")
    stop = threading.Event()
    for signum in (signal.SIGINT, signal.SIGTERM):
        signal.signal(signum, lambda *_: stop.set())
    landing = Paths(settings.home()).landing
    print(f"collecting {', '.join(exchanges)} liquidations into {landing / 'collector'}/ (Ctrl-C to stop)")
    for collector in run_collectors([streams[e] for e in exchanges], landing, settings.tracked_assets(), stop):
        print(f"{collector.stream.exchange}: {collector.stats}")


LEVEL_CHARS = {"complete": "C", "throttled": "T", "estimate": "E", "partial": "P", "missing": "M"}
COVERAGE_SQL = """
SELECT date, exchange, arg_min(coverage_level, rank) AS worst
FROM marts.fct_source_coverage_daily
JOIN (SELECT unnest(?) AS coverage_level, generate_subscripts(?, 1) AS rank) USING (coverage_level)
WHERE dataset = ? AND date BETWEEN coalesce(?::DATE, (SELECT max(date) - 29 FROM marts.fct_source_coverage_daily))
                               AND coalesce(?::DATE, (SELECT max(date) FROM marts.fct_source_coverage_daily))
GROUP BY ALL
ORDER BY date, exchange
"""


def coverage(dataset: str, first: str | None, last: str | None) -> None:
    """Dates x exchanges, one character per day: the worst level over the tracked assets."""
    paths = Paths(settings.home())
    if not paths.serving.exists():
        raise SystemExit(f"no published snapshot at {paths.serving}: run `make run` first")
    worst_first = ["missing", "partial", "estimate", "throttled", "complete"]
    with duckdb.connect(str(paths.serving), read_only=True) as con:
        rows = con.execute(COVERAGE_SQL, [worst_first, worst_first, dataset, first, last]).fetchall()
    if not rows:
        raise SystemExit(f"no coverage rows for {dataset} in that range")
    exchanges = sorted({exchange for _, exchange, _ in rows})
    cells = {(day, exchange): LEVEL_CHARS[level] for day, exchange, level in rows}
    print(f"{dataset} coverage, {rows[0][0]} .. {rows[-1][0]}: worst level over the tracked assets")
    print("  " + "  ".join(f"{c} {level}" for level, c in LEVEL_CHARS.items()) + "  . no data")
    print(" " * 10 + " " + " ".join(f"{e[:11]:>11}" for e in exchanges))
    for day in sorted({day for day, _, _ in rows}):
        print(f"{day} " + " ".join(f"{cells.get((day, e), '.'):>11}" for e in exchanges))


def replay(first: str, last: str) -> None:
    """Rebuild the raw tables of the days from the landing zone (no network) and run everything
    after them: checks, dbt, publish. Recorded in the Dagster instance when DAGSTER_HOME is set."""
    for day in (first, last):
        date.fromisoformat(day)  # a clear error before any work
    run_id = _execute("levstress_daily", first, last, {"resources": {"sources": {"config": {"mode": "replay"}}}})
    print(f"replayed {first}..{last} from {Paths(settings.home()).landing}/ (run {run_id}); snapshot republished")


def catch_up() -> None:
    """What the coverage_catch_up sensor does after a daily run, by hand: fill the published gaps a
    catch-up source can still serve, one run per day, say which cannot be filled, and re-run the
    days a source was unavailable on while it can still serve them."""
    fill_gaps()
    retry_unavailable()


def fill_gaps() -> None:
    from orchestration.catch_up import published_fill_plan

    paths = Paths(settings.home())
    if not paths.serving.exists():
        raise SystemExit(f"no published snapshot at {paths.serving}: run `make run` first")
    plan = published_fill_plan(paths.serving, settings.api_today(settings.source_mode()))
    for row, reason in plan.unrecoverable:
        print(f"cannot fill {row.day} {row.exchange} {row.dataset} ({row.level}): {reason}")
    if not plan.new_gaps:
        print("catch-up: no gap that a catch-up source can fill")
    for table, day, exchange in sorted(plan.new_gaps, key=lambda gap: (gap[1], gap[2])):
        print(f"catch-up: {day} {exchange} from {table}")
    for day in plan.new_days():
        run_id = _execute("levstress_catch_up", day.isoformat(), day.isoformat(), {})
        print(f"catch-up: {day} filled and republished (run {run_id})")


def retry_unavailable() -> None:
    """Re-run the published days an endpoint was unavailable on, while it can still serve them."""
    from orchestration.catch_up import published_retry_days

    paths = Paths(settings.home())
    retries = published_retry_days(paths.serving, settings.api_today(settings.source_mode()))
    for day, tables in retries.items():
        print(f"retry: {day} ({', '.join(tables)} unavailable)")
    for first, last in _day_ranges(sorted(retries)):  # one run per stretch of days, not one per day
        run_id = _execute("levstress_daily", first.isoformat(), last.isoformat(), {})
        print(f"retry: {first}..{last} re-run and republished (run {run_id})")


def _day_ranges(days: list[date]) -> list[tuple[date, date]]:
    ranges: list[tuple[date, date]] = []
    for day in days:
        if ranges and (day - ranges[-1][1]).days == 1:
            ranges[-1] = (ranges[-1][0], day)
        else:
            ranges.append((day, day))
    return ranges


STATUS_SQL = """
SELECT * FROM marts.{mart}
WHERE date >= coalesce(?::DATE, (SELECT max(date) - (? - 1) FROM marts.fct_source_fetch_daily))
"""


def status(days: int, first: str | None) -> None:
    """Per source endpoint and day: fetched, missing, partial or with rejected rows, and why."""
    from orchestration.coverage import RETRY_DAYS
    from quality.fetch_status import status_table

    paths = Paths(settings.home())
    if not paths.serving.exists():
        raise SystemExit(f"no published snapshot at {paths.serving}: run `make run` first")
    with duckdb.connect(str(paths.serving), read_only=True) as con:
        fetches, coverage = (
            con.execute(STATUS_SQL.format(mart=mart), [first, days]).df()
            for mart in ("fct_source_fetch_daily", "fct_source_coverage_daily")
        )
    table = status_table(fetches, coverage, RETRY_DAYS, settings.api_today(settings.source_mode()))
    if table.empty:
        raise SystemExit("no fetch outcomes published yet (marts.fct_source_fetch_daily is empty)")
    counts = table["state"].value_counts()
    print(
        f"Sources, {table['date'].min()} .. {table['date'].max()}: "
        + ", ".join(f"{counts.get(s, 0)} {s}" for s in ("fetched", "missing", "partial", "rejected rows"))
        + " (endpoint-days)"
    )
    print(f"{'date':<10}  {'source':<11}  {'endpoint':<17}  {'state':<13}  {'rows':>7}  {'rejected':>8}  why")
    for row in table.itertuples(index=False):
        print(
            f"{row.date!s:<10}  {row.source:<11}  {row.endpoint:<17}  {row.state:<13}  {row.rows:>7}  "
            f"{row.rejected:>8}  {row.why}"
        )


def bootstrap(days: int | None, live: bool) -> None:
    """Day one: every source as deep as it serves (an archive's years for the deep part, each live
    API its look-back for the recent part), up to yesterday, in one run; then the catch-up
    of published gaps and the status. Sources unavailable today are retried by the next daily
    runs (the sensor, or `levstress catch-up`), not at once."""
    from datetime import UTC, datetime, timedelta

    from ingestion.registry import ENDPOINTS, SOURCES_BY_NAME

    if live:
        os.environ["LEVSTRESS_SOURCE_MODE"] = "live"
    yesterday = datetime.now(UTC).date() - timedelta(days=1)
    usable = [e for e in ENDPOINTS.values() if not SOURCES_BY_NAME[e.source].missing_key()]
    depth = days or bootstrap_depth(usable, yesterday)
    first = max(yesterday - timedelta(days=depth - 1), date.fromisoformat(settings.PARTITIONS_START))
    why = "--days" if days else "the deepest history of the sources you can use"
    print(f"bootstrap: {first}..{yesterday} ({settings.source_mode()} mode; {depth} days: {why})")
    run_id = _execute("levstress_daily", first.isoformat(), yesterday.isoformat(), {})
    print(f"bootstrap: built and published (run {run_id})")
    fill_gaps()
    status(3, None)


def bootstrap_depth(usable: list[Endpoint], yesterday: date) -> int:
    """Days back from yesterday that the usable endpoints serve: the deepest look-back, or an
    archive's history (at most ARCHIVE_DAYS)."""
    deepest = [e.look_back_days for e in usable if e.look_back_days is not None]
    deepest += [min(ARCHIVE_DAYS, (yesterday - e.history_from).days + 1) for e in usable if e.history_from]
    return max(deepest, default=BOOTSTRAP_DAYS)


BOOTSTRAP_DAYS = 30  # when every limited endpoint needs a key that is not set
# With an archive (years deep, e.g. Binance's), day one builds three years: enough for every
# trailing window and for the past year's episodes; `--days` goes further, to the archive's start.
ARCHIVE_DAYS = 3 * 365


def _execute(job: str, first: str, last: str, run_config: dict[str, object]) -> str:
    import dagster as dg

    from orchestration.definitions import defs

    instance = dg.DagsterInstance.get() if os.environ.get("DAGSTER_HOME") else dg.DagsterInstance.ephemeral()
    result = defs.resolve_job_def(job).execute_in_process(
        run_config=run_config,
        tags={"dagster/asset_partition_range_start": first, "dagster/asset_partition_range_end": last},
        instance=instance,
        raise_on_error=False,
    )
    if not result.success:
        failed = [e.step_key for e in result.all_events if e.event_type == dg.DagsterEventType.STEP_FAILURE]
        raise SystemExit(f"{job} {first}..{last} failed (run {result.run_id}): {', '.join(failed) or 'see the run'}")
    return result.run_id


def main(argv: list[str] | None = None) -> None:
    parser = argparse.ArgumentParser(prog="levstress", description=__doc__)
    commands = parser.add_subparsers(dest="command", required=True)
    show = commands.add_parser("summary", help="print the latest stress table and where the outputs are")
    show.add_argument("--days", type=int, default=5)
    collect = commands.add_parser(
        "collect-liquidations",
        help="record the Binance / Bybit liquidation websockets into the landing zone (runs until stopped)",
    )
    collect.add_argument("--exchange", action="append", dest="exchanges", help="binance, bybit (default: all)")
    holes = commands.add_parser("coverage", help="a dates x exchanges table of how complete each day's data is")
    holes.add_argument(
        "--dataset", default="liquidations", choices=["liquidations", "funding", "open_interest", "prices"]
    )
    holes.add_argument("--from", dest="first", help="first day (default: 30 days before the last)")
    holes.add_argument("--to", dest="last", help="last day (default: the last published)")
    rebuild = commands.add_parser(
        "replay", help="rebuild days from the archived payloads in landing/ (no network), then the marts and snapshot"
    )
    rebuild.add_argument("--partition", required=True, help="first day, YYYY-MM-DD")
    rebuild.add_argument("--to", help="last day (default: the first)")
    commands.add_parser(
        "catch-up",
        help="fill the published partial and missing days from a source that can still serve them (Coinalyze), "
        "and re-run the days a source was unavailable on",
    )
    state = commands.add_parser("status", help="per source endpoint and day: fetched, missing, partial, rejected rows")
    state.add_argument("--days", type=int, default=3, help="the last N published days (default 3)")
    state.add_argument("--from", dest="first", help="first day instead")
    boot = commands.add_parser(
        "bootstrap", help="day one: backfill every source as deep as it serves, build, publish, catch up, status"
    )
    boot.add_argument("--live", action="store_true", help="the real APIs (LEVSTRESS_SOURCE_MODE=live)")
    boot.add_argument("--days", type=int, help="how many days back from yesterday (default: the deepest look-back)")
    args = parser.parse_args(argv)
    if args.command == "summary":
        summary(args.days)
    elif args.command == "collect-liquidations":
        collect_liquidations(args.exchanges)
    elif args.command == "coverage":
        coverage(args.dataset, args.first, args.last)
    elif args.command == "replay":
        replay(args.partition, args.to or args.partition)
    elif args.command == "catch-up":
        catch_up()
    elif args.command == "status":
        status(args.days, args.first)
    elif args.command == "bootstrap":
        bootstrap(args.days, args.live)


if __name__ == "__main__":
    main()
