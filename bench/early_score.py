"""How noisy is an early stress score? Measured on a built home (the demo after `make run`).

A home whose history starts on day ``s`` is simulated with the real model: a copy of the
warehouse, ``fct_leverage_stress_daily`` rebuilt with ``history_start = s`` (inputs before ``s``
ignored) and a minimum of history low enough to see the whole curve. Each early score, at
``h`` days of history, is compared with the same day's score of the full build where that
score had at least ``--mature`` days behind it.

    .venv/bin/python -m bench.early_score [--home warehouse] [--starts 2025-10-15,2025-11-05]

Prints one JSON object: per history length bucket, the number of scores compared, the mean
absolute score difference, the share that lands in the same stress level, and the share more
than 20 points off. For scale: two unrelated uniform scores differ by 33.3 on average.
"""

from __future__ import annotations

import argparse
import json
import os
import shutil
import subprocess
import sys
import tempfile
from pathlib import Path

import duckdb

REPO = Path(__file__).resolve().parent.parent
DBT_PROJECT = REPO / "dbt_project"
BUCKETS = (5, 7, 10, 14, 21, 30, 45, 60)
SCORES = """
SELECT date, asset, stress_score, stress_level, stress_history_days
FROM marts.fct_leverage_stress_daily WHERE stress_score IS NOT NULL
"""


def rebuild_from(home: Path, history_start: str | None = None, min_history: int | None = None) -> None:
    """The real model on the copy in ``home``; without arguments, the project's own defaults."""
    dbt_vars: dict[str, object] = {"history_start": history_start}
    if min_history is not None:
        dbt_vars["stress_min_history_days"] = min_history
    subprocess.run(
        [
            str(Path(sys.executable).parent / "dbt"),
            "run",
            "--quiet",
            "--select",
            "fct_leverage_stress_daily",
            "--full-refresh",
            "--vars",
            json.dumps(dbt_vars),
            "--profiles-dir",
            str(DBT_PROJECT),
            "--project-dir",
            str(DBT_PROJECT),
            "--target",
            "duckdb",
        ],
        env={**os.environ, "LEVSTRESS_HOME": str(home)},
        check=True,
    )


def scores(warehouse: Path) -> list[tuple]:
    with duckdb.connect(str(warehouse), read_only=True) as con:
        return con.execute(SCORES).fetchall()


def bucket(history_days: int) -> int | None:
    eligible = [b for b in BUCKETS if b <= history_days]
    return eligible[-1] if eligible else None


def compare(
    early: list[tuple], reference: dict[tuple, tuple], mature: int, by_bucket: dict[int, list[tuple[float, bool]]]
) -> None:
    """Add each early score's (difference, same level) to its history bucket in ``by_bucket``."""
    for date, asset, score, level, history_days in early:
        ref = reference.get((date, asset))
        b = bucket(history_days)
        if ref is not None and b is not None and ref[2] >= mature:
            by_bucket[b].append((abs(score - ref[0]), level == ref[1]))


def summary(by_bucket: dict[int, list[tuple[float, bool]]]) -> dict[str, dict[str, float]]:
    out = {}
    for b, pairs in by_bucket.items():
        if not pairs:
            continue
        diffs = [d for d, _ in pairs]
        upper = next((n for n in BUCKETS if n > b), None)
        out[f"history_days {b}-{upper - 1}" if upper else f"history_days {b}+"] = {
            "scores": len(pairs),
            "mean_abs_diff": round(sum(diffs) / len(diffs), 1),
            "same_level_share": round(sum(same for _, same in pairs) / len(pairs), 2),
            "off_by_20_share": round(sum(d > 20 for d in diffs) / len(diffs), 2),
        }
    return out


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--home", type=Path, default=REPO / "warehouse")
    parser.add_argument("--starts", default="2025-10-15,2025-11-05,2025-11-25")
    parser.add_argument("--mature", type=int, default=60, help="history days of a reference score")
    args = parser.parse_args(argv)
    by_bucket: dict[int, list[tuple[float, bool]]] = {b: [] for b in BUCKETS}
    with tempfile.TemporaryDirectory() as tmp:
        home = Path(tmp)
        shutil.copy(args.home / "levstress.duckdb", home / "levstress.duckdb")
        rebuild_from(home)
        reference = {(d, a): (s, lv, h) for d, a, s, lv, h in scores(home / "levstress.duckdb")}
        for start in args.starts.split(","):
            shutil.copy(args.home / "levstress.duckdb", home / "levstress.duckdb")
            rebuild_from(home, start, min(BUCKETS))
            compare(scores(home / "levstress.duckdb"), reference, args.mature, by_bucket)
    print(json.dumps({"starts": args.starts.split(","), "mature_days": args.mature, **summary(by_bucket)}, indent=2))
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
