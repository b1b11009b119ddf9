"""Predictive CLV on the engines without dbt Python models (loyalty_kpi/clv_warehouse.py): the CLV marts
computed outside dbt equal the ones DuckDB's dbt Python models build, and on PostgreSQL and Spark they
land in the marts schema with the contracts' columns (parameters to 1e-6 relative, row counts exact)."""

from __future__ import annotations

import shutil
from contextlib import closing
from datetime import date
from pathlib import Path

import duckdb
import numpy as np
import pandas as pd
import psycopg
import pytest
from dagster import materialize
from pyhive import hive

from loyalty_kpi.clv_warehouse import (
    MART_COLUMNS,
    SUMMARY_TABLE,
    SparkThriftClvWarehouse,
    compute_marts,
    run_on_target,
)
from loyalty_kpi.dbt import run_dbt
from loyalty_kpi.generate import generate
from loyalty_kpi.load_postgres import load_raw
from loyalty_kpi.postgres import PgSettings
from loyalty_kpi.spark import HOST, SparkClusterSettings
from orchestration.assets.clv import SUMMARY_KEY, build_clv_asset
from orchestration.assets.dbt import loyalty_dbt_assets
from orchestration.clv_metadata import CLV_ASSETS, CLV_FIT
from orchestration.resources import LoyaltyWarehouse
from tests.python.test_engines import postgres_server, spark_thrift_server  # noqa: F401 (fixtures)

MARTS = sorted(MART_COLUMNS)
KEYS = {
    "clv_model_fit": ["model", "parameter"],
    "member_clv_predicted": ["member_id"],
    "clv_holdout_validation": ["frequency_bucket"],
}
RTOL = 1e-6
# the marts' upstream only: the tests of a partial selection may reach models outside it
NO_TESTS = ("--exclude-resource-type", "test", "unit_test")


def assert_marts_equal(actual: dict[str, pd.DataFrame], expected: dict[str, pd.DataFrame]) -> None:
    """Same columns, same keys (row counts exact), numbers to 1e-6 relative, nulls in the same places."""
    for mart in MARTS:
        got, want = actual[mart], expected[mart]
        assert list(got.columns) == [name for name, _ in MART_COLUMNS[mart]], mart
        assert len(got) == len(want) > 0, mart
        keys = KEYS[mart]
        got = got.sort_values(keys).reset_index(drop=True)
        want = want.sort_values(keys).reset_index(drop=True)
        for column, kind in MART_COLUMNS[mart]:
            left, right = got[column], want[column]
            assert (left.isna() == right.isna()).all(), f"{mart}.{column}: nulls differ"
            present = right.notna()
            if kind == "double":
                assert np.allclose(
                    left[present].astype(float), right[present].astype(float), rtol=RTOL, atol=0
                ), f"{mart}.{column}"
            elif kind == "date":
                assert (pd.to_datetime(left[present]) == pd.to_datetime(right[present])).all(), column
            elif kind == "bigint":
                assert (left[present].astype("int64") == right[present].astype("int64")).all(), column
            else:
                assert (left[present].astype(str) == right[present].astype(str)).all(), f"{mart}.{column}"


@pytest.fixture(scope="module")
def raw_dir(tmp_path_factory: pytest.TempPathFactory) -> Path:
    """The cross-engine tests' data set (300 members: enough for both fits)."""
    out = tmp_path_factory.mktemp("clv-raw")
    generate(out, members=300, months=24, seed=5, end_date=date(2025, 6, 18))
    return out


@pytest.fixture(scope="module")
def duckdb_build(tmp_path_factory: pytest.TempPathFactory, raw_dir: Path) -> Path:
    """DuckDB: the CLV marts by the dbt Python models."""
    work_dir = tmp_path_factory.mktemp("clv-duckdb")
    warehouse = work_dir / "warehouse.duckdb"
    result = run_dbt(
        (
            "build",
            "--select",
            "+clv_model_fit",
            "+member_clv_predicted",
            "+clv_holdout_validation",
            *NO_TESTS,
        ),
        raw_dir=raw_dir,
        duckdb_path=warehouse,
        work_dir=work_dir,
        target="duckdb",
    )
    assert result.returncode == 0, (result.stdout + result.stderr)[-5000:]
    return warehouse


def _duckdb_marts(warehouse: Path) -> dict[str, pd.DataFrame]:
    with duckdb.connect(str(warehouse), read_only=True) as con:
        return {mart: con.execute(f"select * from marts.{mart}").df() for mart in MARTS}


def test_clv_asset_exists_where_dbt_does_not_make_the_marts() -> None:
    """Same asset keys on every target: the dbt marts on DuckDB, the Python asset elsewhere."""
    assert set(loyalty_dbt_assets.keys) >= CLV_ASSETS  # this session's manifest is DuckDB's
    assert build_clv_asset("duckdb", "loyalty_warehouse", loyalty_dbt_assets.keys) is None
    asset = build_clv_asset("postgres", "loyalty_warehouse", dbt_keys=[])
    assert asset is not None and set(asset.keys) == CLV_ASSETS
    assert all(deps == {SUMMARY_KEY} for deps in asset.asset_deps.values())
    assert {asset.group_names_by_key[key] for key in CLV_ASSETS} == {"marts"}


def test_marts_outside_dbt_equal_the_dbt_python_models(duckdb_build: Path) -> None:
    """The same summary through compute_marts gives DuckDB's dbt-built marts."""
    with duckdb.connect(str(duckdb_build), read_only=True) as con:
        summary = con.execute(f"select * from {SUMMARY_TABLE}").df()
    assert_marts_equal(compute_marts(summary), _duckdb_marts(duckdb_build))


def test_postgres_clv_marts_equal_duckdb(
    tmp_path: Path,
    monkeypatch: pytest.MonkeyPatch,
    raw_dir: Path,
    duckdb_build: Path,
    postgres_server: PgSettings,  # noqa: F811 (the imported fixture)
) -> None:
    """dbt build on PostgreSQL (no CLV marts there), then the step: the three marts equal DuckDB's, and
    the read-only BI role can read them."""
    load_raw(raw_dir, postgres_server, warn=lambda _: None)
    result = run_dbt(
        ("build", "--select", "+int_clv_calibration_summary", "--full-refresh", *NO_TESTS),
        raw_dir=raw_dir,
        work_dir=tmp_path,
        target="postgres",
        env=postgres_server.env(),
    )
    assert result.returncode == 0, (result.stdout + result.stderr)[-5000:]
    run_on_target("postgres", env=postgres_server.env())
    # a rerun replaces the marts: the Dagster asset this time, as `loyalty_build` runs it on PostgreSQL
    for name, value in postgres_server.env().items():
        monkeypatch.setenv(name, value)
    asset = build_clv_asset("postgres", "loyalty_warehouse", dbt_keys=[])
    warehouse = LoyaltyWarehouse(raw_dir=str(raw_dir), duckdb_path=str(tmp_path / "unused.duckdb"))
    result = materialize([asset], resources={"warehouse": warehouse})
    assert result.success
    fit_event = next(
        event for event in result.get_asset_materialization_events() if event.asset_key == CLV_FIT
    )
    assert "bg_nbd/r" in fit_event.materialization.metadata
    with psycopg.connect(postgres_server.conninfo(user=postgres_server.bi_role)) as conn:
        written = {}
        for mart in MARTS:
            cursor = conn.execute(f"select * from marts.{mart}")
            names = [column.name for column in cursor.description or []]
            written[mart] = pd.DataFrame.from_records(cursor.fetchall(), columns=names)
    with psycopg.connect(postgres_server.conninfo()) as conn:
        types = conn.execute(
            "select table_name, column_name, data_type from information_schema.columns "
            "where table_schema = 'marts'"
        ).fetchall()
    assert ("clv_model_fit", "value", "double precision") in types
    assert ("member_clv_predicted", "frequency", "bigint") in types
    assert_marts_equal(written, _duckdb_marts(duckdb_build))


@pytest.mark.skipif(not shutil.which("java"), reason="Java 17 is needed for Spark")
def test_spark_session_clv_marts_equal_duckdb(
    tmp_path_factory: pytest.TempPathFactory, raw_dir: Path, duckdb_build: Path
) -> None:
    """dbt build on a Spark session up to the summary, then the step in a pyspark session on the same
    metastore: the three marts (read back from their Parquet files) equal DuckDB's."""
    work_dir = tmp_path_factory.mktemp("clv-spark")
    session_dir = work_dir / "session"
    env = {"LOYALTY_SPARK_SESSION_DIR": str(session_dir), "SPARK_LOCAL_IP": HOST}
    result = run_dbt(
        ("build", "--select", "+int_clv_calibration_summary", *NO_TESTS),
        raw_dir=raw_dir,
        work_dir=work_dir,
        target="spark_session",
        env=env,
    )
    assert result.returncode == 0, (result.stdout + result.stderr)[-5000:]
    run_on_target("spark_session", env=env)
    warehouse = session_dir / "warehouse" / "marts.db"
    with duckdb.connect() as con:
        written = {
            mart: con.execute(f"select * from read_parquet('{warehouse / mart}/*.parquet')").df()
            for mart in MARTS
        }
    assert_marts_equal(written, _duckdb_marts(duckdb_build))


def test_spark_thrift_clv_marts_equal_duckdb(
    tmp_path: Path,
    monkeypatch: pytest.MonkeyPatch,
    raw_dir: Path,
    duckdb_build: Path,
    spark_thrift_server: SparkClusterSettings,  # noqa: F811 (the imported fixture)
) -> None:
    """dbt build on a Thrift Server up to the summary, then the step through PyHive (insert … values in
    batches, small ones here so that several run), then again as the Dagster asset `loyalty_build` runs on
    that target (its client from the LOYALTY_SPARK_* env vars): the three marts equal DuckDB's."""
    env = spark_thrift_server.env()
    result = run_dbt(
        ("build", "--select", "+int_clv_calibration_summary", *NO_TESTS),
        raw_dir=raw_dir,
        work_dir=tmp_path,
        target="spark_thrift",
        env=env,
    )
    assert result.returncode == 0, (result.stdout + result.stderr)[-5000:]
    warehouse = SparkThriftClvWarehouse(
        host=HOST, port=spark_thrift_server.thrift_port, user="loyalty", batch_rows=50
    )
    warehouse.write_marts(compute_marts(warehouse.read_summary()))
    with closing(hive.connect(host=HOST, port=spark_thrift_server.thrift_port, username="loyalty")) as conn:
        conn.cursor().execute("drop table marts.clv_model_fit")  # the asset must write it again
    for name, value in env.items():
        monkeypatch.setenv(name, value)
    asset = build_clv_asset("spark_thrift", "loyalty_warehouse", dbt_keys=[])
    resource = LoyaltyWarehouse(raw_dir=str(raw_dir), duckdb_path=str(tmp_path / "unused.duckdb"))
    materialized = materialize([asset], resources={"warehouse": resource})
    assert materialized.success
    assert {event.asset_key for event in materialized.get_asset_materialization_events()} == CLV_ASSETS
    with closing(hive.connect(host=HOST, port=spark_thrift_server.thrift_port, username="loyalty")) as conn:
        cursor = conn.cursor()
        written = {}
        for mart in MARTS:
            cursor.execute(f"select * from marts.{mart}")
            names = [column[0].split(".")[-1] for column in cursor.description]
            written[mart] = pd.DataFrame.from_records(cursor.fetchall(), columns=names)
    assert_marts_equal(written, _duckdb_marts(duckdb_build))
