"""What one Great Expectations validation costs, whatever the data: ``quality.validate`` on a
synthetic frame shaped like a raw day (2,000 rows, 12 numeric columns; one not-null and one range
expectation per column and a compound key), after one warm-up call.

    .venv/bin/python -m bench.validation [--rows 2000] [--calls 20]

Prints one JSON object: seconds per validation and per expectation.
"""

from __future__ import annotations

import argparse
import json
import time
from typing import Any

import numpy as np
import pandas as pd

from quality.validate import validate

COLUMNS = 12


def expectations() -> list[Any]:
    import great_expectations.expectations as gxe

    columns = [f"c{i}" for i in range(COLUMNS)]
    return [
        *(gxe.ExpectColumnValuesToNotBeNull(column=c) for c in columns),
        *(gxe.ExpectColumnValuesToBeBetween(column=c, min_value=0, strict_min=True) for c in columns),
        gxe.ExpectCompoundColumnsToBeUnique(column_list=columns[:2]),
    ]


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--rows", type=int, default=2000)
    parser.add_argument("--calls", type=int, default=20)
    args = parser.parse_args()
    rng = np.random.default_rng(7)
    frame = pd.DataFrame({f"c{i}": rng.random(args.rows) + 0.1 for i in range(COLUMNS)})
    report = validate("warm-up", frame, expectations())
    if not report.success:
        raise SystemExit(report.markdown())
    start = time.perf_counter()
    for _ in range(args.calls):
        validate("frame", frame, expectations())
    per_call = (time.perf_counter() - start) / args.calls
    count = len(expectations())
    print(
        json.dumps(
            {
                "rows": args.rows,
                "expectations": count,
                "s_per_validation": round(per_call, 4),
                "ms_per_expectation": round(1000 * per_call / count, 2),
            }
        )
    )


if __name__ == "__main__":
    main()
