# Quick start: `make demo` then `make test` (README). Everything installs into .venv from uv.lock.
SHELL := /bin/bash
PYTHON ?= python3
VENV := .venv
BIN := $(VENV)/bin
export PATH := $(CURDIR)/$(BIN):$(PATH)

export LOYALTY_RAW_DIR ?= data/raw
export LOYALTY_DUCKDB_PATH ?= data/warehouse.duckdb
export DBT_SEND_ANONYMOUS_USAGE_STATS := false
export DAGSTER_HOME ?= $(CURDIR)/data/dagster_home
DAGSTER_PORT ?= 3000

DEMO_MEMBERS ?= 20000
DEMO_MONTHS ?= 36
DEMO_SEED ?= 7
SCALE ?= 10m

.PHONY: install demo data build manifest job dev summary test lint docs bench clean

$(BIN)/.installed: pyproject.toml uv.lock
	@$(PYTHON) -m uv --version >/dev/null 2>&1 || $(PYTHON) -m pip install --quiet uv
	$(PYTHON) -m uv sync --frozen --inexact --python $(PYTHON)
	@touch $@

install: $(BIN)/.installed  ## create .venv with the locked dependencies (--inexact: keeps the engine groups)

# The engine adapters and pyspark (dependency groups postgres, spark) for make test and the engine targets.
$(BIN)/.installed-engines: pyproject.toml uv.lock
	@$(PYTHON) -m uv --version >/dev/null 2>&1 || $(PYTHON) -m pip install --quiet uv
	$(PYTHON) -m uv sync --frozen --all-groups --python $(PYTHON)
	@touch $@ $(BIN)/.installed

install-engines: $(BIN)/.installed-engines  ## .venv plus the PostgreSQL and Spark adapters and pyspark

data: install  ## generate demo raw data into LOYALTY_RAW_DIR
	$(BIN)/python -m loyalty_kpi generate --members $(DEMO_MEMBERS) --months $(DEMO_MONTHS) --seed $(DEMO_SEED) --out $(LOYALTY_RAW_DIR)

build: install  ## dbt build: every seed, model, snapshot and test
	$(BIN)/dbt build

$(DAGSTER_HOME)/dagster.yaml: orchestration/dagster.yaml
	@mkdir -p $(DAGSTER_HOME) && cp $< $@

manifest: install  ## dbt manifest for Dagster (what a deployment runs at build time)
	$(BIN)/dagster-dbt project prepare-and-package --file orchestration/project.py

job: manifest $(DAGSTER_HOME)/dagster.yaml  ## the Dagster build job once: raw checks, dbt build, KPI checks
	$(BIN)/dagster job execute -m orchestration.definitions -j loyalty_build

dev: install $(DAGSTER_HOME)/dagster.yaml  ## Dagster UI on 127.0.0.1:$(DAGSTER_PORT) (Ctrl-C stops it)
	exec $(BIN)/dagster dev -m orchestration.definitions -h 127.0.0.1 -p $(DAGSTER_PORT)

summary: install  ## print the KPIs of the last complete months
	$(BIN)/python -m loyalty_kpi summary

demo: data job summary  ## demo data, the main (Dagster) build job, KPI summary

test: install  ## lint, then every test (pytest runs dbt end to end)
	$(BIN)/ruff check .
	$(BIN)/python -m pytest

docs: install  ## dbt docs site into target/
	$(BIN)/dbt docs generate

bench: install  ## benchmark: SCALE=10m generates 10 M transactions, times dbt build, records peak memory
	$(BIN)/python -m loyalty_kpi bench --scale $(SCALE)

clean:
	rm -rf target logs data/warehouse.duckdb data/warehouse.duckdb.wal
