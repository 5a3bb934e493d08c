"""The clients people point at the published marts, each with its real library: SQLAlchemy +
duckdb-engine (Superset, notebooks), pyarrow and polars on the Parquet exports, and an older
DuckDB 1.x client in a separate venv (the version range BI drivers embed) on serving.duckdb.

One pipeline run (one day) is shared by every test in this module.
"""

from __future__ import annotations

import json
import os
import re
import shutil
import subprocess
import sys
from pathlib import Path

import duckdb
import polars as pl
import pyarrow as pa
import pyarrow.parquet as pq
import pytest
import sqlalchemy as sa
from filelock import FileLock

from storage.publishing import TIME_COLUMNS
from tests.pipeline_helpers import MARTS, snapshot_counts

pytestmark = pytest.mark.slow

ROOT = Path(__file__).resolve().parent.parent
OLD_DUCKDB = "1.2.2"
OLD_CLIENT_CACHE = Path(os.environ.get("LEVSTRESS_CLIENT_CACHE", Path.home() / ".cache" / "levstress"))


@pytest.fixture(scope="module")
def published(demo_history: Path) -> Path:
    """The shared 68-day demo build (conftest): long enough for every mart to have rows, alerts
    included; these tests only read its published copy."""
    return demo_history


@pytest.fixture(scope="module")
def counts(published: Path) -> dict[str, int]:
    counts = snapshot_counts(published)
    assert all(n > 0 for n in counts.values()), counts
    return counts


@pytest.fixture(scope="module")
def column_types(published: Path) -> dict[str, dict[str, str]]:
    """DuckDB type of every mart column in the snapshot, in column order."""
    types: dict[str, dict[str, str]] = {m: {} for m in MARTS}
    with duckdb.connect(str(published / "serving.duckdb"), read_only=True) as con:
        rows = con.execute(
            "SELECT table_name, column_name, data_type FROM information_schema.columns "
            "WHERE table_schema = 'marts' ORDER BY table_name, ordinal_position"
        ).fetchall()
    for table, column, data_type in rows:
        types[table][column] = data_type
    return types


def readme_queries() -> list[str]:
    """Every SQL statement in the ```sql blocks of README.md's "Query it with SQL" section."""
    readme = (ROOT / "README.md").read_text()
    section = re.search(r"^## Query it with SQL\n(.*?)(?=^## )", readme, re.S | re.M)
    assert section, 'README.md has no "## Query it with SQL" section'
    blocks = re.findall(r"^```sql\n(.*?)^```", section.group(1), re.S | re.M)
    statements = [s.strip() for block in blocks for s in re.split(r";\s*(?:\n|$)", block) if s.strip()]
    assert len(statements) >= 5, statements
    return statements


# --- SQLAlchemy + duckdb-engine (Superset, notebooks) -------------------------------------------


@pytest.fixture(scope="module")
def engine(published: Path):
    engine = sa.create_engine(f"duckdb:///{published / 'serving.duckdb'}", connect_args={"read_only": True})
    yield engine
    engine.dispose()


def test_sqlalchemy_inspector_lists_and_reads_every_mart(engine, counts, column_types):
    assert set(sa.inspect(engine).get_table_names(schema="marts")) == set(MARTS)
    with engine.connect() as conn:
        for mart in MARTS:
            result = conn.execute(sa.text(f"SELECT * FROM marts.{mart}"))
            assert list(result.keys()) == list(column_types[mart]), mart
            assert len(result.all()) == counts[mart], mart


@pytest.mark.xfail(
    strict=True,
    raises=sa.exc.ProgrammingError,
    reason="SQLAlchemy >= 2.0.45 reflects columns with a pg_catalog.pg_collation.collnamespace join; DuckDB's "
    "pg_collation stub has no such column and duckdb-engine 0.17.0 does not work around it "
    "(duckdb_engine issues 1379/1391). Column reflection works with SQLAlchemy 1.4 (Superset's line): "
    "see test_duckdb_1x_clients_read_every_mart_of_the_snapshot.",
)
def test_sqlalchemy_2_1_column_reflection(engine, column_types):
    columns = sa.inspect(engine).get_columns("fct_leverage_stress_daily", schema="marts")
    assert [c["name"] for c in columns] == list(column_types["fct_leverage_stress_daily"])


def test_sqlalchemy_runs_the_readme_queries(engine):
    with engine.connect() as conn:
        for sql in readme_queries():
            result = conn.execute(sa.text(sql))
            rows = result.all()
            assert rows, f"no rows from README query:\n{sql}"


def test_sqlalchemy_connection_is_read_only(engine):
    with engine.connect() as conn, pytest.raises(sa.exc.DBAPIError, match="read-only"):
        conn.execute(sa.text("CREATE TABLE marts.scratch AS SELECT 1 AS x"))


# --- Parquet readers ------------------------------------------------------------------------------


def _arrow_type_matches(duckdb_type: str, arrow_type: pa.DataType) -> bool:
    checks = {
        "DATE": pa.types.is_date32,
        "TIMESTAMP": pa.types.is_timestamp,
        "DOUBLE": pa.types.is_float64,
        "INTEGER": pa.types.is_int32,
        "BIGINT": pa.types.is_int64,
        "BOOLEAN": pa.types.is_boolean,
        "VARCHAR": lambda t: pa.types.is_string(t) or pa.types.is_large_string(t),
    }
    return checks[duckdb_type](arrow_type)


def _polars_type_matches(duckdb_type: str, dtype: pl.DataType) -> bool:
    expected = {
        "DATE": pl.Date,
        "TIMESTAMP": pl.Datetime,
        "DOUBLE": pl.Float64,
        "INTEGER": pl.Int32,
        "BIGINT": pl.Int64,
        "BOOLEAN": pl.Boolean,
        "VARCHAR": pl.String,
    }[duckdb_type]
    return dtype.is_(expected) or dtype.base_type() == expected


def test_pyarrow_reads_every_export_with_column_types(published, counts, column_types):
    manifest = json.loads((published / "export" / "manifest.json").read_text())
    assert manifest["row_counts"] == counts
    for mart in MARTS:
        table = pq.read_table(published / "export" / mart)
        assert table.num_rows == counts[mart], mart
        assert table.column_names == list(column_types[mart]), mart
        for field in table.schema:
            assert _arrow_type_matches(column_types[mart][field.name], field.type), (mart, field)


def test_polars_reads_every_export_with_column_types(published, counts, column_types):
    for mart in MARTS:
        frame = pl.read_parquet(published / "export" / mart / "*.parquet")
        assert frame.height == counts[mart], mart
        assert frame.columns == list(column_types[mart]), mart
        for name, dtype in frame.schema.items():
            assert _polars_type_matches(column_types[mart][name], dtype), (mart, name, dtype)
    hourly = pl.scan_parquet(published / "export" / "fct_liquidations_hourly" / "*.parquet")
    top = (
        hourly.group_by("hour_start")
        .agg(pl.col("long_liquidations_usd").sum())
        .sort("long_liquidations_usd", descending=True)
    )
    assert top.head(1).collect().height == 1


def test_exports_are_one_file_per_month_for_pruning_by_date(published, counts):
    """Each file holds one calendar month of the mart's time column (named for it, so an engine
    can skip it by name or by its min/max statistics), and the files add up to the mart."""
    for mart in MARTS:
        files = sorted((published / "export" / mart).glob("*.parquet"))
        assert files, mart
        total = 0
        for path in files:
            table = pq.read_table(path)
            column = next(c for c in TIME_COLUMNS if c in table.column_names)
            month = path.stem.removeprefix(f"{mart}_")
            assert {v.strftime("%Y-%m") for v in table.column(column).to_pylist()} == {month}, path
            stats = pq.ParquetFile(path).metadata.row_group(0).column(table.column_names.index(column)).statistics
            assert stats.has_min_max and stats.min.strftime("%Y-%m") == month == stats.max.strftime("%Y-%m")
            total += table.num_rows
        assert total == counts[mart], mart


# --- older DuckDB 1.x clients, as embedded in BI drivers ------------------------------------------
# One venv, made once and cached between runs: the DuckDB 1.x Python client, SQLAlchemy 1.4 +
# duckdb-engine (the SQLAlchemy line Superset pins) and a DuckDB 1.x CLI.
OLD_CLIENT_REQUIREMENTS = [f"duckdb=={OLD_DUCKDB}", "duckdb-engine==0.17.0", "sqlalchemy==1.4.54", "duckdb-cli==1.4.4"]


@pytest.fixture(scope="module")
def old_clients() -> Path:
    venv = OLD_CLIENT_CACHE / f"duckdb-{OLD_DUCKDB}-venv"
    python = venv / "bin" / "python"
    ready = venv / ".levstress-ready"
    wanted = "\n".join(OLD_CLIENT_REQUIREMENTS)
    OLD_CLIENT_CACHE.mkdir(parents=True, exist_ok=True)
    with FileLock(str(OLD_CLIENT_CACHE / f"{venv.name}.lock"), timeout=600):
        if not (ready.exists() and ready.read_text() == wanted and python.exists()):
            shutil.rmtree(venv, ignore_errors=True)
            uv = shutil.which("uv", path=str(Path(sys.executable).parent)) or shutil.which("uv")
            if uv:
                subprocess.run([uv, "venv", "-q", "-p", sys.executable, str(venv)], check=True)
                subprocess.run(
                    [uv, "pip", "install", "-q", "--python", str(python), *OLD_CLIENT_REQUIREMENTS], check=True
                )
            else:
                subprocess.run([sys.executable, "-m", "venv", str(venv)], check=True)
                subprocess.run([str(python), "-m", "pip", "install", "-q", *OLD_CLIENT_REQUIREMENTS], check=True)
            ready.write_text(wanted)
    return venv


OLD_CLIENT_SCRIPT = r"""
import json, sys
import duckdb
import sqlalchemy as sa
path, queries = sys.argv[1], json.loads(sys.argv[2])
con = duckdb.connect(path, read_only=True)
out = {"duckdb": duckdb.__version__, "sqlalchemy": sa.__version__, "rows": {}, "queries": [], "columns": {}}
out["storage"] = con.execute(
    "SELECT tags['storage_version'] FROM duckdb_databases() WHERE NOT internal AND database_name <> 'temp'"
).fetchone()[0]
marts = [r[0] for r in con.execute(
    "SELECT table_name FROM information_schema.tables WHERE table_schema = 'marts' ORDER BY 1").fetchall()]
for mart in marts:
    out["rows"][mart] = len(con.execute(f"SELECT * FROM marts.{mart}").fetchall())
for sql in queries:
    out["queries"].append(len(con.execute(sql).fetchall()))
con.close()
engine = sa.create_engine(f"duckdb:///{path}", connect_args={"read_only": True})
inspector = sa.inspect(engine)
for mart in inspector.get_table_names(schema="marts"):
    out["columns"][mart] = [c["name"] for c in inspector.get_columns(mart, schema="marts")]
print(json.dumps(out))
"""


def test_duckdb_1x_clients_read_every_mart_of_the_snapshot(published, counts, column_types, old_clients):
    queries = readme_queries()
    proc = subprocess.run(
        [
            str(old_clients / "bin" / "python"),
            "-c",
            OLD_CLIENT_SCRIPT,
            str(published / "serving.duckdb"),
            json.dumps(queries),
        ],
        capture_output=True,
        text=True,
        timeout=300,
    )
    assert proc.returncode == 0, proc.stderr
    out = json.loads(proc.stdout)
    assert out["duckdb"] == OLD_DUCKDB and out["sqlalchemy"].startswith("1.4")
    assert out["storage"].startswith("v1.0.0"), out["storage"]
    assert out["rows"] == counts
    assert len(out["queries"]) == len(queries) and all(n > 0 for n in out["queries"]), out["queries"]
    assert out["columns"] == {m: list(cols) for m, cols in column_types.items()}


def test_duckdb_1x_cli_opens_the_snapshot_read_only(published, counts, old_clients):
    """The README's command, `duckdb -readonly serving.duckdb`, with a DuckDB 1.x CLI."""
    script = "".join(f"SELECT '{m}', count(*) FROM marts.{m};\n" for m in MARTS)
    script += "".join(f"{sql};\n" for sql in readme_queries())
    proc = subprocess.run(
        [
            str(old_clients / "bin" / "duckdb"),
            "-readonly",
            "-bail",
            "-csv",
            "-noheader",
            str(published / "serving.duckdb"),
        ],
        input=script,
        capture_output=True,
        text=True,
        timeout=120,
    )
    assert proc.returncode == 0 and not proc.stderr, proc.stderr
    lines = dict(line.split(",", 1) for line in proc.stdout.splitlines()[: len(MARTS)])
    assert {m: int(n) for m, n in lines.items()} == counts
    write = subprocess.run(
        [str(old_clients / "bin" / "duckdb"), "-readonly", str(published / "serving.duckdb")],
        input="CREATE TABLE marts.scratch AS SELECT 1;\n",
        capture_output=True,
        text=True,
        timeout=60,
    )
    assert "read-only" in (write.stdout + write.stderr)


def test_duckdb_1x_client_cannot_open_the_pipeline_file(published, old_clients):
    """Why BI tools must be pointed at serving.duckdb: the pipeline's own file is DuckDB 2.0 storage."""
    script = "import duckdb, sys; duckdb.connect(sys.argv[1], read_only=True)"
    proc = subprocess.run(
        [str(old_clients / "bin" / "python"), "-c", script, str(published / "levstress.duckdb")],
        capture_output=True,
        text=True,
        timeout=120,
    )
    assert proc.returncode != 0
    assert "newer version of DuckDB" in proc.stderr
