"""Publishing for BI readers, idempotent builds, and a build killed mid-run."""

import hashlib
import os
import signal
import subprocess
import threading
import time
from decimal import Decimal
from pathlib import Path

import duckdb
import pytest
import yaml

from loyalty_kpi.dbt import dbt_executable
from loyalty_kpi.generate import generate
from loyalty_kpi.paths import PROJECT_DIR
from loyalty_kpi.publish import (
    DEFAULT_STORAGE_VERSION,
    METADATA_TABLE,
    PUBLISHED_FILE,
    STORAGE_VERSION_ENV,
    publish,
)
from tests.python.support import DATA_BUILD, Build, BuildFn

PII_NAMES = {
    "email",
    "e_mail",
    "name",
    "first_name",
    "last_name",
    "phone",
    "birth_date",
    "date_of_birth",
    "address",
}


def mart_hashes(database: Path) -> dict[str, str]:
    """A content hash of every table of schema marts (rows in a canonical order)."""
    hashes = {}
    with duckdb.connect(str(database), read_only=True) as con:
        tables = con.execute(
            "select table_name from information_schema.tables where table_schema = 'marts' order by 1"
        ).fetchall()
        for (table,) in tables:
            if table == METADATA_TABLE:
                continue
            rows = con.execute(f'select * from marts."{table}" order by all').fetchall()
            hashes[table] = hashlib.sha256(repr(rows).encode()).hexdigest()
    return hashes


def contract_columns() -> dict[str, set[str]]:
    """The columns every mart declares in its YAML contract: the allow-list of what may be published."""
    columns: dict[str, set[str]] = {}
    for path in (PROJECT_DIR / "models" / "marts").glob("*.yml"):
        for model in yaml.safe_load(path.read_text()).get("models", []):
            columns[model["name"]] = {column["name"] for column in model.get("columns", [])}
    return columns


def test_published_file_and_parquet_hold_every_mart(built: Build, tmp_path: Path) -> None:
    publication = publish(built.warehouse, tmp_path)
    assert (tmp_path / PUBLISHED_FILE).is_file()
    assert mart_hashes(tmp_path / PUBLISHED_FILE) == mart_hashes(built.warehouse)
    with duckdb.connect(str(tmp_path / PUBLISHED_FILE), read_only=True) as con:
        metadata = dict(con.execute(f"select mart, rows from marts.{METADATA_TABLE}").fetchall())
        builds = con.execute(f"select distinct build_id from marts.{METADATA_TABLE}").fetchall()
        for mart, rows in metadata.items():
            parquet = tmp_path / "parquet" / f"{mart}.parquet"
            assert con.execute(f"select count(*) from read_parquet('{parquet}')").fetchone() == (rows,)
    assert builds == [(publication.build_id,)]
    assert metadata == publication.row_counts


def test_every_published_column_is_declared_and_none_is_personal(built: Build, tmp_path: Path) -> None:
    publish(built.warehouse, tmp_path)
    allowed = contract_columns()
    with duckdb.connect(str(tmp_path / PUBLISHED_FILE), read_only=True) as con:
        published = con.execute(
            "select table_name, column_name from information_schema.columns where table_schema = 'marts'"
        ).fetchall()
    undeclared = [
        f"{table}.{column}"
        for table, column in published
        if table != METADATA_TABLE and column not in allowed.get(table, set())
    ]
    assert not undeclared, f"published columns missing from the marts' YAML contracts: {undeclared}"
    assert not [f"{t}.{c}" for t, c in published if c.lower() in PII_NAMES]


def test_building_twice_gives_identical_marts(built: Build, dbt_build: BuildFn, generated_raw: Path) -> None:
    again = dbt_build(generated_raw)
    assert again.returncode == 0, again.output
    assert mart_hashes(again.warehouse) == mart_hashes(built.warehouse)


def _dbt_build_process(
    raw: Path, warehouse: Path, work: Path, stdout: Path | None = None
) -> subprocess.Popen[bytes]:
    """`dbt build --full-refresh`: the raw data is replaced by another data set, not appended to (README
    "Incremental runs")."""
    env = {
        **os.environ,
        "LOYALTY_RAW_DIR": str(raw),
        "LOYALTY_DUCKDB_PATH": str(warehouse),
        "DBT_SEND_ANONYMOUS_USAGE_STATS": "false",
    }
    return subprocess.Popen(
        [
            dbt_executable(),
            *DATA_BUILD,
            "--full-refresh",
            "--target-path",
            str(work / "target"),
            "--log-path",
            str(work / "logs"),
        ],
        cwd=PROJECT_DIR,
        env=env,
        stdout=stdout.open("wb") if stdout else subprocess.DEVNULL,
        stderr=subprocess.STDOUT if stdout else subprocess.DEVNULL,
    )


def test_a_build_killed_mid_run_leaves_the_published_marts_intact(built: Build, tmp_path: Path) -> None:
    publish_dir = tmp_path / "published"
    publish(built.warehouse, publish_dir)
    published_before = mart_hashes(publish_dir / PUBLISHED_FILE)
    warehouse = tmp_path / "warehouse.duckdb"
    warehouse.write_bytes(built.warehouse.read_bytes())
    new_raw = tmp_path / "raw"
    generate(new_raw, members=500, months=24, seed=99)

    output = tmp_path / "killed_build.log"
    process = _dbt_build_process(new_raw, warehouse, tmp_path, stdout=output)
    deadline = time.monotonic() + 300
    while "OK created sql table model" not in output.read_text() and time.monotonic() < deadline:
        assert process.poll() is None, output.read_text()[-2000:]
        time.sleep(0.05)
    assert process.poll() is None, "the build finished before it could be killed"
    process.send_signal(signal.SIGKILL)  # in the middle of the models
    process.wait()

    assert mart_hashes(publish_dir / PUBLISHED_FILE) == published_before
    rerun = _dbt_build_process(new_raw, warehouse, tmp_path)
    assert rerun.wait(timeout=600) == 0
    publish(warehouse, publish_dir)
    assert mart_hashes(publish_dir / PUBLISHED_FILE) != published_before


def test_readers_see_only_complete_publications_during_build_and_publish(
    built: Build, generated_raw: Path, tmp_path: Path
) -> None:
    publish_dir = tmp_path / "published"
    publish(built.warehouse, publish_dir)
    stop = threading.Event()
    reads: list[str] = []
    errors: list[str] = []

    def read_in_a_loop() -> None:
        while not stop.is_set():
            try:
                with duckdb.connect(str(publish_dir / PUBLISHED_FILE), read_only=True) as con:
                    broken = con.execute(
                        "select count(*) from marts.member_base_flow_monthly "
                        "where end_active <> start_active - churned + new_active + reactivated"
                    ).fetchone()
                    expected = dict(con.execute(f"select mart, rows from marts.{METADATA_TABLE}").fetchall())
                    counts = {
                        mart: con.execute(f'select count(*) from marts."{mart}"').fetchone()[0]
                        for mart in expected
                    }
                    build_id = con.execute(f"select min(build_id) from marts.{METADATA_TABLE}").fetchone()[0]
                if broken != (0,) or counts != expected:
                    errors.append(f"inconsistent snapshot {build_id}: {counts} vs {expected}")
                reads.append(build_id)
            except Exception as error:
                errors.append(repr(error))
            time.sleep(0.01)  # a reader every 10 ms, not a busy loop taking a core from the build

    reader = threading.Thread(target=read_in_a_loop)
    reader.start()
    try:
        warehouse = tmp_path / "warehouse.duckdb"
        process = _dbt_build_process(generated_raw, warehouse, tmp_path)
        assert process.wait(timeout=600) == 0
        for _ in range(3):
            publish(warehouse, publish_dir)
    finally:
        stop.set()
        reader.join()
    assert not errors, errors[:5]
    assert len(set(reads)) >= 2, "the reader never saw a new publication"


def _storage_header(database: Path) -> bytes:
    """The main header of a DuckDB file: magic bytes and the storage version number older readers check."""
    return database.read_bytes()[8:20]


def _reference_file(path: Path, storage_version: str) -> Path:
    with duckdb.connect() as con:
        con.execute(f"attach '{path}' as reference (storage_version '{storage_version}')")
        con.execute("create table reference.t as select 1 as a")
    return path


@pytest.fixture
def tiny_warehouse(tmp_path: Path) -> Path:
    """A warehouse with one mart holding the marts' column types (no dbt build needed)."""
    warehouse = tmp_path / "tiny.duckdb"
    with duckdb.connect(str(warehouse)) as con:
        con.execute("create schema marts")
        con.execute(
            """
            create table marts.kpi_monthly as
            select date '2025-01-01' as month_start, cast(12.5 as decimal(38, 2)) as revenue,
                   cast(1.25 as double) as rate, cast(3 as bigint) as members, 'gold' as tier,
                   true as is_complete_month, timestamp '2025-01-01 10:00:00' as enrolled_at
            """
        )
    return warehouse


def test_published_file_is_written_for_older_duckdb_readers(
    tiny_warehouse: Path, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    """The published file has DuckDB 1.0's storage format, not our DuckDB 2's default (1.x cannot read it)."""
    monkeypatch.delenv(STORAGE_VERSION_ENV, raising=False)
    publish(tiny_warehouse, tmp_path / "default")
    published = tmp_path / "default" / PUBLISHED_FILE
    v1 = _reference_file(tmp_path / "v1.duckdb", DEFAULT_STORAGE_VERSION)
    assert DEFAULT_STORAGE_VERSION == "v1.0.0"
    assert _storage_header(published) == _storage_header(v1)
    with duckdb.connect(str(published), read_only=True) as con:
        assert con.execute("select revenue, rate, tier from marts.kpi_monthly").fetchall() == [
            (Decimal("12.50"), 1.25, "gold")
        ]

    monkeypatch.setenv(STORAGE_VERSION_ENV, "v1.2.0")
    publish(tiny_warehouse, tmp_path / "v1.2")
    v12 = _reference_file(tmp_path / "v12.duckdb", "v1.2.0")
    assert _storage_header(tmp_path / "v1.2" / PUBLISHED_FILE) == _storage_header(v12)
    assert _storage_header(v12) != _storage_header(v1)
