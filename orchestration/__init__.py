import os
import warnings

# dagster_shared, not dagster: importing dagster costs ~4 s, and `levstress summary` imports this
# package without needing it.
from dagster_shared.utils.warnings import BetaWarning, PreviewWarning

# Single-run backfill policies and pools are the documented way to run DuckDB safely; their
# beta/preview labels would otherwise repeat in every run's log.
warnings.filterwarnings("ignore", category=BetaWarning)
warnings.filterwarnings("ignore", category=PreviewWarning)

# A single-run backfill would otherwise log one "planned" event per asset and day before the run
# starts (thousands of SQLite writes for a year). Set here for runs launched from this process
# (CLI, tests); the Makefile exports it for `dagster dev`.
os.environ.setdefault("DAGSTER_EMIT_PARTITION_SUBSET_IN_PLANNED_EVENTS", "1")
