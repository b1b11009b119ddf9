"""Shared fixtures: build the dbt project on a raw directory into a warehouse of the test's own."""

from __future__ import annotations

import json
import os
import shutil
from collections.abc import Mapping
from datetime import date
from pathlib import Path
from typing import Any

import pytest

from loyalty_kpi.dbt import run_dbt
from loyalty_kpi.generate import generate
from loyalty_kpi.locks import exclusive_lock
from tests.python.support import DATA_BUILD, WORKED_EXAMPLE, Build, BuildFn

# The longest modules first (by a profiled `make test`), so that with pytest-xdist (`make test`: a module per
# worker at a time, `--no-loadscope-reorder` so that xdist keeps this order rather than ordering by test
# count) they do not start last and leave the other workers idle at the end.
SLOWEST_FIRST = (
    "test_engines.py",
    "test_incremental.py",
    "test_incremental_engines.py",
    "test_orchestration_engines.py",
    "test_orchestration.py",
    "test_end_to_end.py",
    "test_raw_contract.py",
    "test_publish.py",
    "test_clv.py",
    "test_bad_input.py",
    "test_privacy.py",
    "test_semantic_layer.py",
    "test_report.py",
    "test_clv_engines.py",
)


# Spark on the tests' small data: every JVM (the Thrift Server's cluster, a session's) skips the optimizing
# JIT compiler and keeps one GC thread, and a shuffle has one partition: about 30 % less CPU per build here,
# where the JVMs share two cores with the other workers. Set unless the environment says otherwise.
SPARK_TEST_ENV = {
    "LOYALTY_SPARK_JAVA_OPTIONS": "-XX:TieredStopAtLevel=1 -XX:+UseSerialGC",
    "LOYALTY_SPARK_SHUFFLE_PARTITIONS": "1",
}


def pytest_configure(config: pytest.Config) -> None:
    """The Spark settings of the tests; then parse the dbt project into Dagster's manifest before any test
    module imports the code location.

    Under pytest-xdist only the controller parses (before the workers start), never two processes at once."""
    for name, value in SPARK_TEST_ENV.items():
        os.environ.setdefault(name, value)
    if hasattr(config, "workerinput"):
        return
    from orchestration.project import loyalty_project

    loyalty_project.preparer.prepare(loyalty_project)


def pytest_collection_modifyitems(items: list[pytest.Item]) -> None:
    """Run the slowest modules first (stable order otherwise)."""

    def rank(item: pytest.Item) -> int:
        name = item.path.name
        return SLOWEST_FIRST.index(name) if name in SLOWEST_FIRST else len(SLOWEST_FIRST)

    items.sort(key=rank)


# ------------------------------------------------------------------------ builds shared by the workers


def _session_dir(tmp_path_factory: pytest.TempPathFactory) -> Path:
    """A directory of the whole test run: under pytest-xdist every worker's base temp is a directory of
    the run's own (popen-gw0, popen-gw1, …), so their parent is shared."""
    base = tmp_path_factory.getbasetemp()
    shared = (base.parent if os.environ.get("PYTEST_XDIST_WORKER") else base) / "shared"
    shared.mkdir(exist_ok=True)
    return shared


def _once_per_run(tmp_path_factory: pytest.TempPathFactory, name: str, make: Any) -> Path:
    """The directory `make(directory)` filled, made by the first worker that asks, once per test run."""
    shared = _session_dir(tmp_path_factory)
    directory = shared / name
    done = shared / f"{name}.done"
    with exclusive_lock(shared / f"{name}.lock"):
        if not done.exists():
            shutil.rmtree(directory, ignore_errors=True)
            directory.mkdir()
            make(directory)
            done.touch()
    return directory


def shared_build(
    tmp_path_factory: pytest.TempPathFactory,
    name: str,
    raw_dir: Path,
    dbt_vars: Mapping[str, Any] | None = None,
    args: tuple[str, ...] = DATA_BUILD,
) -> Build:
    """`dbt <args>` (default: DATA_BUILD) on raw_dir into a fresh warehouse, run once per test run (the
    first worker that needs it builds, the others wait for it): each caller gets a copy of the warehouse
    and its target/ of its own, so that no two processes open one DuckDB file and a test may change its
    copy."""

    def make(directory: Path) -> None:
        result = run_dbt(
            args, raw_dir=raw_dir, duckdb_path=directory / "warehouse.duckdb", dbt_vars=dbt_vars,
            work_dir=directory,
        )  # fmt: skip
        (directory / "build.json").write_text(
            json.dumps({"returncode": result.returncode, "output": result.stdout + result.stderr})
        )

    built = _once_per_run(tmp_path_factory, name, make)
    copy = tmp_path_factory.mktemp(name)
    shutil.copytree(built, copy, dirs_exist_ok=True, ignore=shutil.ignore_patterns("logs"))
    done = json.loads((copy / "build.json").read_text())
    return Build(copy / "warehouse.duckdb", done["returncode"], done["output"])


# ----------------------------------------------------------------------------------------------- fixtures


@pytest.fixture(scope="session")
def dbt_build(tmp_path_factory: pytest.TempPathFactory) -> BuildFn:
    """Run DATA_BUILD (or other dbt args) on a raw directory into a fresh warehouse."""

    def build(
        raw_dir: Path, dbt_vars: Mapping[str, Any] | None = None, args: tuple[str, ...] = DATA_BUILD
    ) -> Build:
        work_dir = tmp_path_factory.mktemp("dbt")
        warehouse = work_dir / "warehouse.duckdb"
        result = run_dbt(args, raw_dir=raw_dir, duckdb_path=warehouse, dbt_vars=dbt_vars, work_dir=work_dir)
        return Build(warehouse, result.returncode, result.stdout + result.stderr)

    return build


@pytest.fixture(scope="session")
def generated_raw(tmp_path_factory: pytest.TempPathFactory) -> Path:
    """A small generated raw data set (Parquet, every table), generated once per test run (read only:
    the workers share it)."""
    return _once_per_run(
        tmp_path_factory,
        "generated-raw",
        lambda out: generate(out, members=600, months=30, seed=11, end_date=date(2025, 6, 18)),
    )


@pytest.fixture(scope="session")
def built(tmp_path_factory: pytest.TempPathFactory, generated_raw: Path) -> Build:
    """`dbt build` with the default vars on `generated_raw`, once per test run (a copy per worker)."""
    build = shared_build(tmp_path_factory, "generated-build", generated_raw)
    assert build.returncode == 0, build.output
    return build


@pytest.fixture(scope="session")
def worked_example_built(tmp_path_factory: pytest.TempPathFactory) -> Build:
    """`dbt build` with the default vars on the spec's worked example, once per test run (a copy per
    worker)."""
    build = shared_build(tmp_path_factory, "worked-example-build", WORKED_EXAMPLE / "raw")
    assert build.returncode == 0, build.output
    return build
