"""The same project on DuckDB, PostgreSQL 15 and Spark (a local session, and a Thrift Server on a standalone
master and worker): every spec mart identical across engines, every dbt test passing on each; the
PostgreSQL loader and the Spark raw hook keeping the raw contract; the read-only BI role on PostgreSQL.

The tests start their own PostgreSQL cluster and Spark cluster (free ports, temporary directories) and
stop them by PID at the end. PostgreSQL 15 and Java 17 must be installed (`make test` sees to it).
"""

from __future__ import annotations

import shutil
import tempfile
from collections.abc import Iterator
from concurrent.futures import ThreadPoolExecutor
from contextlib import closing
from datetime import date
from pathlib import Path

import pandas as pd
import psycopg
import pytest
import yaml
from psycopg import errors, sql
from pyhive import hive

from loyalty_kpi.generate import generate
from loyalty_kpi.load_postgres import load_raw
from loyalty_kpi.paths import PROJECT_DIR
from loyalty_kpi.postgres import PgSettings, start_cluster, stop_cluster
from loyalty_kpi.raw_contract import RawContractError, raw_contract
from loyalty_kpi.spark import HOST, SparkClusterSettings
from loyalty_kpi.spark import start_cluster as start_spark
from loyalty_kpi.spark import stop_cluster as stop_spark
from tests.python.engines import SPEC_MARTS, EngineBuild, Engines, build, free_port
from tests.python.reference import compare_frames
from tests.python.support import WORKED_EXAMPLE, failure_text
from tests.python.test_end_to_end import KEYS

ENGINES = ("duckdb", "postgres", "spark_session", "spark_thrift")
OTHER_ENGINES = ENGINES[1:]
# The builds that run every dbt test: Spark's run through the Thrift Server. The session target (the same
# dbt-spark SQL, in a JVM of its own per dbt invocation, the slowest) builds every model without them
# (DECISIONS.md "Where the tests run dbt's tests").
TESTED_ENGINES = ("duckdb", "postgres", "spark_thrift")
UNTESTED = {"spark_session": ("test", "unit_test")}
# Columns computed by a dbt Python model (DuckDB only): null on the other engines (DECISIONS.md "Comment
# sentiment").
DUCKDB_ONLY_COLUMNS = {
    "survey_monthly": (
        "positive_comments",
        "neutral_comments",
        "negative_comments",
        "positive_comment_share_pct",
        "neutral_comment_share_pct",
        "negative_comment_share_pct",
        "mean_sentiment_score",
    )
}
CLV_MARTS = ("clv_holdout_validation", "clv_model_fit", "member_clv_predicted")
CLV_FIT_REL_TOL = 1e-6
# Spark reads the worked example's CSV files and its timestamp with an offset in the Spark tests below.
WORKED_EXAMPLE_ENGINES = ("duckdb", "postgres")


@pytest.fixture(scope="session")
def postgres_server() -> Iterator[PgSettings]:
    """A PostgreSQL 15 cluster of the test session's own (temporary directory, free port)."""
    if not shutil.which("initdb") and not Path("/usr/lib/postgresql/15/bin/initdb").exists():
        pytest.fail(
            "PostgreSQL 15 is not installed: run `make test` (it installs it) or apt-get install postgresql"
        )
    cluster_dir = Path(tempfile.mkdtemp(prefix="loyalty-pg-"))
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


@pytest.fixture(scope="session")
def spark_thrift_server() -> Iterator[SparkClusterSettings]:
    """A standalone Spark master, worker and Thrift Server of the test session's own, on free ports."""
    cluster_dir = Path(tempfile.mkdtemp(prefix="loyalty-spark-"))
    settings = SparkClusterSettings(
        thrift_port=free_port(),
        master_port=free_port(),
        master_ui_port=free_port(),
        worker_ui_port=free_port(),
        worker_cores=2,
        executor_memory="1g",
        driver_memory="1g",
        user="loyalty",
    )
    try:
        start_spark(cluster_dir, settings)
        yield settings
    finally:
        stop_spark(cluster_dir)
        shutil.rmtree(cluster_dir, ignore_errors=True)


@pytest.fixture(scope="session")
def engines(
    tmp_path_factory: pytest.TempPathFactory,
    postgres_server: PgSettings,
    spark_thrift_server: SparkClusterSettings,
) -> Engines:
    return Engines(
        work_dir=tmp_path_factory.mktemp("engines"),
        postgres=postgres_server,
        spark_session_dir=tmp_path_factory.mktemp("spark-session"),
        spark_thrift=spark_thrift_server,
    )


@pytest.fixture(scope="module")
def generated_builds(tmp_path_factory: pytest.TempPathFactory, engines: Engines) -> dict[str, EngineBuild]:
    """The same generated raw data built on every engine at once: Parquet files, and for the Spark session
    the same rows as CSV files (so Spark's CSV reading is compared too)."""
    raw = {fmt: tmp_path_factory.mktemp(f"engine-raw-{fmt}") for fmt in ("parquet", "csv")}
    for fmt, directory in raw.items():
        generate(directory, members=300, months=24, seed=5, end_date=date(2025, 6, 18), fmt=fmt)
    with ThreadPoolExecutor(max_workers=len(ENGINES)) as pool:  # dbt subprocesses, one per engine
        futures = {
            engine: pool.submit(
                build,
                engine,
                engines,
                raw["csv" if engine == "spark_session" else "parquet"],
                "generated",
                excluded_types=UNTESTED.get(engine, ()),
            )
            for engine in ENGINES
        }
        return {engine: future.result() for engine, future in futures.items()}


@pytest.fixture(scope="module")
def worked_example_builds(engines: Engines) -> dict[str, EngineBuild]:
    """The spec's worked example (CSV, a timestamp with an offset, absent optional tables) per engine: a
    full refresh, since PostgreSQL's database still holds the generated data's incremental tables."""
    return {
        engine: build(engine, engines, WORKED_EXAMPLE / "raw", "example", args=("build", "--full-refresh"))
        for engine in WORKED_EXAMPLE_ENGINES
    }


def _assert_passed(done: EngineBuild) -> None:
    assert done.returncode == 0, failure_text(done.output)
    assert not done.failures(), done.failures()


# ------------------------------------------------------------------------------------ marts across engines


@pytest.mark.parametrize("engine", TESTED_ENGINES)
def test_every_dbt_test_passes_on_every_engine(generated_builds: dict[str, EngineBuild], engine: str) -> None:
    """Every data and unit test enabled on the engine ran and passed (tests of models disabled there, the
    DuckDB-only dbt Python models and their marts, do not exist on it)."""
    done = generated_builds[engine]
    _assert_passed(done)
    ran = {node for node in done.results if node.startswith(("test.", "unit_test."))}
    assert ran == done.tests
    assert len([node for node in ran if node.startswith("unit_test.")]) > 30
    assert len(ran) > 200


def test_the_spark_session_builds_every_model_the_thrift_server_builds(
    generated_builds: dict[str, EngineBuild],
) -> None:
    """The session target builds (from CSV files) every model, seed and snapshot the Thrift Server builds
    (from Parquet files), and runs no test: its marts are compared with DuckDB's below."""
    session, thrift = generated_builds["spark_session"], generated_builds["spark_thrift"]
    _assert_passed(session)
    built = {node for node, status in session.results.items() if status == "success"}
    assert not session.tests and not any(node.startswith(("test.", "unit_test.")) for node in session.results)
    expected = {node for node in thrift.results if node.startswith(("model.", "seed.", "snapshot."))}
    assert len(expected) > 60 and expected <= built


@pytest.mark.parametrize("mart", SPEC_MARTS)
@pytest.mark.parametrize("engine", OTHER_ENGINES)
def test_every_mart_is_identical_across_engines(
    generated_builds: dict[str, EngineBuild], engine: str, mart: str
) -> None:
    _assert_passed(generated_builds[engine])
    expected = generated_builds["duckdb"].marts[mart]
    actual = generated_builds[engine].marts[mart]
    assert len(expected) > 0
    assert sorted(actual.columns) == sorted(expected.columns)
    differences = compare_frames(actual, expected, KEYS[mart])
    assert not differences, f"{engine} vs duckdb, {len(differences)} differences:\n" + "\n".join(
        differences[:40]
    )


@pytest.mark.parametrize("engine", OTHER_ENGINES)
def test_every_other_mart_is_identical_across_engines(
    generated_builds: dict[str, EngineBuild], engine: str
) -> None:
    """The rest of the KPI catalogue, keyed by its non-float columns: every mart on every engine (the
    predictive-CLV marts too, built on what the CLV step wrote, each with rows)."""
    done = generated_builds[engine]
    _assert_passed(done)
    reference = generated_builds["duckdb"].marts
    assert set(done.marts) == set(reference)
    assert all(len(done.marts[mart]) > 0 for mart in CLV_MARTS)
    problems = []
    for mart in sorted(set(done.marts) - set(SPEC_MARTS)):
        expected = reference[mart]
        duckdb_only = DUCKDB_ONLY_COLUMNS.get(mart, ())
        if duckdb_only:
            assert done.marts[mart][list(duckdb_only)].isna().all().all(), f"{mart}: {duckdb_only} not null"
            expected = expected.drop(columns=list(duckdb_only))
        keys = [column for column in expected.columns if expected[column].dtype.kind != "f"]
        actual = done.marts[mart].drop(columns=list(duckdb_only))
        if mart == "raw_reconciliation":  # a delivery is its file: Spark's copy of the raw data is CSV
            expected, actual = (_delivery_without_extension(frame) for frame in (expected, actual))
        # the CLV marts come from a numerical fit: inputs equal to the last bits or so (a PostgreSQL numeric
        # mean) may move its optimum by its tolerance
        rel_tol = CLV_FIT_REL_TOL if mart in CLV_MARTS else 1e-9
        differences = compare_frames(actual, expected, keys, rel_tol=rel_tol)
        problems += [f"{mart}: {difference}" for difference in differences[:10]]
    assert not problems, f"{engine} vs duckdb:\n" + "\n".join(problems)


def _delivery_without_extension(frame: pd.DataFrame) -> pd.DataFrame:
    return frame.assign(delivery=frame["delivery"].str.replace(r"\.(csv|parquet)$", "", regex=True))


@pytest.mark.parametrize("mart", SPEC_MARTS)
@pytest.mark.parametrize("engine", WORKED_EXAMPLE_ENGINES[1:])
def test_worked_example_is_identical_across_engines(
    worked_example_builds: dict[str, EngineBuild], engine: str, mart: str
) -> None:
    _assert_passed(worked_example_builds[engine])
    expected_file = WORKED_EXAMPLE / "expected" / f"{mart}.csv"
    expected = (
        pd.read_csv(expected_file, dtype=str, keep_default_na=False)
        if expected_file.exists()
        else worked_example_builds["duckdb"].marts[mart]
    )
    differences = compare_frames(worked_example_builds[engine].marts[mart], expected, KEYS[mart])
    assert not differences, f"{engine}: " + "\n".join(differences[:40])


def test_unit_test_names_fit_postgresql_identifiers() -> None:
    """dbt names a unit test's temporary table after the test, and PostgreSQL refuses names over 63 bytes."""
    names = [
        test["name"]
        for schema_file in (PROJECT_DIR / "models").rglob("*.yml")
        for test in (yaml.safe_load(schema_file.read_text()) or {}).get("unit_tests", [])
    ]
    assert names
    assert not [name for name in names if len(name.encode()) > 63]


def test_no_unit_test_is_given_this() -> None:
    """A unit test given `this` (an incremental model's own table) needs that table to exist: it would fail
    the first `dbt build` of every new warehouse (`make demo`). Increments are tested end to end instead
    (test_incremental.py)."""
    given_this = [
        test["name"]
        for schema_file in (PROJECT_DIR / "models").rglob("*.yml")
        for test in (yaml.safe_load(schema_file.read_text()) or {}).get("unit_tests", [])
        if any(given.get("input") == "this" for given in test.get("given", []))
    ]
    assert given_this == []


# ---------------------------------------------------------------------------------- the BI role (PostgreSQL)


def _tables(settings: PgSettings) -> dict[str, list[str]]:
    """The warehouse's tables and views by schema (read as the owner)."""
    query = (
        "select table_schema, table_name from information_schema.tables "
        "where table_schema not in ('pg_catalog', 'information_schema') order by 1, 2"
    )
    tables: dict[str, list[str]] = {}
    with psycopg.connect(settings.conninfo()) as conn:
        for schema, table in conn.execute(query).fetchall():
            tables.setdefault(schema, []).append(table)
    return tables


def test_bi_role_reads_every_mart(generated_builds: dict[str, EngineBuild], engines: Engines) -> None:
    _assert_passed(generated_builds["postgres"])
    settings = engines.postgres
    marts = _tables(settings)["marts"]
    assert set(SPEC_MARTS) <= set(marts)
    # The same rows as the owner sees (the worked-example build may have replaced the generated marts by
    # then, and some of its marts are empty: the test is about access, not content).
    with psycopg.connect(settings.conninfo(user=settings.bi_role)) as conn:
        for mart in marts:
            count = conn.execute(
                sql.SQL("select count(*) from marts.{}").format(sql.Identifier(mart))
            ).fetchone()
            assert count is not None and count[0] == _count(settings, "marts", mart), mart


def test_bi_role_reads_nothing_but_the_marts(
    generated_builds: dict[str, EngineBuild], engines: Engines
) -> None:
    _assert_passed(generated_builds["postgres"])
    settings = engines.postgres
    others = {schema: tables for schema, tables in _tables(settings).items() if schema != "marts"}
    assert {"raw", "staging", "intermediate"} <= set(others)
    with psycopg.connect(settings.conninfo(user=settings.bi_role), autocommit=True) as conn:
        for schema, tables in others.items():
            for table in tables:
                with pytest.raises(errors.InsufficientPrivilege):
                    conn.execute(sql.SQL("select * from {} limit 1").format(sql.Identifier(schema, table)))


@pytest.mark.parametrize(
    "statement",
    [
        "insert into marts.kpi_monthly select * from marts.kpi_monthly",
        "update marts.members set rfm_segment = 'x'",
        "delete from marts.members",
        "truncate marts.kpi_monthly",
        "drop table marts.kpi_monthly",
        "alter table marts.members add column note text",
        "create table marts.bi_scratch (x int)",
        "create table public.bi_scratch (x int)",
        "create table raw.bi_scratch (x int)",
        "create schema bi_scratch",
        "create temporary table bi_scratch (x int)",
    ],
)
def test_bi_role_cannot_write_anywhere(
    generated_builds: dict[str, EngineBuild], engines: Engines, statement: str
) -> None:
    _assert_passed(generated_builds["postgres"])
    settings = engines.postgres
    with (
        psycopg.connect(settings.conninfo(user=settings.bi_role), autocommit=True) as conn,
        pytest.raises(errors.InsufficientPrivilege),
    ):
        conn.execute(statement)


# ------------------------------------------------------------------------ the raw contract on PostgreSQL


def _example_copy(tmp_path: Path) -> Path:
    raw = tmp_path / "raw"
    shutil.copytree(WORKED_EXAMPLE / "raw", raw)
    return raw


def _count(settings: PgSettings, schema: str, table: str) -> int:
    with psycopg.connect(settings.conninfo()) as conn:
        row = conn.execute(
            sql.SQL("select count(*) from {}").format(sql.Identifier(schema, table))
        ).fetchone()
    assert row is not None
    return int(row[0])


def test_loader_is_idempotent_and_loads_every_row(postgres_server: PgSettings, tmp_path: Path) -> None:
    raw = _example_copy(tmp_path)
    warnings: list[str] = []
    first = load_raw(raw, postgres_server, schema="loader_test", warn=warnings.append)
    second = load_raw(raw, postgres_server, schema="loader_test", warn=warnings.append)
    assert first == second
    for table in ("members", "transactions"):
        rows = len(pd.read_csv(raw / f"{table}.csv", dtype=str))
        assert first[table] == rows == _count(postgres_server, "loader_test", table)
    assert first["tier_changes"] == 0 == _count(postgres_server, "loader_test", "tier_changes")
    assert "Optional raw file tier_changes not found" in " ".join(warnings)
    with psycopg.connect(postgres_server.conninfo()) as conn:
        offset_row = conn.execute(
            "select transacted_at from loader_test.transactions where transaction_id = 'T017'"
        ).fetchone()
    assert offset_row is not None and str(offset_row[0]) == "2024-04-01 01:15:00"  # -03:00 converted to UTC


def test_loader_missing_required_file_stops_before_writing(
    postgres_server: PgSettings, tmp_path: Path
) -> None:
    raw = _example_copy(tmp_path)
    load_raw(raw, postgres_server, schema="loader_guard", warn=lambda _: None)
    (raw / "transactions.csv").unlink()
    (raw / "members.csv").write_text(
        "member_id,enrolled_at,enrollment_channel,tier\nX,2024-01-01,web,bronze\n"
    )
    with pytest.raises(RawContractError) as raised:
        load_raw(raw, postgres_server, schema="loader_guard", warn=lambda _: None)
    message = str(raised.value)
    assert "Required raw file missing: no transactions.parquet or transactions.csv" in message
    assert str(raw) in message and "section 'Raw data contract'" in message
    assert _count(postgres_server, "loader_guard", "members") == 12  # the earlier load is untouched


def test_loader_missing_required_column_names_file_and_column(
    postgres_server: PgSettings, tmp_path: Path
) -> None:
    raw = _example_copy(tmp_path)
    members = pd.read_csv(raw / "members.csv", dtype=str).rename(columns={"enrolled_at": "joined_at"})
    members.to_csv(raw / "members.csv", index=False)
    with pytest.raises(RawContractError, match=f"Raw file '{raw}/members.csv' has no column 'enrolled_at'"):
        load_raw(raw, postgres_server, schema="loader_test", warn=lambda _: None)


def test_loader_optional_column_absent_is_null(postgres_server: PgSettings, tmp_path: Path) -> None:
    raw = _example_copy(tmp_path)
    members = pd.read_csv(raw / "members.csv", dtype=str).drop(columns=["email", "referred_by_member_id"])
    members.to_csv(raw / "members.csv", index=False)
    load_raw(raw, postgres_server, schema="loader_test", warn=lambda _: None)
    with psycopg.connect(postgres_server.conninfo()) as conn:
        row = conn.execute("select count(*), count(email) from loader_test.members").fetchone()
    assert row == (12, 0)


def test_loader_bad_value_fails_naming_table_and_line(postgres_server: PgSettings, tmp_path: Path) -> None:
    raw = _example_copy(tmp_path)
    transactions = pd.read_csv(raw / "transactions.csv", dtype=str, keep_default_na=False)
    transactions.loc[4, "amount"] = "twelve"
    transactions.to_csv(raw / "transactions.csv", index=False)
    with pytest.raises(psycopg.errors.InvalidTextRepresentation, match="twelve") as raised:
        load_raw(raw, postgres_server, schema="loader_test", warn=lambda _: None)
    assert "COPY transactions, line 5" in str(raised.value.diag.context)


def test_postgres_run_without_raw_tables_names_the_fix(engines: Engines) -> None:
    done = build(
        "postgres",
        engines,
        WORKED_EXAMPLE / "raw",
        "no-raw",
        dbt_vars={"raw_schema": "nowhere"},
        args=("run", "--select", "stg_loyalty__members"),
    )
    assert done.returncode != 0
    assert "Required raw table missing: no table nowhere.members" in done.output
    assert "make load-postgres" in done.output


# Rows a typed PostgreSQL raw table holds and the base models quarantine (a value that does not parse as
# its column's type stops the loader instead: test_loader_bad_value_fails_naming_table_and_line).
OWN_TABLE_BAD_ROWS = {
    "order_lines": (
        "order_line_id,transaction_id,product_id,category,quantity,line_amount",
        "L1,T999,P1,shoes,1,10.00",  # unknown_transaction
        "L2,T001,P1,shoes,1,-1",  # negative_amount
    ),
    "marketing_spend": ("spend_date,channel,amount", "2024-02-01,web,-100"),  # negative_amount
    "program_visits": ("visit_date,channel,visitors", "2024-02-01,web,-3", "2099-02-01,web,3"),
}


def test_postgres_raw_tables_of_your_own_without_delivery_column(engines: Engines, tmp_path: Path) -> None:
    """Raw tables of the user's own, without the loader's `_delivery` column: each table is one delivery,
    named after the table, and every row not staged keeps its values as delivered in the quarantine."""
    raw = _example_copy(tmp_path)
    with (raw / "transactions.csv").open("a") as transactions:
        transactions.write("B004,M99,2024-03-01 10:00:00,10.0,purchase,web\n")  # unknown_member
    for table, rows in OWN_TABLE_BAD_ROWS.items():
        (raw / f"{table}.csv").write_text("".join(f"{row}\n" for row in rows))
    load_raw(raw, engines.postgres, schema="own_tables", warn=lambda _: None)
    with psycopg.connect(engines.postgres.conninfo()) as conn:
        for table in raw_contract():
            own_table = sql.Identifier("own_tables", table.name)
            conn.execute(sql.SQL("alter table {} drop column _delivery").format(own_table))
    done = build(
        "postgres",
        engines,
        raw,
        "own-tables",
        dbt_vars={"raw_schema": "own_tables", "quarantine_error_pct": 100},
        args=("build", "--select", "+quarantine", "--indirect-selection", "cautious"),
    )
    assert done.returncode == 0, done.output
    assert done.failures() == []
    not_null_values = "test.loyalty_kpi.not_null_quarantine_original_values."
    assert any(node.startswith(not_null_values) for node in done.results)
    with psycopg.connect(engines.postgres.conninfo()) as conn:
        rows = conn.execute(
            "select raw_table, delivery, count(*), count(original_values) from quarantine.quarantine"
            " group by raw_table, delivery order by raw_table"
        ).fetchall()
    tables = [table for table, *_ in rows]  # one delivery per table
    assert tables == ["marketing_spend", "order_lines", "program_visits", "transactions"]
    for table, delivery, count, with_values in rows:
        assert (delivery, with_values) == (table, count)


# ----------------------------------------------------------------------------- the raw contract on Spark


def _spark_run(engines: Engines, raw: Path, name: str) -> EngineBuild:
    return build("spark_thrift", engines, raw, name, args=("run", "--select", "stg_loyalty__members"))


def test_spark_reads_csv_and_converts_offsets_to_utc(engines: Engines) -> None:
    done = build(
        # --full-refresh: the Thrift Server's warehouse holds the generated build's incremental tables
        "spark_thrift",
        engines,
        WORKED_EXAMPLE / "raw",
        "staging",
        args=("run", "--select", "staging", "--full-refresh"),
    )
    _assert_passed(done)
    thrift = engines.spark_thrift
    with closing(hive.connect(host=HOST, port=thrift.thrift_port, username=thrift.user)) as conn:
        cursor = conn.cursor()
        cursor.execute(
            "select count(*), max(case when transaction_id = 'T017' then transacted_at end), "
            "count(member_id) from staging.stg_loyalty__transactions"
        )
        rows, t017, member_rows = cursor.fetchone()
    transactions = pd.read_csv(WORKED_EXAMPLE / "raw" / "transactions.csv", dtype=str, keep_default_na=False)
    assert rows == len(transactions)
    assert member_rows == (transactions["member_id"] != "").sum()  # an empty cell is a null: a guest
    assert str(t017).startswith("2024-04-01 01:15:00")  # 2024-03-31T22:15:00-03:00 in UTC


def test_spark_missing_required_file_stops_naming_file_and_directory(
    engines: Engines, tmp_path: Path
) -> None:
    raw = _example_copy(tmp_path)
    (raw / "transactions.csv").unlink()
    done = _spark_run(engines, raw, "no-transactions")
    assert done.returncode != 0
    assert "Required raw file missing: no transactions.parquet or transactions.csv" in done.output
    assert str(raw) in done.output and "section 'Raw data contract'" in done.output


def test_spark_missing_required_column_names_it_and_optional_ones_may_be_absent(
    engines: Engines, tmp_path: Path
) -> None:
    raw = _example_copy(tmp_path)
    members = pd.read_csv(raw / "members.csv", dtype=str).drop(columns=["email", "referred_by_member_id"])
    members.to_csv(raw / "members.csv", index=False)
    assert _spark_run(engines, raw, "optional-columns").returncode == 0
    members.rename(columns={"enrolled_at": "joined_at"}).to_csv(raw / "members.csv", index=False)
    done = _spark_run(engines, raw, "no-enrolled-at")
    assert done.returncode != 0
    assert f"Raw file '{raw}/members.csv' has no column 'enrolled_at'" in done.output


def test_spark_needs_an_absolute_raw_dir(engines: Engines) -> None:
    done = _spark_run(engines, Path("tests/fixtures/kpi_example/raw"), "relative")
    assert done.returncode != 0
    assert "LOYALTY_RAW_DIR must be an absolute path" in done.output
