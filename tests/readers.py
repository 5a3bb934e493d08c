"""Reader processes for the reliability tests: what a BI tool or a notebook does to the published
copy while the pipeline runs. ``python -m tests.readers held|fresh|parquet <home> <stop_file> <out>``
queries until ``stop_file`` exists, then writes what it saw to ``out`` (JSON)."""

from __future__ import annotations

import json
import sys
import time
from collections.abc import Callable
from pathlib import Path

import duckdb
import pyarrow.parquet as pq

PAUSE_S = 0.4
STRESS = "fct_leverage_stress_daily"
QUERIES_PER_ROUND = 2


def poll(stop: Path, one_round: Callable[[], str], seen: dict) -> dict:
    """Run ``one_round`` (two queries; returns the publication version it read) until ``stop``
    exists, and once more after: the runs are over then, and the last round reads what they left
    (a run that exits right after publishing could otherwise end inside the pause). Counts
    queries, failures and the versions seen in order."""
    seen.update(queries=0, failures=[], versions=[])
    while True:
        stopping = stop.exists()
        try:
            version = one_round()
            seen["queries"] += QUERIES_PER_ROUND
            if version not in seen["versions"]:
                seen["versions"].append(version)
        except Exception as exc:  # noqa: BLE001 - every failure is the finding
            seen["failures"].append(f"{type(exc).__name__}: {exc}")
        if stopping:
            return seen
        time.sleep(PAUSE_S)


def read_held(home: Path, stop: Path) -> dict:
    """One connection opened before the run and queried until after it (a BI tool left open)."""
    held = duckdb.connect(str(home / "serving.duckdb"), read_only=True)
    seen = {"held_open_from": str(held.execute(f"SELECT max(date) FROM marts.{STRESS}").fetchone()[0])}

    def one_round() -> str:
        seen["held_max_date"] = str(held.execute(f"SELECT max(date) FROM marts.{STRESS}").fetchone()[0])
        return held.execute("SELECT version FROM meta.publication").fetchone()[0]

    try:
        return poll(stop, one_round, seen)
    finally:
        held.close()


def read_fresh(home: Path, stop: Path) -> dict:
    """A new connection per round (a dashboard refreshing). DuckDB shares one database per file
    within a process, so this must be the only connection of its process to see new data."""

    def one_round() -> str:
        with duckdb.connect(str(home / "serving.duckdb"), read_only=True) as fresh:
            fresh.execute(f"SELECT asset, max(stress_score), count(*) FROM marts.{STRESS} GROUP BY 1").fetchall()
            return fresh.execute("SELECT version FROM meta.publication").fetchone()[0]

    return poll(stop, one_round, {})


def read_parquet(home: Path, stop: Path) -> dict:
    """Each round resolves ``export`` once (so one round reads one version, as the README says),
    reads its manifest, then every file it lists by path; plus one file opened at the start and
    read again each round (a reader in the middle of a long scan)."""
    export = home / "export"
    held = pq.ParquetFile(next((export / STRESS).resolve().glob("*.parquet")))
    con = duckdb.connect()

    def one_round() -> str:
        version = export.resolve()
        manifest = json.loads((version / "manifest.json").read_text())
        files = [str(version / STRESS / name) for name in manifest["files"][STRESS]]
        rows = con.execute("SELECT count(*) FROM read_parquet(?)", [files]).fetchone()[0]
        if (rows, version.name) != (manifest["row_counts"][STRESS], manifest["version"]):
            raise AssertionError(f"{version.name}: {rows} rows, manifest {manifest}")
        held.read()
        return manifest["version"]

    try:
        return poll(stop, one_round, {})
    finally:
        con.close()


def main() -> None:
    kind, home, stop, out = sys.argv[1:5]
    reader = {"held": read_held, "fresh": read_fresh, "parquet": read_parquet}[kind]
    Path(out).write_text(json.dumps(reader(Path(home), Path(stop))))


if __name__ == "__main__":
    main()
