"""Predictive CLV on the engines without dbt Python models (PostgreSQL, Spark): the fit and the member
predictions written by Python into the target warehouse, for the dbt CLV marts to read.

On DuckDB the dbt Python models `int_clv_fit` / `int_clv_member_predictions` call :mod:`loyalty_kpi.clv`.
Elsewhere those two models are disabled, and this module does their work from outside dbt:

1. read `intermediate.int_clv_calibration_summary` (a SQL model, built on every engine) from the target;
2. call :func:`loyalty_kpi.clv.run` on it — the function the Python models call;
3. write its two tables into the target's `intermediate` schema as `int_clv_fit` and
   `int_clv_member_predictions` (the Python models' names and columns, types per engine), replacing the
   previous ones (PostgreSQL: one transaction).

dbt reads them as source `clv_step` (macro clv_step_output), so the three CLV marts, their contracts and
their data tests are dbt's on every engine. Callers: the Dagster asset `intermediate/int_clv_*`
(orchestration/assets/clv.py) on a non-DuckDB target, and `python -m loyalty_kpi clv-fit --target …`.
"""

from __future__ import annotations

import math
import multiprocessing
from collections.abc import Callable, Iterator, Mapping, Sequence
from concurrent.futures import ProcessPoolExecutor
from contextlib import closing
from dataclasses import dataclass
from datetime import date, datetime
from typing import Any, Protocol

import numpy as np
import pandas as pd
import yaml

from loyalty_kpi import clv
from loyalty_kpi.paths import PROJECT_DIR

SUMMARY_TABLE = "intermediate.int_clv_calibration_summary"
STEP_SCHEMA = "intermediate"
MARTS_SCHEMA = "marts"
# The dbt Python models' columns (loyalty_kpi.clv's frames) as portable types, spelt per engine below.
_KINDS = {
    "string": "string",
    "datetime64[ns]": "date",
    "float64": "double",
    "int64": "bigint",
    "bool": "boolean",
}
STEP_COLUMNS: dict[str, list[tuple[str, str]]] = {
    "int_clv_fit": [(name, _KINDS[dtype]) for name, dtype in clv.FIT_COLUMNS.items()],
    "int_clv_member_predictions": [(name, _KINDS[dtype]) for name, dtype in clv.PREDICTION_COLUMNS.items()],
}
POSTGRES_TYPES = {
    "string": "text",
    "double": "double precision",
    "bigint": "bigint",
    "date": "date",
    "boolean": "boolean",
}
SPARK_TYPES = {
    "string": "string",
    "double": "double",
    "bigint": "bigint",
    "date": "date",
    "boolean": "boolean",
}
SUMMARY_DTYPES = {
    "calibration": "string",
    "member_id": "string",
    "frequency": "int64",
    "recency_weeks": "float64",
    "t_weeks": "float64",
    "monetary_value": "float64",
    "holdout_purchase_days": "Int64",
}
TARGETS = ("postgres", "spark_session", "spark_thrift")


def settings_from_project(overrides: Mapping[str, Any] | None = None) -> clv.ClvSettings:
    """The CLV settings from dbt_project.yml's vars with `overrides` (what `dbt --vars` is given) on top."""
    project = yaml.safe_load((PROJECT_DIR / "dbt_project.yml").read_text())
    return clv.ClvSettings.from_config({**project.get("vars", {}), **(overrides or {})})


# ------------------------------------------------------------------------------------- the step's tables


def normalise_summary(summary: pd.DataFrame) -> pd.DataFrame:
    """The summary with the dtypes DuckDB's `.df()` gives the dbt Python models (each engine's client
    returns its own: PostgreSQL numerics as Decimal, dates as date objects, …)."""
    frame = summary.copy()
    frame.columns = [str(column).split(".")[-1].lower() for column in frame.columns]
    for column, dtype in SUMMARY_DTYPES.items():
        if dtype in ("float64", "Int64"):
            frame[column] = pd.to_numeric(frame[column], errors="coerce")
        frame[column] = frame[column].astype(dtype)
    frame["calibration_end"] = pd.to_datetime(frame["calibration_end"]).astype("datetime64[ns]")
    return frame


def compute_step_tables(
    summary: pd.DataFrame, settings: clv.ClvSettings | None = None
) -> dict[str, pd.DataFrame]:
    """`int_clv_fit` and `int_clv_member_predictions` from a calibration summary (loyalty_kpi.clv.run)."""
    fit_rows, predictions = clv.run(normalise_summary(summary), settings or settings_from_project())
    return {"int_clv_fit": fit_rows, "int_clv_member_predictions": predictions}


# ---------------------------------------------------------------------------------------- the engines


class ClvWarehouse(Protocol):
    """Where the summary is read from and the step's tables are written to."""

    def read_summary(self) -> pd.DataFrame: ...

    def read_frame(self, query: str) -> pd.DataFrame: ...

    def table_names(self, schema: str) -> list[str]: ...

    def write_tables(self, tables: Mapping[str, pd.DataFrame]) -> None: ...


def _python_value(value: Any, kind: str) -> Any:
    """A frame cell as the plain Python value a database client writes (None for a missing one)."""
    if value is None or value is pd.NA or value is pd.NaT:
        return None
    if isinstance(value, float | np.floating) and math.isnan(value):
        return None
    if kind == "double":
        return float(value)
    if kind == "bigint":
        return int(value)
    if kind == "date":
        return value.date() if isinstance(value, datetime) else value
    if kind == "boolean":
        return bool(value)
    return str(value)


def _is_staging(table: str) -> bool:
    """A table being written (this step's `…__clv_new`, dbt's `…__dbt_tmp` / `…__dbt_backup`)."""
    return table.endswith("__clv_new") or "__dbt_tmp" in table or "__dbt_backup" in table


def _rows(frame: pd.DataFrame, columns: Sequence[tuple[str, str]]) -> Iterator[tuple[Any, ...]]:
    cells = [frame[name].tolist() for name, _ in columns]
    kinds = [kind for _, kind in columns]
    for row in zip(*cells, strict=True):
        yield tuple(_python_value(value, kind) for value, kind in zip(row, kinds, strict=True))


@dataclass(frozen=True)
class PostgresClvWarehouse:
    """The postgres target: psycopg, as the owner role dbt builds as."""

    settings: Any  # loyalty_kpi.postgres.PgSettings (psycopg is an optional dependency)

    def read_summary(self) -> pd.DataFrame:
        return self.read_frame(f"select * from {SUMMARY_TABLE}")

    def read_frame(self, query: str) -> pd.DataFrame:
        """The result of a read query as a frame (the client's values: numerics as Decimal, dates as date)."""
        import psycopg

        with psycopg.connect(self.settings.conninfo()) as conn:
            cursor = conn.execute(query)
            names = [column.name for column in cursor.description or []]
            return pd.DataFrame.from_records(cursor.fetchall(), columns=names)

    def table_names(self, schema: str) -> list[str]:
        """The tables and views of a schema, sorted (the CLV step's staging tables left out)."""
        import psycopg

        with psycopg.connect(self.settings.conninfo()) as conn:
            rows = conn.execute(
                "select table_name from information_schema.tables where table_schema = %s order by 1",
                [schema],
            ).fetchall()
        return [row[0] for row in rows if not _is_staging(row[0])]

    def write_tables(self, tables: Mapping[str, pd.DataFrame]) -> None:
        """Each table into a new one, then swapped for the old one: both in one transaction, so that a
        reader sees the previous fit and predictions or the new ones, never a mix."""
        import psycopg
        from psycopg import sql

        with psycopg.connect(self.settings.conninfo()) as conn:  # one transaction, committed at exit
            conn.execute(sql.SQL("create schema if not exists {}").format(sql.Identifier(STEP_SCHEMA)))
            for name, frame in tables.items():
                columns = STEP_COLUMNS[name]
                new = sql.Identifier(STEP_SCHEMA, f"{name}__clv_new")
                conn.execute(sql.SQL("drop table if exists {}").format(new))
                conn.execute(
                    sql.SQL("create table {} ({})").format(
                        new,
                        sql.SQL(", ").join(
                            sql.SQL("{} {}").format(sql.Identifier(column), sql.SQL(POSTGRES_TYPES[kind]))
                            for column, kind in columns
                        ),
                    )
                )
                copy_sql = sql.SQL("copy {} ({}) from stdin").format(
                    new, sql.SQL(", ").join(sql.Identifier(column) for column, _ in columns)
                )
                with conn.cursor().copy(copy_sql) as copy:
                    for row in _rows(frame, columns):
                        copy.write_row(row)
                conn.execute(sql.SQL("drop table if exists {}").format(sql.Identifier(STEP_SCHEMA, name)))
                conn.execute(sql.SQL("alter table {} rename to {}").format(new, sql.Identifier(name)))


def _spark_literal(value: Any, kind: str) -> str:
    if value is None:
        return f"cast(null as {SPARK_TYPES[kind]})"
    if kind == "string":
        return "'" + str(value).replace("\\", "\\\\").replace("'", "\\'") + "'"
    if kind == "double":
        return f"double('{value!r}')" if not math.isfinite(value) else repr(float(value))
    if kind == "bigint":
        return f"cast({int(value)} as bigint)"
    if kind == "boolean":
        return "true" if value else "false"
    return f"date'{value.isoformat()}'"


def _date_or_none(value: Any) -> date | None:
    """An ISO date text as a date (a null stays None)."""
    return None if pd.isna(value) else date.fromisoformat(value)


@dataclass(frozen=True)
class SparkThriftClvWarehouse:
    """The spark_thrift target: the Thrift Server dbt talks to (PyHive). The rows travel as `insert …
    values` statements in batches: fine for a member base of a few million, slow beyond (then run the
    step in a pyspark session on the cluster: :class:`SparkSessionClvWarehouse`)."""

    host: str
    port: int
    user: str
    batch_rows: int = 2000

    def _connect(self) -> Any:
        from pyhive import hive

        return closing(hive.connect(host=self.host, port=self.port, username=self.user))

    def read_summary(self) -> pd.DataFrame:
        return self.read_frame(f"select * from {SUMMARY_TABLE}")

    def read_frame(self, query: str) -> pd.DataFrame:
        """The result of a read query as a frame, dates as date objects (PyHive returns a DATE column as
        text, which a published copy would keep as VARCHAR)."""
        with self._connect() as conn:
            cursor = conn.cursor()
            cursor.execute(query)
            names = [column[0].split(".")[-1] for column in cursor.description]
            frame = pd.DataFrame.from_records(cursor.fetchall(), columns=names)
            for name, (_, type_code, *_) in zip(names, cursor.description, strict=True):
                if type_code == "DATE_TYPE":
                    frame[name] = frame[name].map(_date_or_none)
            return frame

    def table_names(self, schema: str) -> list[str]:
        """The tables of a database (schema), sorted (the CLV step's staging tables left out)."""
        with self._connect() as conn:
            cursor = conn.cursor()
            cursor.execute(f"show tables in {schema}")
            names = [row[1] for row in cursor.fetchall()]  # (database, tableName, isTemporary)
        return sorted(name for name in names if not _is_staging(name))

    def write_tables(self, tables: Mapping[str, pd.DataFrame]) -> None:
        with self._connect() as conn:
            cursor = conn.cursor()
            cursor.execute(f"create database if not exists {STEP_SCHEMA}")
            for name, frame in tables.items():
                columns = STEP_COLUMNS[name]
                new = f"{STEP_SCHEMA}.{name}__clv_new"
                cursor.execute(f"drop table if exists {new}")
                definition = ", ".join(f"`{column}` {SPARK_TYPES[kind]}" for column, kind in columns)
                cursor.execute(f"create table {new} ({definition}) using parquet")
                rows = [
                    "("
                    + ", ".join(_spark_literal(v, k) for v, (_, k) in zip(row, columns, strict=True))
                    + ")"
                    for row in _rows(frame, columns)
                ]
                for start in range(0, len(rows), self.batch_rows):
                    cursor.execute(
                        f"insert into {new} values " + ", ".join(rows[start : start + self.batch_rows])
                    )
                cursor.execute(f"drop table if exists {STEP_SCHEMA}.{name}")
                cursor.execute(f"alter table {new} rename to {STEP_SCHEMA}.{name}")


@dataclass(frozen=True)
class SparkSessionClvWarehouse:
    """The spark_session target: a pyspark session on the target's own metastore and warehouse (the
    profile's settings). Derby admits one JVM, so each call runs in a process (and JVM) of its own that
    ends with it: a dbt run on the session target can follow in the same Python process (the Dagster job,
    `clv-fit`). Not while a dbt run holds the session directory."""

    session_dir: str
    cores: str = "2"
    driver_memory: str = "2g"
    java_options: str = ""

    def _in_own_jvm(self, work: Callable[..., Any], *args: Any) -> Any:
        with ProcessPoolExecutor(max_workers=1, mp_context=multiprocessing.get_context("spawn")) as pool:
            return pool.submit(work, self, *args).result()

    def session(self) -> Any:
        """The session (in the calling process: call it from a process of its own, see the class)."""
        from pyspark.sql import SparkSession

        java_options = f"-Dderby.system.home={self.session_dir} {self.java_options}"
        return (
            SparkSession.builder.master(f"local[{self.cores}]")
            .appName("loyalty_kpi clv-fit")
            .config("spark.driver.memory", self.driver_memory)
            .config("spark.driver.host", "127.0.0.1")
            .config("spark.driver.bindAddress", "127.0.0.1")
            .config("spark.driver.extraJavaOptions", java_options)
            .config(
                "spark.hadoop.javax.jdo.option.ConnectionURL",
                f"jdbc:derby:;databaseName={self.session_dir}/metastore_db;create=true",
            )
            .config("spark.sql.warehouse.dir", f"{self.session_dir}/warehouse")
            .config("spark.sql.session.timeZone", "UTC")
            .config("spark.ui.enabled", "false")
            .enableHiveSupport()
            .getOrCreate()
        )

    def read_summary(self) -> pd.DataFrame:
        return self.read_frame(f"select * from {SUMMARY_TABLE}")

    def read_frame(self, query: str) -> pd.DataFrame:
        """The result of a read query as a frame."""
        return self._in_own_jvm(_session_frame, query)

    def table_names(self, schema: str) -> list[str]:
        """The tables of a database (schema), sorted (the CLV step's staging tables left out)."""
        names = self._in_own_jvm(_session_frame, f"show tables in {schema}")["tableName"]
        return sorted(name for name in names if not _is_staging(name))

    def write_tables(self, tables: Mapping[str, pd.DataFrame]) -> None:
        self._in_own_jvm(_session_write, dict(tables))


def _session_frame(warehouse: SparkSessionClvWarehouse, query: str) -> pd.DataFrame:
    return warehouse.session().sql(query).toPandas()


def _session_write(warehouse: SparkSessionClvWarehouse, tables: Mapping[str, pd.DataFrame]) -> None:
    spark = warehouse.session()
    spark.sql(f"create database if not exists {STEP_SCHEMA}")
    for name, frame in tables.items():
        columns = STEP_COLUMNS[name]
        schema = ", ".join(f"`{column}` {SPARK_TYPES[kind]}" for column, kind in columns)
        rows = list(_rows(frame, columns))
        data = spark.createDataFrame(rows, schema=schema) if rows else spark.createDataFrame([], schema)
        data.write.format("parquet").mode("overwrite").saveAsTable(f"{STEP_SCHEMA}.{name}")


def warehouse_for_target(target: str, env: Mapping[str, str] | None = None) -> ClvWarehouse:
    """The warehouse of a profile target, from the same env vars (and defaults) as profiles.yml."""
    import os

    values = {**os.environ, **(env or {})}
    if target == "postgres":
        from loyalty_kpi.postgres import PgSettings

        return PostgresClvWarehouse(
            PgSettings(
                host=values.get("LOYALTY_PG_HOST", "127.0.0.1"),
                port=int(values.get("LOYALTY_PG_PORT", "5433")),
                database=values.get("LOYALTY_PG_DATABASE", "loyalty"),
                user=values.get("LOYALTY_PG_USER", "loyalty"),
                password=values.get("LOYALTY_PG_PASSWORD", ""),
                bi_role=values.get("LOYALTY_PG_BI_ROLE", "loyalty_bi"),
            )
        )
    if target == "spark_thrift":
        return SparkThriftClvWarehouse(
            host=values.get("LOYALTY_SPARK_HOST", "127.0.0.1"),
            port=int(values.get("LOYALTY_SPARK_PORT", "10000")),
            user=values.get("LOYALTY_SPARK_USER", "loyalty"),
        )
    if target == "spark_session":
        # relative to the project directory, where dbt runs
        session_dir = PROJECT_DIR / values.get("LOYALTY_SPARK_SESSION_DIR", "data/spark/session")
        return SparkSessionClvWarehouse(
            session_dir=str(session_dir),
            cores=values.get("LOYALTY_SPARK_CORES", "2"),
            driver_memory=values.get("LOYALTY_SPARK_DRIVER_MEMORY", "2g"),
            java_options=values.get("LOYALTY_SPARK_JAVA_OPTIONS", ""),
        )
    raise ValueError(
        f"target {target!r}: the CLV step runs outside dbt on {', '.join(TARGETS)} only "
        "(on duckdb the dbt Python models int_clv_fit and int_clv_member_predictions do its work)"
    )


def run_on_target(
    target: str,
    dbt_vars: Mapping[str, Any] | None = None,
    env: Mapping[str, str] | None = None,
) -> dict[str, pd.DataFrame]:
    """Read the summary from the target, fit and score, write `int_clv_fit` and
    `int_clv_member_predictions` there; returns them."""
    warehouse = warehouse_for_target(target, env)
    tables = compute_step_tables(warehouse.read_summary(), settings_from_project(dbt_vars))
    warehouse.write_tables(tables)
    return tables
