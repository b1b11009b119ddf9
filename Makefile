# Quick start: `make demo` then `make test` (README). Everything installs into .venv from uv.lock.
SHELL := /bin/bash
PYTHON ?= python3
# the interpreter that creates .venv, resolved before .venv/bin goes first on PATH
BOOTSTRAP_PYTHON := $(shell command -v $(PYTHON))
VENV := .venv
BIN := $(VENV)/bin
export PATH := $(CURDIR)/$(BIN):$(PATH)

export LOYALTY_RAW_DIR ?= data/raw
export LOYALTY_DUCKDB_PATH ?= data/warehouse.duckdb
export DBT_SEND_ANONYMOUS_USAGE_STATS := false
export DAGSTER_HOME ?= $(CURDIR)/data/dagster_home
DAGSTER_PORT ?= 3000
DBT_DOCS_PORT ?= 8080
# make metrics: what `mf query` asks for (README "Semantic layer")
METRICS ?= active_members,crr_pct,churn_rate_pct,aov,nps
METRICS_GROUP_BY ?= metric_time__month
MF_QUERY_ARGS ?=

DEMO_MEMBERS ?= 20000
DEMO_MONTHS ?= 36
DEMO_SEED ?= 7
SCALE ?= 10m
# make test: pytest-xdist workers, one test module each at a time, the slowest modules first
# (tests/python/conftest.py). The tests wait on JVMs, the Thrift Server's polling and servers starting as
# much as they compute, so three workers finish sooner than two even on two cores.
TEST_WORKERS ?= 3

.PHONY: install demo data build manifest job dev summary report test lint docs docs-generate metrics metrics-validate bench clean chromium
.PHONY: install-engines postgresql java postgres-up postgres-down load-postgres build-postgres
.PHONY: spark-up spark-down build-spark-session build-spark-thrift

$(BIN)/.installed: pyproject.toml uv.lock
	@$(BOOTSTRAP_PYTHON) -m uv --version >/dev/null 2>&1 || $(BOOTSTRAP_PYTHON) -m pip install --quiet uv
	$(BOOTSTRAP_PYTHON) -m uv sync --frozen --inexact --compile-bytecode --python $(BOOTSTRAP_PYTHON)
	@touch $@

install: $(BIN)/.installed  ## create .venv with the locked dependencies (--inexact: keeps the engine groups)

# The engine adapters and pyspark (dependency groups postgres, spark) for make test and the engine targets.
$(BIN)/.installed-engines: pyproject.toml uv.lock
	@$(BOOTSTRAP_PYTHON) -m uv --version >/dev/null 2>&1 || $(BOOTSTRAP_PYTHON) -m pip install --quiet uv
	$(BOOTSTRAP_PYTHON) -m uv sync --frozen --all-groups --compile-bytecode --python $(BOOTSTRAP_PYTHON)
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

report: install  ## the HTML KPI report from the published marts (LOYALTY_PUBLISH_DIR) into LOYALTY_REPORT_PATH
	$(BIN)/python -m loyalty_kpi report

demo: data job summary  ## demo data, the main (Dagster) build job, KPI summary

test: install-engines postgresql java chromium  ## lint, then every test (pytest runs dbt end to end, on every engine)
	$(BIN)/ruff check .
	$(BIN)/python -m pytest -n $(TEST_WORKERS) --dist loadfile --no-loadscope-reorder

docs-generate: install  ## dbt docs site into target/ (needs a built warehouse for the catalog)
	$(BIN)/dbt docs generate

docs: docs-generate  ## generate the dbt docs site, then serve it on http://127.0.0.1:$(DBT_DOCS_PORT) (Ctrl-C stops it)
	exec $(BIN)/dbt docs serve --host 127.0.0.1 --port $(DBT_DOCS_PORT) --no-browser

# The semantic layer reads the published marts read only (profile target `published`): mf's semantic
# manifest must be parsed for that target, in target/ (where mf looks for it).
SEMANTIC_TARGET ?= published

metrics-validate: install  ## MetricFlow's checks of the semantic models and metrics, against the published marts
	LOYALTY_DBT_TARGET=$(SEMANTIC_TARGET) $(BIN)/dbt parse --quiet
	LOYALTY_DBT_TARGET=$(SEMANTIC_TARGET) $(BIN)/mf validate-configs

metrics: install  ## METRICS by METRICS_GROUP_BY from the published marts, through MetricFlow
	LOYALTY_DBT_TARGET=$(SEMANTIC_TARGET) $(BIN)/dbt parse --quiet
	LOYALTY_DBT_TARGET=$(SEMANTIC_TARGET) $(BIN)/mf query --metrics $(METRICS) --group-by $(METRICS_GROUP_BY) --order $(METRICS_GROUP_BY) $(MF_QUERY_ARGS)

BENCH_TARGET ?= duckdb
BENCH_ARGS ?=  # e.g. --reuse-generated: keep the data an earlier run generated at this scale
bench: $(if $(filter duckdb,$(BENCH_TARGET)),install,install-engines)  ## benchmark: SCALE=10m generates 10 M transactions, times the full dbt build on BENCH_TARGET, one incremental day and the reference query (DuckDB), records peak memory
	$(BIN)/python -m loyalty_kpi bench --scale $(SCALE) --target $(BENCH_TARGET) $(BENCH_ARGS)

# ---- other engines (README "Engines"): PostgreSQL 15 and Spark, each from this machine's packages ----
PG_BIN := /usr/lib/postgresql/15/bin
SPARK_ENV := LOYALTY_RAW_DIR=$(abspath $(LOYALTY_RAW_DIR)) SPARK_LOCAL_IP=127.0.0.1

postgresql:  ## install Debian's PostgreSQL 15 if it is absent (root)
	@test -x $(PG_BIN)/initdb || { apt-get update && DEBIAN_FRONTEND=noninteractive apt-get install -y postgresql; }

java:  ## install Java 17 for Spark if there is no java (root)
	@command -v java >/dev/null || { apt-get update && DEBIAN_FRONTEND=noninteractive apt-get install -y openjdk-17-jre-headless; }

chromium:  ## install Debian's Chromium for the report's browser test if it is absent (root)
	@test -x /usr/bin/chromium || { apt-get update && DEBIAN_FRONTEND=noninteractive apt-get install -y chromium; }

postgres-up: install-engines postgresql  ## start a local PostgreSQL cluster in data/pg on 127.0.0.1:LOYALTY_PG_PORT (5433)
	$(BIN)/python -m loyalty_kpi postgres up

postgres-down: install-engines  ## stop the local PostgreSQL cluster (by its PID)
	$(BIN)/python -m loyalty_kpi postgres down

load-postgres: install-engines  ## copy the raw files of LOYALTY_RAW_DIR into PostgreSQL's raw schema
	$(BIN)/python -m loyalty_kpi postgres load

# Off DuckDB the CLV marts follow the CLV step (README "Predictive CLV on PostgreSQL and Spark"): dbt build
# without them, then clv-fit (the step, then dbt build of the CLV marts and their tests).
CLV_STEP_MARTS := source:clv_step+

build-postgres: load-postgres  ## load-postgres, then dbt build on the postgres target (with the CLV step)
	$(BIN)/dbt build --target postgres --exclude $(CLV_STEP_MARTS)
	$(BIN)/python -m loyalty_kpi clv-fit --target postgres

spark-up: install-engines java  ## start a Spark master, worker and Thrift Server on 127.0.0.1:LOYALTY_SPARK_PORT (10000)
	$(BIN)/python -m loyalty_kpi spark up

spark-down: install-engines  ## stop the Spark Thrift Server, worker and master (by their PIDs)
	$(BIN)/python -m loyalty_kpi spark down

build-spark-session: install-engines java  ## dbt build in a local Spark session (nothing to start; with the CLV step)
	$(SPARK_ENV) $(BIN)/dbt build --target spark_session --exclude $(CLV_STEP_MARTS)
	$(SPARK_ENV) $(BIN)/python -m loyalty_kpi clv-fit --target spark_session

build-spark-thrift: install-engines  ## dbt build through the Spark Thrift Server (make spark-up first; with the CLV step)
	$(SPARK_ENV) $(BIN)/dbt build --target spark_thrift --exclude $(CLV_STEP_MARTS)
	$(SPARK_ENV) $(BIN)/python -m loyalty_kpi clv-fit --target spark_thrift

clean:
	rm -rf target logs data/warehouse.duckdb data/warehouse.duckdb.wal
