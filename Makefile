# Quick start: `make demo` then `make test` (README). Everything installs into .venv from uv.lock.
SHELL := /bin/bash
PYTHON ?= python3
VENV := .venv
BIN := $(VENV)/bin

export LOYALTY_RAW_DIR ?= data/raw
export LOYALTY_DUCKDB_PATH ?= data/warehouse.duckdb
export DBT_SEND_ANONYMOUS_USAGE_STATS := false

DEMO_MEMBERS ?= 20000
DEMO_MONTHS ?= 36
DEMO_SEED ?= 7
SCALE ?= 10m

.PHONY: install demo data build summary test lint docs bench clean

$(BIN)/.installed: pyproject.toml uv.lock
	@$(PYTHON) -m uv --version >/dev/null 2>&1 || $(PYTHON) -m pip install --quiet uv
	$(PYTHON) -m uv sync --frozen --python $(PYTHON)
	@touch $@

install: $(BIN)/.installed  ## create .venv with the locked dependencies

data: install  ## generate demo raw data into LOYALTY_RAW_DIR
	$(BIN)/python -m loyalty_kpi generate --members $(DEMO_MEMBERS) --months $(DEMO_MONTHS) --seed $(DEMO_SEED) --out $(LOYALTY_RAW_DIR)

build: install  ## dbt build: every seed, model, snapshot and test
	$(BIN)/dbt build

summary: install  ## print the KPIs of the last complete months
	$(BIN)/python -m loyalty_kpi summary

demo: data build summary  ## demo data, full build, KPI summary

test: install  ## lint, then every test (pytest runs dbt end to end)
	$(BIN)/ruff check .
	$(BIN)/python -m pytest

docs: install  ## dbt docs site into target/
	$(BIN)/dbt docs generate

bench: install  ## benchmark: SCALE=10m generates 10 M transactions, times dbt build, records peak memory
	$(BIN)/python -m loyalty_kpi bench --scale $(SCALE)

clean:
	rm -rf target logs data/warehouse.duckdb data/warehouse.duckdb.wal
