"""The Dagster steps after dbt on a non-DuckDB target (issue 10): the KPI asset checks read the marts from
PostgreSQL (LoyaltyWarehouse.read_frame), and `published/marts` reads them into frames and writes the same
published DuckDB file and Parquet files as on DuckDB (loyalty_kpi.publish.publish_frames).

The whole `loyalty_build` job runs on PostgreSQL and on a Spark Thrift Server, each a first build on an
emptied warehouse, in a subprocess of its own (LOYALTY_DBT_TARGET: its own manifest, parsed for that
target). On the marts the PostgreSQL job built, the checks and the publish asset are then materialized
in-process as well, to inspect their results.
"""

from __future__ import annotations

import json
import os
import subprocess
import sys
from contextlib import closing
from dataclasses import replace
from pathlib import Path

import duckdb
import pandas as pd
import psycopg
import pytest
from dagster import AssetKey, AssetSelection, AssetSpec, materialize, multi_asset
from pyhive import hive

from loyalty_kpi.load_postgres import load_raw
from loyalty_kpi.paths import PROJECT_DIR
from loyalty_kpi.postgres import PgSettings
from loyalty_kpi.publish import METADATA_TABLE, PARQUET_LINK, PUBLISHED_FILE
from loyalty_kpi.spark import HOST, SparkClusterSettings
from orchestration.assets.dbt import mart_key
from orchestration.assets.publish import build_publish_asset
from orchestration.checks import build_kpi_checks
from orchestration.resources import LoyaltyWarehouse
from orchestration.settings import Settings
from tests.python.engines import cursor_frame
from tests.python.support import WORKED_EXAMPLE, failure_text
from tests.python.test_engines import postgres_server, spark_thrift_server  # noqa: F401 (fixtures)
from tests.python.test_orchestration import assert_same_graph, graph_line


@pytest.fixture(scope="module")
def postgres_job(
    tmp_path_factory: pytest.TempPathFactory,
    postgres_server: PgSettings,  # noqa: F811 (the imported fixture)
) -> tuple[PgSettings, pd.DataFrame]:
    """The worked example loaded into a PostgreSQL emptied first (a first build: no table of an earlier
    one for a test to read), then the whole `loyalty_build` job run on it (_whole_job). Returns the
    server's settings and the published kpi_monthly."""
    with psycopg.connect(postgres_server.conninfo(), autocommit=True) as conn:
        schemas = conn.execute(
            "select schema_name from information_schema.schemata where schema_owner = %s",
            (postgres_server.user,),
        ).fetchall()
        for (schema,) in schemas:
            conn.execute(f'drop schema "{schema}" cascade')
    load_raw(WORKED_EXAMPLE / "raw", postgres_server, warn=lambda _: None)
    kpi = _whole_job(tmp_path_factory.mktemp("job-postgres"), "postgres", postgres_server.env())
    return postgres_server, kpi


def _postgres_table(settings: PgSettings, query: str, user: str | None = None) -> pd.DataFrame:
    with psycopg.connect(settings.conninfo(user=user)) as conn:
        cursor = conn.execute(query)
        names = [column.name for column in cursor.description or []]
        return pd.DataFrame.from_records(cursor.fetchall(), columns=names)


def _same(published: pd.DataFrame, source: pd.DataFrame) -> None:
    """Same columns, rows and values (numbers as floats to 1e-9; dates and text as text)."""
    assert list(published.columns) == list(source.columns)
    assert len(published) == len(source) > 0
    for column in source.columns:
        left, right = published[column], source[column]
        assert (left.isna() == right.isna()).all(), column
        present = right.notna()
        if pd.api.types.is_numeric_dtype(left) and not pd.api.types.is_bool_dtype(left):
            assert (left[present].astype(float) - right[present].astype(float)).abs().max() < 1e-9, column
        elif pd.api.types.is_datetime64_any_dtype(left):
            assert (pd.to_datetime(left[present]) == pd.to_datetime(right[present])).all(), column
        else:
            assert (left[present].astype(str) == right[present].astype(str)).all(), column


def test_checks_and_publish_run_on_postgres(
    tmp_path: Path,
    monkeypatch: pytest.MonkeyPatch,
    postgres_job: tuple[PgSettings, pd.DataFrame],
) -> None:
    """In-process, on the marts the job built: the KPI checks pass on PostgreSQL's marts; the published
    DuckDB file and Parquet files hold every mart of PostgreSQL's `marts` schema, kpi_monthly equal to
    PostgreSQL's, with the build-id table."""
    postgres_marts = postgres_job[0]
    for name, value in postgres_marts.env().items():
        monkeypatch.setenv(name, value)
    settings = replace(
        Settings.from_env(),
        raw_dir=WORKED_EXAMPLE / "raw",
        duckdb_path=tmp_path / "absent.duckdb",  # never opened on postgres
        publish_dir=tmp_path / "published",
        dbt_target="postgres",
    )
    warehouse = LoyaltyWarehouse(
        raw_dir=str(settings.raw_dir), duckdb_path=str(settings.duckdb_path), target=settings.dbt_target
    )
    mart_names = list(
        _postgres_table(
            postgres_marts,
            "select table_name from information_schema.tables where table_schema = 'marts' order by 1",
        )["table_name"]
    )
    assert {"kpi_monthly", "member_base_flow_monthly"} <= set(mart_names)
    mart_keys = [mart_key(name) for name in mart_names]

    @multi_asset(specs=[AssetSpec(key) for key in mart_keys])
    def marts_built_by_dbt():  # stands in for the dbt assets; not selected below
        raise AssertionError("dbt built the marts above")

    result = materialize(
        [
            marts_built_by_dbt,
            *build_kpi_checks(settings),
            build_publish_asset(mart_keys, settings.publish_dir),
        ],
        resources={"warehouse": warehouse},
        selection=AssetSelection.checks_for_assets(mart_key("kpi_monthly"))
        | AssetSelection.assets(AssetKey(["published", "marts"])),
    )
    assert result.success
    evaluations = {e.check_name: e for e in result.get_asset_check_evaluations()}
    assert set(evaluations) == {"kpi_monthly_agrees_with_base_flow", "active_members_month_over_month"}
    assert evaluations["kpi_monthly_agrees_with_base_flow"].passed
    assert evaluations["kpi_monthly_agrees_with_base_flow"].metadata["months"].value == "none"
    # the worked example's own month-over-month change, whatever it is, was computed from PostgreSQL
    assert "active members" in (evaluations["active_members_month_over_month"].description or "")
    assert not (tmp_path / "absent.duckdb").exists()

    published = next(
        event
        for event in result.get_asset_materialization_events()
        if event.asset_key.to_user_string() == "published/marts"
    )
    build_id = published.materialization.metadata["build_id"].value
    published_file = settings.publish_dir / PUBLISHED_FILE
    with duckdb.connect(str(published_file), read_only=True) as con:
        tables = sorted(
            row[0]
            for row in con.execute(
                "select table_name from duckdb_tables() where schema_name = 'marts'"
            ).fetchall()
        )
        kpi = con.execute("select * from marts.kpi_monthly order by month_start").df()
        metadata = con.execute(f"select build_id, mart, rows from marts.{METADATA_TABLE}").df()
    assert tables == sorted([*mart_names, METADATA_TABLE])
    assert set(metadata["build_id"]) == {build_id}
    assert set(metadata["mart"]) == set(mart_names)
    source_kpi = _postgres_table(postgres_marts, "select * from marts.kpi_monthly order by month_start")
    _same(kpi, source_kpi)
    rows = dict(zip(metadata["mart"], metadata["rows"], strict=True))
    assert rows["kpi_monthly"] == len(source_kpi)
    # the Parquet copy behind the swapped-in symlink, one file per mart
    parquet_dir = (settings.publish_dir / PARQUET_LINK).resolve()
    assert sorted(path.stem for path in parquet_dir.glob("*.parquet")) == sorted(mart_names)
    with duckdb.connect() as con:
        parquet_kpi = con.execute(
            f"select * from read_parquet('{parquet_dir / 'kpi_monthly.parquet'}') order by month_start"
        ).df()
    _same(parquet_kpi, source_kpi)
    # BI tools may also read the marts in PostgreSQL directly, as the read-only BI role
    bi_kpi = _postgres_table(
        postgres_marts, "select * from marts.kpi_monthly order by month_start", user=postgres_marts.bi_role
    )
    assert len(bi_kpi) == len(source_kpi)


# The code location as `dagster job execute` loads it, with the postgres manifest parsed afresh.
FULL_JOB = """
import json
import sys
from dagster import DagsterInstance
from orchestration.project import loyalty_project

loyalty_project.preparer.prepare(loyalty_project)
from orchestration.definitions import defs
from tests.python.test_orchestration import graph_summary

print("GRAPH " + json.dumps(graph_summary(defs)))

job = defs.resolve_job_def("loyalty_build")
if "--without-dbt-tests" in sys.argv:  # every asset, every check but the dbt tests'
    from orchestration.assets.dbt import loyalty_dbt_assets

    graph = job.asset_layer.asset_graph
    job = job.get_subset(
        asset_selection=set(graph.get_all_asset_keys()),
        asset_check_selection=set(graph.asset_check_keys) - set(loyalty_dbt_assets.check_keys),
    )
result = job.execute_in_process(instance=DagsterInstance.ephemeral(), raise_on_error=False)
checks = result.get_asset_check_evaluations()
print("CHECKED", json.dumps(sorted({check.check_name for check in checks})))
for check in checks:
    if not check.passed and check.severity.value == "ERROR":
        print("CHECK FAILED", check.asset_key.to_user_string(), check.check_name)
print("MATERIALIZED", sorted(e.asset_key.to_user_string() for e in result.get_asset_materialization_events()))
sys.exit(0 if result.success else 1)
"""


def _whole_job(
    tmp_path: Path, target: str, target_env: dict[str, str], dbt_tests: bool = True
) -> pd.DataFrame:
    """`loyalty_build` on the worked example with LOYALTY_DBT_TARGET=target, in a subprocess of its own (its
    own manifest, parsed for the target): raw checks, dbt build there, the CLV step's asset between two dbt
    steps, the KPI checks, the publish and the report all succeed, the graph is DuckDB's
    (test_orchestration.assert_same_graph) and the DuckDB file is never made. Without dbt_tests the job
    runs every asset and every check but the dbt tests' asset checks. Returns the published kpi_monthly."""
    publish_dir = tmp_path / "published"
    report = tmp_path / "report" / "loyalty_kpi_report.html"
    env = {
        **os.environ,
        **target_env,
        "LOYALTY_DBT_TARGET": target,
        "LOYALTY_RAW_DIR": str(WORKED_EXAMPLE / "raw"),
        "LOYALTY_DUCKDB_PATH": str(tmp_path / "absent.duckdb"),
        "LOYALTY_PUBLISH_DIR": str(publish_dir),
        "LOYALTY_REPORT_PATH": str(report),
        "PYTHONPATH": str(PROJECT_DIR),
    }
    done = subprocess.run(
        [sys.executable, "-c", FULL_JOB, *([] if dbt_tests else ["--without-dbt-tests"])],
        cwd=PROJECT_DIR,
        env=env,
        capture_output=True,
        text=True,
        timeout=1800,
    )
    output = done.stdout + done.stderr
    assert done.returncode == 0, failure_text(output)
    assert "CHECK FAILED" not in done.stdout, failure_text(done.stdout)  # warnings allowed
    assert_same_graph(graph_line(done.stdout), target)
    lines = done.stdout.splitlines()
    materialized = next(line for line in lines if line.startswith("MATERIALIZED"))
    checked = set(json.loads(next(line[8:] for line in lines if line.startswith("CHECKED "))))
    assert {"matches_raw_contract", "kpi_monthly_agrees_with_base_flow"} <= checked
    assert any(name.startswith("not_null_") for name in checked) == dbt_tests, sorted(checked)
    for key in (
        "marts/kpi_monthly",
        "intermediate/int_clv_fit",  # the CLV step's asset
        "marts/clv_model_fit",  # dbt's, after it
        "published/marts",
        "published/kpi_report",
    ):
        assert key in materialized, key
    assert not (tmp_path / "absent.duckdb").exists()
    assert report.stat().st_size > 0
    with duckdb.connect(str(publish_dir / PUBLISHED_FILE), read_only=True) as con:
        return con.execute("select * from marts.kpi_monthly order by month_start").df()


def test_the_whole_job_runs_on_postgres(postgres_job: tuple[PgSettings, pd.DataFrame]) -> None:
    """The whole job on a first PostgreSQL build: the published kpi_monthly is PostgreSQL's."""
    settings, kpi = postgres_job
    _same(kpi, _postgres_table(settings, "select * from marts.kpi_monthly order by month_start"))


def _drop_spark_databases(settings: SparkClusterSettings) -> None:
    """Every database of the Thrift Server but `default`: the job's build is not a full refresh, and the
    server may hold another test's incremental tables (the server is shared by the test session)."""
    with closing(hive.connect(host=HOST, port=settings.thrift_port, username=settings.user)) as conn:
        cursor = conn.cursor()
        cursor.execute("show databases")
        for (name,) in cursor.fetchall():
            if name != "default":
                cursor.execute(f"drop database {name} cascade")


def test_the_whole_job_runs_on_spark_thrift(
    tmp_path: Path,
    spark_thrift_server: SparkClusterSettings,  # noqa: F811 (the imported fixture)
) -> None:
    """The whole job on a Spark Thrift Server: the published kpi_monthly is Spark's. Without the dbt
    tests' asset checks: test_engines runs every dbt test on this server, and each is a Spark job (this
    test took 445-523 s with them on a loaded machine, 251 s without them idle)."""
    _drop_spark_databases(spark_thrift_server)
    try:
        kpi = _whole_job(tmp_path, "spark_thrift", spark_thrift_server.env(), dbt_tests=False)
        thrift = spark_thrift_server
        with closing(hive.connect(host=HOST, port=thrift.thrift_port, username=thrift.user)) as conn:
            cursor = conn.cursor()
            cursor.execute("select * from marts.kpi_monthly order by month_start")
            spark_kpi = cursor_frame(cursor)
    finally:
        _drop_spark_databases(spark_thrift_server)
    _same(kpi, spark_kpi)
