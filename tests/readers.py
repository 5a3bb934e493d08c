"""Reader processes for the reliability tests: what a BI tool or a notebook does to the published
copy while the pipeline runs. ``python -m tests.readers held|fresh|parquet <home> <stop_file> <out>``
queries until ``stop_file`` exists, then writes what it saw to ``out`` (JSON)."""

from __future__ import annotations

import json
import sys
import time
from pathlib import Path

import duckdb
import pyarrow.parquet as pq

PAUSE_S = 0.2
STRESS = "fct_leverage_stress_daily"


def read_held(home: Path, stop: Path) -> dict:
    """One connection opened before the run and queried until after it (a BI tool left open)."""
    held = duckdb.connect(str(home / "serving.duckdb"), read_only=True)
    seen: dict = {"queries": 0, "failures": [], "versions": []}
    seen["held_open_from"] = str(held.execute(f"SELECT max(date) FROM marts.{STRESS}").fetchone()[0])
    while not stop.exists():
        try:
            seen["held_max_date"] = str(held.execute(f"SELECT max(date) FROM marts.{STRESS}").fetchone()[0])
            version = held.execute("SELECT version FROM meta.publication").fetchone()[0]
            seen["queries"] += 2
            if version not in seen["versions"]:
                seen["versions"].append(version)
        except Exception as exc:  # noqa: BLE001 - every failure is the finding
            seen["failures"].append(f"{type(exc).__name__}: {exc}")
        time.sleep(PAUSE_S)
    held.close()
    return seen


def read_fresh(home: Path, stop: Path) -> dict:
    """A new connection per round (a dashboard refreshing). DuckDB shares one database per file
    within a process, so this must be the only connection of its process to see new data."""
    seen: dict = {"queries": 0, "failures": [], "versions": []}
    while not stop.exists():
        try:
            with duckdb.connect(str(home / "serving.duckdb"), read_only=True) as fresh:
                version = fresh.execute("SELECT version FROM meta.publication").fetchone()[0]
                fresh.execute(f"SELECT asset, max(stress_score), count(*) FROM marts.{STRESS} GROUP BY 1").fetchall()
                seen["queries"] += 2
            if version not in seen["versions"]:
                seen["versions"].append(version)
        except Exception as exc:  # noqa: BLE001 - every failure is the finding
            seen["failures"].append(f"{type(exc).__name__}: {exc}")
        time.sleep(PAUSE_S)
    return seen


def read_parquet(home: Path, stop: Path) -> dict:
    """Each round resolves ``export`` once (so one round reads one version, as the README says),
    reads its manifest, then every file it lists by path; plus one file opened at the start and
    read again each round (a reader in the middle of a long scan)."""
    export = home / "export"
    held = pq.ParquetFile(next((export / STRESS).resolve().glob("*.parquet")))
    seen: dict = {"queries": 0, "failures": [], "versions": []}
    with duckdb.connect() as con:
        while not stop.exists():
            try:
                version = export.resolve()
                manifest = json.loads((version / "manifest.json").read_text())
                files = [str(version / STRESS / name) for name in manifest["files"][STRESS]]
                rows = con.execute("SELECT count(*) FROM read_parquet(?)", [files]).fetchone()[0]
                if (rows, version.name) != (manifest["row_counts"][STRESS], manifest["version"]):
                    raise AssertionError(f"{version.name}: {rows} rows, manifest {manifest}")
                held.read()
                seen["queries"] += 2
                if manifest["version"] not in seen["versions"]:
                    seen["versions"].append(manifest["version"])
            except Exception as exc:  # noqa: BLE001 - every failure is the finding
                seen["failures"].append(f"{type(exc).__name__}: {exc}")
            time.sleep(PAUSE_S)
    return seen


def main() -> None:
    kind, home, stop, out = sys.argv[1:5]
    reader = {"held": read_held, "fresh": read_fresh, "parquet": read_parquet}[kind]
    Path(out).write_text(json.dumps(reader(Path(home), Path(stop))))


if __name__ == "__main__":
    main()
