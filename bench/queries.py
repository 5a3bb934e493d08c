"""Measurement 5: the README's example queries against the published snapshot, read-only.

The queries are read from README.md itself (every statement of every ```sql block, labelled by
the bold heading above the block), so the benchmark follows the README as it changes.
"""

from __future__ import annotations

import re
import statistics
import time
from pathlib import Path

import duckdb

from bench.warehouse import REPO

README = REPO / "README.md"
SQL_BLOCK = re.compile(r"```sql\n(.*?)```", re.DOTALL)
HEADING = re.compile(r"\*\*(.+?)\*\*")


def readme_queries(readme: Path = README) -> list[tuple[str, str]]:
    """[(label, sql)] for every statement of every ```sql block."""
    text = readme.read_text()
    queries: list[tuple[str, str]] = []
    for match in SQL_BLOCK.finditer(text):
        headings = HEADING.findall(text[: match.start()])
        label = headings[-1].rstrip(" :") if headings else f"block at char {match.start()}"
        statements = [s.query.strip() for s in duckdb.extract_statements(match.group(1))]
        for i, sql in enumerate(statements, start=1):
            queries.append((f"{label} ({i}/{len(statements)})" if len(statements) > 1 else label, sql))
    if not queries:
        raise RuntimeError(f"no ```sql blocks in {readme}")
    return queries


def time_queries(serving: Path, runs: int) -> dict[str, float]:
    """Median milliseconds per query (execute + fetch all rows), over ``runs`` passes, each pass on
    a fresh read-only connection (opening it is not timed)."""
    queries = readme_queries()
    samples: dict[str, list[float]] = {label: [] for label, _ in queries}
    for _ in range(runs):
        with duckdb.connect(str(serving), read_only=True) as con:
            for label, sql in queries:
                start = time.perf_counter()
                con.execute(sql).fetchall()
                samples[label].append((time.perf_counter() - start) * 1000)
    return {label: statistics.median(values) for label, values in samples.items()}
