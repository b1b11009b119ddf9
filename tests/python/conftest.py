"""Shared fixtures: build the dbt project on a raw directory into a warehouse of the test's own."""

from __future__ import annotations

from collections.abc import Mapping
from datetime import date
from pathlib import Path
from typing import Any

import pytest

from loyalty_kpi.dbt import run_dbt
from loyalty_kpi.generate import generate
from tests.python.support import Build, BuildFn

# The longest modules first, so that with pytest-xdist (`make test`: two workers, a module per worker)
# they do not start last and leave one worker idle at the end.
SLOWEST_FIRST = ("test_engines.py", "test_incremental.py", "test_end_to_end.py", "test_publish.py")


def pytest_configure(config: pytest.Config) -> None:
    """Parse the dbt project into Dagster's manifest before any test module imports the code location.

    Under pytest-xdist only the controller parses (before the workers start), never two processes at once."""
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


@pytest.fixture(scope="session")
def dbt_build(tmp_path_factory: pytest.TempPathFactory) -> BuildFn:
    """Run `dbt build` (or other dbt args) on a raw directory into a fresh warehouse."""

    def build(
        raw_dir: Path, dbt_vars: Mapping[str, Any] | None = None, args: tuple[str, ...] = ("build",)
    ) -> Build:
        work_dir = tmp_path_factory.mktemp("dbt")
        warehouse = work_dir / "warehouse.duckdb"
        result = run_dbt(args, raw_dir=raw_dir, duckdb_path=warehouse, dbt_vars=dbt_vars, work_dir=work_dir)
        return Build(warehouse, result.returncode, result.stdout + result.stderr)

    return build


@pytest.fixture(scope="session")
def generated_raw(tmp_path_factory: pytest.TempPathFactory) -> Path:
    """A small generated raw data set (Parquet, every table)."""
    out = tmp_path_factory.mktemp("raw")
    generate(out, members=600, months=30, seed=11, end_date=date(2025, 6, 18))
    return out


@pytest.fixture(scope="session")
def built(dbt_build: BuildFn, generated_raw: Path) -> Build:
    """`dbt build` with the default vars on `generated_raw`, once per session (tests that only read it)."""
    build = dbt_build(generated_raw)
    assert build.returncode == 0, build.output
    return build
