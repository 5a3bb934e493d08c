# levstress: `make run` (demo pipeline end to end), `make test` (whole suite), `make ui` (Dagster UI),
# `make run-spark` (the demo on Apache Spark, in its own home).
SHELL := /bin/bash
PYTHON ?= python3
VENV := .venv
BIN := $(CURDIR)/$(VENV)/bin
export PATH := $(BIN):$(PATH)
export LEVSTRESS_HOME ?= $(CURDIR)/warehouse
export LEVSTRESS_WAREHOUSE ?= duckdb
export DAGSTER_HOME ?= $(LEVSTRESS_HOME)/dagster
export GX_ANALYTICS_ENABLED := false
export DO_NOT_TRACK := 1
# One "planned" event per asset for a range run instead of one per asset and day (SQLite event
# logs write ~50 events/s); see orchestration/__init__.py.
export DAGSTER_EMIT_PARTITION_SUBSET_IN_PLANNED_EVENTS := 1
DEMO_START ?= 2025-09-01
DEMO_END ?= 2026-01-31
# The history before the demo window, as a new home gets it from Binance's data archive and the
# APIs that keep years: open interest, funding, prices, positioning, market caps and DVOL for the
# 60 days before it; liquidations stay shorter. Built before the window, so the window's stress
# scores have their trailing history from its first day (a score needs ~28 days) and the window's
# run, last, writes the report of its last day from everything. HISTORY_START= skips it; the
# simulator's story reaches back to 2022-10-01 (HISTORY_START=2022-10-01: three years, ~5 minutes
# more; 2025-04-01: five months, a score on 91 % of all published days, ~30-40 s more).
HISTORY_START ?= 2025-07-03
HISTORY_END ?= 2025-08-31
WITHOUT_LIQUIDATIONS := not tag:"dataset"="liquidation_events" and not tag:"dataset"="liquidation_buckets" \
	and not tag:"dataset"="collector_uptime"
SPARK_HOME_DIR ?= $(CURDIR)/warehouse-spark
DBT_SOURCES := $(shell find dbt_project -path dbt_project/target -prune -o -type f \( -name '*.sql' -o -name '*.yml' -o -name '*.csv' \) -print 2>/dev/null)

.PHONY: setup spark-setup run run-spark test bench ui docs lint clean
setup: $(VENV)/.installed dbt_project/target/manifest.json $(DAGSTER_HOME)/dagster.yaml

$(VENV)/.installed: requirements.lock pyproject.toml
	$(PYTHON) -m venv $(VENV)
	$(BIN)/pip install -q --disable-pip-version-check uv==0.13.9
	$(BIN)/uv pip install -q --compile-bytecode --python $(BIN)/python -r requirements.lock
	$(BIN)/uv pip install -q --python $(BIN)/python --no-deps -e .
	touch $@

# The Spark extra (pyspark, dbt-spark): only `make run-spark` and `make test` need it.
$(VENV)/.spark-installed: $(VENV)/.installed requirements-spark.lock
	$(BIN)/uv pip install -q --compile-bytecode --python $(BIN)/python -r requirements-spark.lock
	touch $@

spark-setup: setup $(VENV)/.spark-installed
	@java -version >/dev/null 2>&1 || { echo "Spark needs Java 17+ on PATH (e.g. apt install openjdk-17-jre-headless)"; exit 1; }

# dagster-dbt needs the manifest before `dagster asset materialize`; parse once here, never at import.
dbt_project/target/manifest.json: $(VENV)/.installed $(DBT_SOURCES) $(wildcard ingestion/sources/*.py) ingestion/registry.py
	mkdir -p $(LEVSTRESS_HOME)
	$(BIN)/python -m orchestration.dbt_codegen
	cd dbt_project && $(BIN)/dbt parse --profiles-dir . --quiet --target duckdb
	touch $@

$(DAGSTER_HOME)/dagster.yaml: orchestration/dagster.yaml
	mkdir -p $(DAGSTER_HOME)
	cp orchestration/dagster.yaml $@

run: setup
	if [ -n "$(HISTORY_START)" ]; then $(BIN)/dagster asset materialize -m orchestration.definitions \
		--select '$(WITHOUT_LIQUIDATIONS)' --partition-range $(HISTORY_START)...$(HISTORY_END); fi
	$(BIN)/dagster asset materialize -m orchestration.definitions --select '*' --partition-range $(DEMO_START)...$(DEMO_END)
	$(BIN)/levstress catch-up
	$(BIN)/levstress summary

# The same demo on Spark (LEVSTRESS_WAREHOUSE=spark) in its own home, beside the DuckDB one.
run-spark: spark-setup
	$(MAKE) --no-print-directory run LEVSTRESS_WAREHOUSE=spark LEVSTRESS_HOME=$(SPARK_HOME_DIR) \
		DAGSTER_HOME=$(SPARK_HOME_DIR)/dagster

# Two workers, whole files each (module fixtures are built once): most of the suite's real runs
# use one core, and this machine has two.
test: setup $(VENV)/.spark-installed
	$(BIN)/pytest -q -n 2 --dist loadfile

bench: setup
	$(BIN)/python -m bench $(BENCH_ARGS)

ui: setup
	$(BIN)/dagster dev -w workspace.yaml -h 127.0.0.1 -p 3000

docs: setup
	cd dbt_project && $(BIN)/dbt docs generate --profiles-dir . --static
	@echo "dbt docs: $(CURDIR)/dbt_project/target/static_index.html (opens offline)"

lint: setup
	$(BIN)/ruff check .

clean:
	rm -rf $(VENV) dbt_project/target
