"""Predictive CLV on the engines without dbt Python models (loyalty_kpi/clv_warehouse.py): the CLV step
computes what DuckDB's dbt Python models compute, and is the Dagster asset of those models' keys there.

The step's run on PostgreSQL and Spark, and the dbt CLV marts built on what it wrote (every CLV mart and
its dbt tests on every engine, equal to DuckDB's), are tested in test_engines.py (tests/python/engines.py
`build`, as `clv-fit` runs them); the whole Dagster job with the step in test_orchestration_engines.py."""

from __future__ import annotations

import duckdb
import pandas as pd

from loyalty_kpi.clv_warehouse import STEP_COLUMNS, SUMMARY_TABLE, compute_step_tables, settings_from_project
from orchestration.assets.clv import DEPS, SUMMARY_KEY, build_clv_asset, step_fit_metadata
from orchestration.assets.dbt import loyalty_dbt_assets
from tests.python.support import Build

KEYS = {
    "int_clv_fit": ["calibration", "model", "parameter"],
    "int_clv_member_predictions": ["calibration", "member_id"],
}


def test_clv_step_asset_exists_where_dbt_does_not_fit() -> None:
    """Same asset keys and dependencies on every target: the dbt Python models on DuckDB, the step's asset
    elsewhere."""
    assert set(loyalty_dbt_assets.keys) >= set(DEPS)  # this session's manifest is DuckDB's
    assert build_clv_asset("duckdb", "loyalty_warehouse", loyalty_dbt_assets.keys) is None
    asset = build_clv_asset("postgres", "loyalty_warehouse", dbt_keys=[])
    assert asset is not None and set(asset.keys) == set(DEPS)
    expected = {key: set(deps) for key, deps in DEPS.items()}
    assert {key: set(asset.asset_deps[key]) for key in DEPS} == expected
    assert {key: set(loyalty_dbt_assets.asset_deps[key]) for key in DEPS} == expected
    assert all(SUMMARY_KEY in deps for deps in expected.values())
    assert {asset.group_names_by_key[key] for key in DEPS} == {"intermediate"}


def test_the_step_computes_what_the_dbt_python_models_build(built: Build) -> None:
    """The step's tables from DuckDB's summary equal DuckDB's int_clv_fit and int_clv_member_predictions:
    same columns, rows and values."""
    with duckdb.connect(str(built.warehouse), read_only=True) as con:
        summary = con.execute(f"select * from {SUMMARY_TABLE}").df()
        dbt_tables = {name: con.execute(f"select * from intermediate.{name}").df() for name in STEP_COLUMNS}
    step = compute_step_tables(summary, settings_from_project())
    for name, frame in step.items():
        expected = dbt_tables[name]
        assert list(frame.columns) == [column for column, _ in STEP_COLUMNS[name]] == list(expected.columns)
        assert len(frame) == len(expected) > 0, name
        pd.testing.assert_frame_equal(
            frame.sort_values(KEYS[name]).reset_index(drop=True),
            expected.sort_values(KEYS[name]).reset_index(drop=True),
            check_dtype=False,
            rtol=1e-12,
        )
    metadata = step_fit_metadata(step["int_clv_fit"])
    assert {"bg_nbd/r", "gamma_gamma/p", "bg_nbd/log_likelihood", "clv_parameters"} <= set(metadata)
