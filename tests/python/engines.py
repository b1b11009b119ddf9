"""Helpers of the cross-engine tests: build the project on one engine and read back its marts.

Each build reads every mart right after dbt finishes (the engines' schemas are shared by the builds of a
test session, so a later build would overwrite them).
"""

from __future__ import annotations

import json
import shutil
import socket
import subprocess
from collections.abc import Mapping
from contextlib import closing
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import duckdb
import pandas as pd
import psycopg
from pyhive import hive

from loyalty_kpi.clv_warehouse import run_on_target
from loyalty_kpi.dbt import run_dbt
from loyalty_kpi.load_postgres import load_raw
from loyalty_kpi.postgres import PgSettings
from loyalty_kpi.spark import HOST, SparkClusterSettings
from tests.python.test_end_to_end import KEYS

SPEC_MARTS = sorted(KEYS)
# what `clv-fit` builds after the CLV step off DuckDB: the CLV marts and their tests
CLV_STEP_MARTS = "source:clv_step+"


def free_port() -> int:
    """A TCP port on 127.0.0.1 that nothing listens on now."""
    with socket.socket() as probe:
        probe.bind((HOST, 0))
        return int(probe.getsockname()[1])


@dataclass
class EngineBuild:
    """A finished `dbt build` on one engine: exit code, output, node results and the marts it made."""

    engine: str
    returncode: int
    output: str
    results: dict[str, str] = field(default_factory=dict)  # node unique_id -> status
    tests: set[str] = field(default_factory=set)  # the data and unit tests enabled on the target
    marts: dict[str, pd.DataFrame] = field(default_factory=dict)

    def failures(self) -> list[str]:
        """The nodes that did not pass (exposures are reported as no-op: nothing to run)."""
        return [
            f"{node}: {status}"
            for node, status in self.results.items()
            if status not in ("success", "pass") and not (node.startswith("exposure.") and status == "no-op")
        ]


@dataclass(frozen=True)
class Engines:
    """Where each engine is: the DuckDB files' directory, the PostgreSQL server, the Spark directories."""

    work_dir: Path
    postgres: PgSettings
    spark_session_dir: Path
    spark_thrift: SparkClusterSettings


def _manifest(work_dir: Path) -> dict[str, Any]:
    return json.loads((work_dir / "target" / "manifest.json").read_text())


def mart_models(work_dir: Path) -> list[str]:
    """The mart models enabled on the build's target (from its manifest)."""
    manifest = _manifest(work_dir)
    return sorted(
        node["name"]
        for node in manifest["nodes"].values()
        if node["resource_type"] == "model" and node["fqn"][:2] == ["loyalty_kpi", "marts"]
    )


def _results(work_dir: Path) -> dict[str, str]:
    run_results = work_dir / "target" / "run_results.json"
    if not run_results.exists():
        return {}
    return {r["unique_id"]: r["status"] for r in json.loads(run_results.read_text())["results"]}


def cursor_frame(cursor: Any) -> pd.DataFrame:
    """The rows of an executed DB-API cursor as a frame (Spark's "table.column" names shortened)."""
    columns = [column[0].split(".")[-1] for column in cursor.description]
    return pd.DataFrame.from_records(cursor.fetchall(), columns=columns)


def read_marts(engine: str, engines: Engines, duckdb_file: Path, marts: list[str]) -> dict[str, pd.DataFrame]:
    """The marts of the engine's warehouse, through that engine's own client."""
    if engine == "duckdb":
        with duckdb.connect(str(duckdb_file), read_only=True) as con:
            return {mart: con.execute(f"select * from marts.{mart}").df() for mart in marts}
    if engine in ("postgres", "spark_thrift"):
        thrift = engines.spark_thrift
        connect = (
            psycopg.connect(engines.postgres.conninfo())
            if engine == "postgres"
            else hive.connect(host=HOST, port=thrift.thrift_port, username=thrift.user)
        )
        frames = {}
        with closing(connect) as conn:
            cursor = conn.cursor()
            for mart in marts:
                cursor.execute(f"select * from marts.{mart}")
                frames[mart] = cursor_frame(cursor)
        return frames
    # spark_session: its Derby metastore admits one JVM, so the managed tables' Parquet files are read
    warehouse = engines.spark_session_dir / "warehouse" / "marts.db"
    with duckdb.connect() as con:
        return {
            mart: con.execute(f"select * from read_parquet('{warehouse / mart}/*.parquet')").df()
            for mart in marts
        }


def _reuse_parse(engines: Engines, engine: str, work_dir: Path) -> None:
    """Give work_dir an earlier build's partial-parse file of the same engine: dbt reuses it when the
    profile, vars and project files are unchanged (else it parses in full), which saves a full parse on
    the Spark and PostgreSQL runs after the first."""
    earlier = sorted(engines.work_dir.glob(f"{engine}-*/target/partial_parse.msgpack"))
    if earlier:
        (work_dir / "target").mkdir()
        shutil.copy(earlier[0], work_dir / "target")


def build(
    engine: str,
    engines: Engines,
    raw_dir: Path,
    name: str,
    dbt_vars: Mapping[str, Any] | None = None,
    args: tuple[str, ...] = ("build",),
    excluded_types: tuple[str, ...] = (),
) -> EngineBuild:
    """Run dbt (by default `build`) on one engine on raw_dir; PostgreSQL's raw tables are loaded first. A
    whole build (`build` without `--select`; its marts are read) off DuckDB runs as the Dagster job does:
    everything but the CLV marts, the CLV step, then the CLV marts and their tests (`clv-fit`).
    `excluded_types`: dbt resource types a build leaves out (both steps)."""
    work_dir = engines.work_dir / f"{engine}-{name}"
    work_dir.mkdir(parents=True)
    _reuse_parse(engines, engine, work_dir)
    duckdb_file = work_dir / "warehouse.duckdb"
    env = {
        **engines.postgres.env(),
        **engines.spark_thrift.env(),
        "LOYALTY_SPARK_SESSION_DIR": str(engines.spark_session_dir),
        "SPARK_LOCAL_IP": HOST,
    }
    if engine == "postgres":
        load_raw(raw_dir, engines.postgres, warn=lambda _: None)
    whole_build = args[0] == "build" and "--select" not in args
    clv_step = engine != "duckdb" and whole_build

    def dbt(dbt_args: tuple[str, ...]) -> subprocess.CompletedProcess[str]:
        return run_dbt(
            (*dbt_args, *(("--exclude-resource-type", *excluded_types) if excluded_types else ())),
            raw_dir=raw_dir,
            duckdb_path=duckdb_file,
            dbt_vars=dbt_vars,
            work_dir=work_dir,
            target=engine,
            env=env,
        )

    result = dbt((*args, "--exclude", CLV_STEP_MARTS) if clv_step else args)
    output, results = result.stdout + result.stderr, _results(work_dir)
    if clv_step and result.returncode == 0:
        run_on_target(engine, dbt_vars, env)
        result = dbt(("build", "--select", CLV_STEP_MARTS))
        output, results = output + result.stdout + result.stderr, {**results, **_results(work_dir)}
    done = EngineBuild(engine, result.returncode, output, results)
    if result.returncode == 0 and whole_build:
        manifest = _manifest(work_dir)
        nodes = manifest["nodes"]
        # a test of a model disabled on the target (the DuckDB-only Python models) stays in the manifest,
        # disabled itself, and is not run
        done.tests = {
            name
            for name, node in [*nodes.items(), *manifest["unit_tests"].items()]
            if node["resource_type"] in ("test", "unit_test")
            and node["resource_type"] not in excluded_types
            and node["config"].get("enabled", True)
            and all(parent in nodes for parent in node["depends_on"]["nodes"])
        }
        done.marts = read_marts(engine, engines, duckdb_file, mart_models(work_dir))
    return done
