import os
import warnings

import dagster as dg

# Single-run backfill policies and pools are the documented way to run DuckDB safely; their
# beta/preview labels would otherwise repeat in every run's log.
warnings.filterwarnings("ignore", category=dg.BetaWarning)
warnings.filterwarnings("ignore", category=dg.PreviewWarning)

# A single-run backfill would otherwise log one "planned" event per asset and day before the run
# starts (thousands of SQLite writes for a year). Set here for runs launched from this process
# (CLI, tests); the Makefile exports it for `dagster dev`.
os.environ.setdefault("DAGSTER_EMIT_PARTITION_SUBSET_IN_PLANNED_EVENTS", "1")
