# levstress: `make run` (demo pipeline end to end), `make test` (whole suite), `make ui` (Dagster UI).
SHELL := /bin/bash
PYTHON ?= python3
VENV := .venv
BIN := $(CURDIR)/$(VENV)/bin
export PATH := $(BIN):$(PATH)
export LEVSTRESS_HOME ?= $(CURDIR)/warehouse
export DAGSTER_HOME ?= $(LEVSTRESS_HOME)/dagster
export GX_ANALYTICS_ENABLED := false
export DO_NOT_TRACK := 1
# One "planned" event per asset for a range run instead of one per asset and day (SQLite event
# logs write ~50 events/s); see orchestration/__init__.py.
export DAGSTER_EMIT_PARTITION_SUBSET_IN_PLANNED_EVENTS := 1
DEMO_START ?= 2025-09-01
DEMO_END ?= 2026-01-31
DBT_SOURCES := $(shell find dbt_project -path dbt_project/target -prune -o -type f \( -name '*.sql' -o -name '*.yml' -o -name '*.csv' \) -print 2>/dev/null)

.PHONY: setup run test bench ui docs lint clean
setup: $(VENV)/.installed dbt_project/target/manifest.json $(DAGSTER_HOME)/dagster.yaml

$(VENV)/.installed: requirements.lock pyproject.toml
	$(PYTHON) -m venv $(VENV)
	$(BIN)/pip install -q --disable-pip-version-check uv==0.13.9
	$(BIN)/uv pip install -q --compile-bytecode --python $(BIN)/python -r requirements.lock
	$(BIN)/uv pip install -q --python $(BIN)/python --no-deps -e .
	touch $@

# dagster-dbt needs the manifest before `dagster asset materialize`; parse once here, never at import.
dbt_project/target/manifest.json: $(VENV)/.installed $(DBT_SOURCES) $(wildcard ingestion/sources/*.py) ingestion/registry.py
	mkdir -p $(LEVSTRESS_HOME)
	$(BIN)/python -m orchestration.dbt_codegen
	cd dbt_project && $(BIN)/dbt parse --profiles-dir . --quiet
	touch $@

$(DAGSTER_HOME)/dagster.yaml: orchestration/dagster.yaml
	mkdir -p $(DAGSTER_HOME)
	cp orchestration/dagster.yaml $@

run: setup
	$(BIN)/dagster asset materialize -m orchestration.definitions --select '*' --partition-range $(DEMO_START)...$(DEMO_END)
	$(BIN)/levstress catch-up
	$(BIN)/levstress summary

test: setup
	$(BIN)/pytest -q

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
