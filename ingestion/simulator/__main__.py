"""``python -m ingestion.simulator``: serve the simulator until stdin closes.

Prints the root URL on the first line of stdout. Ending with the parent's stdin means the
simulator never outlives the pipeline process that started it, even when that one is killed.
"""

from __future__ import annotations

import argparse
import sys

from ingestion.simulator.server import Simulator


def main() -> None:
    parser = argparse.ArgumentParser(prog="python -m ingestion.simulator", description=__doc__)
    parser.add_argument("--seed", type=int, default=7)
    args = parser.parse_args()
    with Simulator(seed=args.seed) as simulator:
        print(simulator.root_url, flush=True)
        sys.stdin.read()


if __name__ == "__main__":
    main()
