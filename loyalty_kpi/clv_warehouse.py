"""Predictive CLV on the engines without dbt Python models (PostgreSQL, Spark): the same marts, written by
Python into the target warehouse.

On DuckDB the dbt Python models `int_clv_fit` / `int_clv_member_predictions` call :mod:`loyalty_kpi.clv`
and the SQL marts `clv_model_fit`, `member_clv_predicted`, `clv_holdout_validation` are built from them.
Elsewhere those models and marts are disabled; this module does the same work from outside dbt:

1. read `intermediate.int_clv_calibration_summary` (a SQL model, built on every engine) from the target;
2. call :func:`loyalty_kpi.clv.run` on it — the function the Python models call;
3. compute the three marts with the marts' own SQL (in an in-memory DuckDB over the frames, so the
   arithmetic — the margin, the decimal mean of the holdout — is the dbt models');
4. write them into the target's `marts` schema with the contracts' columns and types, replacing the
   previous tables (PostgreSQL: one transaction, `select` granted to the BI role).

Callers: the Dagster asset `marts/clv_*` (orchestration/assets/clv.py) on a non-DuckDB target, and
`python -m loyalty_kpi clv-fit --target postgres` after a plain `dbt build`.
"""

from __future__ import annotations

import math
from collections.abc import Iterator, Mapping, Sequence
from contextlib import closing
from dataclasses import dataclass, field
from datetime import date, datetime
from typing import Any, Protocol

import duckdb
import numpy as np
import pandas as pd
import yaml

from loyalty_kpi import clv
from loyalty_kpi.paths import PROJECT_DIR

SUMMARY_TABLE = "intermediate.int_clv_calibration_summary"
MARTS_SCHEMA = "marts"
# The marts' contracts (models/marts/_marts__clv.yml): portable types, spelt per engine below.
MART_COLUMNS: dict[str, list[tuple[str, str]]] = {
    "clv_model_fit": [
        ("model", "string"),
        ("parameter", "string"),
        ("value", "double"),
        ("log_likelihood", "double"),
        ("n_members", "bigint"),
        ("calibration_end", "date"),
        ("time_unit", "string"),
    ],
    "member_clv_predicted": [
        ("member_id", "string"),
        ("frequency", "bigint"),
        ("recency_weeks", "double"),
        ("t_weeks", "double"),
        ("monetary_value", "double"),
        ("p_alive", "double"),
        ("expected_purchases", "double"),
        ("expected_average_spend", "double"),
        ("predicted_clv", "double"),
    ],
    "clv_holdout_validation": [
        ("frequency_bucket", "string"),
        ("members", "bigint"),
        ("actual_mean_purchases", "double"),
        ("predicted_mean_purchases", "double"),
        ("r", "double"),
        ("alpha", "double"),
        ("a", "double"),
        ("b", "double"),
    ],
}
POSTGRES_TYPES = {"string": "text", "double": "double precision", "bigint": "bigint", "date": "date"}
SPARK_TYPES = {"string": "string", "double": "double", "bigint": "bigint", "date": "date"}
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
HOLDOUT_BUCKETS = ["0", "1", "2", "3", "4", "5", "6", "7+", "all"]

# The SQL of the three marts (models/marts/clv_*.sql) over the frames `summary`, `fit` and `predictions`,
# in DuckDB: the same expressions, so that the numbers are those DuckDB's dbt build writes.
_MART_SQL = {
    "clv_model_fit": """
        select
            cast(model as varchar) as model,
            cast(parameter as varchar) as parameter,
            cast(value as double) as value,
            cast(log_likelihood as double) as log_likelihood,
            cast(n_members as bigint) as n_members,
            cast(calibration_end as date) as calibration_end,
            cast('week' as varchar) as time_unit
        from fit
        where calibration = 'as_of'
    """,
    "member_clv_predicted": """
        select
            cast(summary.member_id as varchar) as member_id,
            cast(summary.frequency as bigint) as frequency,
            cast(summary.recency_weeks as double) as recency_weeks,
            cast(summary.t_weeks as double) as t_weeks,
            cast(summary.monetary_value as double) as monetary_value,
            cast(predictions.p_alive as double) as p_alive,
            cast(predictions.expected_purchases as double) as expected_purchases,
            cast(predictions.expected_average_spend as double) as expected_average_spend,
            cast(cast($gross_margin_pct as double) / 100
                * predictions.expected_average_spend
                * predictions.discounted_expected_purchases as double) as predicted_clv
        from summary
        inner join predictions
            on summary.member_id = predictions.member_id
        where summary.calibration = 'as_of'
            and predictions.calibration = 'as_of'
    """,
    "clv_holdout_validation": """
        with holdout_members as (
            select
                summary.member_id,
                case when summary.frequency >= 7 then '7+' else cast(summary.frequency as varchar) end
                    as frequency_bucket,
                summary.holdout_purchase_days,
                predictions.expected_purchases
            from summary
            inner join predictions
                on summary.calibration = predictions.calibration
                and summary.member_id = predictions.member_id
            where summary.calibration = 'holdout'
        ),
        holdout_fit as (
            select
                max(case when parameter = 'r' then value end) as r,
                max(case when parameter = 'alpha' then value end) as alpha,
                max(case when parameter = 'a' then value end) as a,
                max(case when parameter = 'b' then value end) as b
            from fit
            where calibration = 'holdout' and model = 'bg_nbd'
            having count(*) > 0
        ),
        buckets as (select unnest($buckets) as frequency_bucket),
        bucket_means as (
            select
                frequency_bucket,
                count(*) as members,
                avg(cast(holdout_purchase_days as double)) as actual_mean_purchases,
                cast(avg(cast(expected_purchases as decimal(38, 12))) as double) as predicted_mean_purchases
            from holdout_members
            group by frequency_bucket
            union all
            select
                'all' as frequency_bucket,
                count(*) as members,
                avg(cast(holdout_purchase_days as double)) as actual_mean_purchases,
                cast(avg(cast(expected_purchases as decimal(38, 12))) as double) as predicted_mean_purchases
            from holdout_members
        )
        select
            cast(buckets.frequency_bucket as varchar) as frequency_bucket,
            cast(coalesce(bucket_means.members, 0) as bigint) as members,
            cast(bucket_means.actual_mean_purchases as double) as actual_mean_purchases,
            cast(bucket_means.predicted_mean_purchases as double) as predicted_mean_purchases,
            cast(holdout_fit.r as double) as r,
            cast(holdout_fit.alpha as double) as alpha,
            cast(holdout_fit.a as double) as a,
            cast(holdout_fit.b as double) as b
        from buckets
        cross join holdout_fit
        left join bucket_means
            on buckets.frequency_bucket = bucket_means.frequency_bucket
    """,
}


@dataclass(frozen=True)
class ClvVars:
    """The dbt vars the CLV step reads: kpi-spec §6's and the margin of predicted_clv."""

    settings: clv.ClvSettings = field(default_factory=clv.ClvSettings)
    gross_margin_pct: float = 100.0

    @classmethod
    def from_project(cls, overrides: Mapping[str, Any] | None = None) -> ClvVars:
        """dbt_project.yml's vars with `overrides` (what `dbt --vars` would be given) on top."""
        project = yaml.safe_load((PROJECT_DIR / "dbt_project.yml").read_text())
        values = {**project.get("vars", {}), **(overrides or {})}
        margin = values.get("gross_margin_pct")
        return cls(
            settings=clv.ClvSettings.from_config(values),
            gross_margin_pct=100.0 if margin is None or margin == "" else float(margin),
        )


# ------------------------------------------------------------------------------------------ the marts


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


def compute_marts(summary: pd.DataFrame, clv_vars: ClvVars | None = None) -> dict[str, pd.DataFrame]:
    """The three CLV marts from a calibration summary: loyalty_kpi.clv.run, then the marts' SQL."""
    clv_vars = clv_vars or ClvVars.from_project()
    summary = normalise_summary(summary)
    fit_rows, predictions = clv.run(summary, clv_vars.settings)
    with duckdb.connect() as con:
        con.execute("set TimeZone = 'UTC'")
        con.register("summary", summary)
        con.register("fit", fit_rows)
        con.register("predictions", predictions)
        parameters = {"gross_margin_pct": clv_vars.gross_margin_pct, "buckets": HOLDOUT_BUCKETS}
        marts = {}
        for mart, query in _MART_SQL.items():
            used = {name: value for name, value in parameters.items() if f"${name}" in query}
            marts[mart] = con.execute(query, used).df()
    return marts


# ---------------------------------------------------------------------------------------- the engines


class ClvWarehouse(Protocol):
    """Where the summary is read from and the marts are written to."""

    def read_summary(self) -> pd.DataFrame: ...

    def read_frame(self, query: str) -> pd.DataFrame: ...

    def table_names(self, schema: str) -> list[str]: ...

    def write_marts(self, marts: Mapping[str, pd.DataFrame]) -> None: ...


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

    def write_marts(self, marts: Mapping[str, pd.DataFrame]) -> None:
        """Each mart into a new table, then swapped for the old one and granted to the BI role: all three
        in one transaction, so a reader sees the previous marts or the new ones."""
        import psycopg
        from psycopg import sql

        bi_role = sql.Identifier(self.settings.bi_role)
        with psycopg.connect(self.settings.conninfo()) as conn:  # one transaction, committed at exit
            conn.execute(sql.SQL("create schema if not exists {}").format(sql.Identifier(MARTS_SCHEMA)))
            for mart, frame in marts.items():
                columns = MART_COLUMNS[mart]
                new = sql.Identifier(MARTS_SCHEMA, f"{mart}__clv_new")
                conn.execute(sql.SQL("drop table if exists {}").format(new))
                conn.execute(
                    sql.SQL("create table {} ({})").format(
                        new,
                        sql.SQL(", ").join(
                            sql.SQL("{} {}").format(sql.Identifier(name), sql.SQL(POSTGRES_TYPES[kind]))
                            for name, kind in columns
                        ),
                    )
                )
                copy_sql = sql.SQL("copy {} ({}) from stdin").format(
                    new, sql.SQL(", ").join(sql.Identifier(name) for name, _ in columns)
                )
                with conn.cursor().copy(copy_sql) as copy:
                    for row in _rows(frame, columns):
                        copy.write_row(row)
                conn.execute(sql.SQL("drop table if exists {}").format(sql.Identifier(MARTS_SCHEMA, mart)))
                conn.execute(sql.SQL("alter table {} rename to {}").format(new, sql.Identifier(mart)))
                conn.execute(
                    sql.SQL("grant select on {} to {}").format(sql.Identifier(MARTS_SCHEMA, mart), bi_role)
                )
            conn.execute(
                sql.SQL("grant usage on schema {} to {}").format(sql.Identifier(MARTS_SCHEMA), bi_role)
            )


def _spark_literal(value: Any, kind: str) -> str:
    if value is None:
        return f"cast(null as {SPARK_TYPES[kind]})"
    if kind == "string":
        return "'" + str(value).replace("\\", "\\\\").replace("'", "\\'") + "'"
    if kind == "double":
        return f"double('{value!r}')" if not math.isfinite(value) else repr(float(value))
    if kind == "bigint":
        return f"cast({int(value)} as bigint)"
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

    def write_marts(self, marts: Mapping[str, pd.DataFrame]) -> None:
        with self._connect() as conn:
            cursor = conn.cursor()
            cursor.execute(f"create database if not exists {MARTS_SCHEMA}")
            for mart, frame in marts.items():
                columns = MART_COLUMNS[mart]
                new = f"{MARTS_SCHEMA}.{mart}__clv_new"
                cursor.execute(f"drop table if exists {new}")
                definition = ", ".join(f"`{name}` {SPARK_TYPES[kind]}" for name, kind in columns)
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
                cursor.execute(f"drop table if exists {MARTS_SCHEMA}.{mart}")
                cursor.execute(f"alter table {new} rename to {MARTS_SCHEMA}.{mart}")


@dataclass(frozen=True)
class SparkSessionClvWarehouse:
    """The spark_session target: a pyspark session on the target's own metastore and warehouse (the
    profile's settings). Derby admits one JVM: run it when no dbt run holds the session directory."""

    session_dir: str
    cores: str = "2"
    driver_memory: str = "2g"

    def _session(self) -> Any:
        from pyspark.sql import SparkSession

        return (
            SparkSession.builder.master(f"local[{self.cores}]")
            .appName("loyalty_kpi clv-fit")
            .config("spark.driver.memory", self.driver_memory)
            .config("spark.driver.host", "127.0.0.1")
            .config("spark.driver.bindAddress", "127.0.0.1")
            .config("spark.driver.extraJavaOptions", f"-Dderby.system.home={self.session_dir}")
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
        return self._session().table(SUMMARY_TABLE).toPandas()

    def read_frame(self, query: str) -> pd.DataFrame:
        """The result of a read query as a frame."""
        return self._session().sql(query).toPandas()

    def table_names(self, schema: str) -> list[str]:
        """The tables of a database (schema), sorted (the CLV step's staging tables left out)."""
        names = [row.tableName for row in self._session().sql(f"show tables in {schema}").collect()]
        return sorted(name for name in names if not _is_staging(name))

    def write_marts(self, marts: Mapping[str, pd.DataFrame]) -> None:
        spark = self._session()
        spark.sql(f"create database if not exists {MARTS_SCHEMA}")
        for mart, frame in marts.items():
            columns = MART_COLUMNS[mart]
            schema = ", ".join(f"`{name}` {SPARK_TYPES[kind]}" for name, kind in columns)
            rows = list(_rows(frame, columns))
            data = spark.createDataFrame(rows, schema=schema) if rows else spark.createDataFrame([], schema)
            data.write.format("parquet").mode("overwrite").saveAsTable(f"{MARTS_SCHEMA}.{mart}")


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
        )
    raise ValueError(
        f"target {target!r}: the CLV step runs outside dbt on {', '.join(TARGETS)} only "
        "(on duckdb the dbt Python models build the CLV marts)"
    )


def run_on_target(
    target: str,
    dbt_vars: Mapping[str, Any] | None = None,
    env: Mapping[str, str] | None = None,
) -> dict[str, pd.DataFrame]:
    """Read the summary from the target, fit and score, write the three marts there; returns them."""
    warehouse = warehouse_for_target(target, env)
    marts = compute_marts(warehouse.read_summary(), ClvVars.from_project(dbt_vars))
    warehouse.write_marts(marts)
    return marts
