"""Incremental runs on PostgreSQL (delete+insert) and on Spark through the Thrift Server (insert_overwrite
by month partition) give what a full refresh gives on the same final data (the DuckDB case and the delivery
scenario: test_incremental.py; a module of its own so that pytest-xdist runs it beside that one).
"""

from __future__ import annotations

import shutil
import tempfile
from collections.abc import Iterator
from contextlib import closing
from datetime import timedelta
from pathlib import Path

import psycopg
import pytest
from pyhive import hive

from loyalty_kpi import deliveries
from loyalty_kpi.dbt import run_dbt
from loyalty_kpi.generate import generate
from loyalty_kpi.load_postgres import load_raw
from loyalty_kpi.postgres import PgSettings, start_cluster, stop_cluster
from loyalty_kpi.spark import HOST, SparkClusterSettings
from tests.python.engines import CLV_STEP_MARTS, free_port
from tests.python.support import DATA_BUILD, failure_text
from tests.python.test_engines import spark_thrift_server  # noqa: F401 (the fixture)
from tests.python.test_incremental import END, VERDICTS

# ---------------------------------------------------------------------------------------- PostgreSQL


@pytest.fixture(scope="module")
def postgres() -> Iterator[PgSettings]:
    """A PostgreSQL cluster of this module's own (the engine tests' schemas stay untouched)."""
    cluster_dir = Path(tempfile.mkdtemp(prefix="loyalty-pg-incremental-"))
    settings = PgSettings(
        host="127.0.0.1",
        port=free_port(),
        database="loyalty",
        user="loyalty",
        password="",
        bi_role="loyalty_bi",
    )
    start_cluster(cluster_dir, settings)
    try:
        yield settings
    finally:
        stop_cluster(cluster_dir)
        shutil.rmtree(cluster_dir, ignore_errors=True)


def _postgres_contents(settings: PgSettings) -> dict[str, list[str]]:
    """Every mart's rows and every verdict, in a canonical order."""
    with psycopg.connect(settings.conninfo()) as con:
        marts = con.execute(
            "select table_name from information_schema.tables where table_schema = 'marts' order by 1"
        ).fetchall()
        contents = {
            name: sorted(map(repr, con.execute(f'select * from marts."{name}"').fetchall()))
            for (name,) in marts
        }
        for table in VERDICTS:
            verdicts = con.execute(
                "select verdict_key, row_hash, row_status, quarantine_reason "
                f"from staging.base_loyalty__{table}"
            ).fetchall()
            contents[f"base_loyalty__{table}"] = sorted(map(repr, verdicts))
    return contents


def test_postgres_increment_equals_a_full_refresh(postgres: PgSettings, tmp_path: Path) -> None:
    """delete+insert on PostgreSQL: a build, two more days with a day delivered twice and a changed
    re-delivery, an incremental build; every mart and verdict equal a --full-refresh's."""
    full = tmp_path / "generated"
    generate(full, members=300, months=24, seed=5, end_date=END)
    raw = tmp_path / "raw"
    deliveries.deliver_until(full, raw, END - timedelta(days=2))

    def build(name: str, *args: str, data_tests: bool = False) -> None:
        """DATA_BUILD without the CLV marts (tables after the CLV step), and the data tests only where
        asked: the increment's state is the one to test (the engine tests test a full build's)."""
        load_raw(raw, postgres, warn=lambda _: None)
        excluded = () if data_tests else ("--exclude-resource-type", "test")
        result = run_dbt(
            [*DATA_BUILD, *excluded, "--exclude", CLV_STEP_MARTS, *args],
            raw_dir=raw,
            work_dir=tmp_path / name,
            target="postgres",
            env=postgres.env(),
        )
        assert result.returncode == 0, failure_text(result.stdout + result.stderr)

    build("first")
    deliveries.deliver_day(full, raw, END - timedelta(days=1))
    deliveries.deliver_day(full, raw, END)
    deliveries.append_rows(
        raw, "transactions", f"select * from {{current}} where cast(transacted_at as date) = '{END}'"
    )
    deliveries.append_rows(
        raw,
        "transactions",
        "select * replace (amount + 1 as amount, transacted_at + interval 20 day as transacted_at) "
        f"from (select * from {{current}} where member_id is not null and transaction_type = 'purchase' "
        f"and cast(transacted_at as date) = '{END - timedelta(days=20)}' order by transaction_id limit 1)",
    )
    build("increment", data_tests=True)
    incremental = _postgres_contents(postgres)
    build("full", "--full-refresh")
    full_refresh = _postgres_contents(postgres)
    assert len(full_refresh) > 15
    assert [name for name in full_refresh if incremental.get(name) != full_refresh[name]] == []


# ---------------------------------------------------------------------------------------------- Spark

# The incremental models; on Spark insert_overwrite by their month partition (dbt_project.yml).
SPARK_INCREMENTAL = {
    "staging.base_loyalty__transactions": (
        "verdict_key, transaction_id, member_id, amount, transacted_at, transacted_on, row_hash, row_status, "
        "quarantine_reason"
    ),
    "staging.base_loyalty__point_events": (
        "verdict_key, member_id, points, occurred_at, occurred_on, row_hash, row_status, quarantine_reason"
    ),
    "staging.base_loyalty__engagement_events": (
        "verdict_key, member_id, event_type, occurred_at, occurred_on, row_hash, row_status, "
        "quarantine_reason"
    ),
    "intermediate.int_member_purchase_days_all": "member_id, purchase_date, orders, purchase_amount",
}


def _spark_rows(thrift: SparkClusterSettings, query: str) -> list[tuple[object, ...]]:
    with closing(hive.connect(host=HOST, port=thrift.thrift_port, username=thrift.user)) as conn:
        cursor = conn.cursor()
        cursor.execute(query)
        return [tuple(row) for row in cursor.fetchall()]


def _spark_contents(thrift: SparkClusterSettings) -> dict[str, list[str]]:
    """Each incremental model's rows, sorted."""
    return {
        table: sorted(map(repr, _spark_rows(thrift, f"select {columns} from {table}")))
        for table, columns in SPARK_INCREMENTAL.items()
    }


def test_spark_increment_equals_a_full_refresh(
    spark_thrift_server: SparkClusterSettings,  # noqa: F811 (the imported fixture)
    tmp_path: Path,
) -> None:
    """insert_overwrite by month partition on Spark: a first build, two more days with a day delivered
    twice and a changed re-delivery of an old transaction, an increment; the incremental models equal a
    --full-refresh's, the increment rewrote only a few days' verdicts, and a partition is a month. (The
    models and their upstream only, no tests: the marts and every test on Spark are the engine tests'.) On
    the Thrift Server: the same dbt-spark SQL as a session, whose JVM per dbt invocation is slow to start."""
    full = tmp_path / "generated"
    generate(full, members=120, months=4, seed=5, end_date=END)
    raw = tmp_path / "raw"
    deliveries.deliver_until(full, raw, END - timedelta(days=2))
    selection = ["+base_loyalty__transactions", "+int_member_purchase_days_all"]
    selection += ["+base_loyalty__point_events", "+base_loyalty__engagement_events"]

    def build(name: str, *args: str) -> None:
        result = run_dbt(
            ["build", "--select", *selection, "--exclude-resource-type", "test", "unit_test", *args],
            raw_dir=raw,
            work_dir=tmp_path / name,
            target="spark_thrift",
            env=spark_thrift_server.env(),
        )
        assert result.returncode == 0, failure_text(result.stdout + result.stderr)

    # a full refresh first: the server's warehouse may hold another test's tables
    build("first", "--full-refresh")
    deliveries.deliver_day(full, raw, END - timedelta(days=1))
    deliveries.deliver_day(full, raw, END)
    deliveries.append_rows(
        raw, "transactions", f"select * from {{current}} where cast(transacted_at as date) = '{END}'"
    )
    deliveries.append_rows(
        raw,
        "transactions",
        "select * replace (amount + 1 as amount, transacted_at + interval 20 day as transacted_at) "
        f"from (select * from {{current}} where member_id is not null and transaction_type = 'purchase' "
        f"and cast(transacted_at as date) = '{END - timedelta(days=20)}' order by transaction_id limit 1)",
    )
    build("increment")
    incremental = _spark_contents(spark_thrift_server)
    [(rewritten, days, rows)] = _spark_rows(
        spark_thrift_server,
        "select count(case when verdicts_updated_at = newest then 1 end), "
        "count(distinct case when verdicts_updated_at = newest then transacted_on end), count(*) "
        "from (select *, max(verdicts_updated_at) over () as newest from staging.base_loyalty__transactions)",
    )
    assert 0 < rewritten < rows / 4 and days < 10, (rewritten, days, rows)
    # a partition per month (and one for rows without a date), not per day: a day partition per table
    # made every Spark scan open hundreds of directories
    shown = _spark_rows(spark_thrift_server, "show partitions staging.base_loyalty__transactions")
    partitions = [str(row[0]) for row in shown]
    dated = [name for name in partitions if name != "transacted_month=__HIVE_DEFAULT_PARTITION__"]
    assert 4 <= len(dated) <= 5 and all(name.endswith("-01") for name in dated), partitions
    build("full", "--full-refresh")
    full_refresh = _spark_contents(spark_thrift_server)
    assert all(full_refresh.values())
    assert [name for name in full_refresh if incremental[name] != full_refresh[name]] == []
