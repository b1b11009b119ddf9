"""Dagster resources: the warehouse (raw directory, DuckDB file, as-of date, dbt target), dbt, and alerts."""

import json
import time
import urllib.request
from collections.abc import Iterator
from contextlib import contextmanager
from typing import Any

import duckdb
import pandas as pd
from dagster import ConfigurableResource, get_dagster_logger
from dagster_dbt import DbtCliResource

from loyalty_kpi.clv_warehouse import MARTS_SCHEMA, ClvWarehouse, warehouse_for_target
from loyalty_kpi.dbt import dbt_executable
from orchestration.project import loyalty_project
from orchestration.settings import Settings

LOCK_MESSAGE = "Could not set lock on file"


class WarehouseLockedError(RuntimeError):
    """The DuckDB file is held by another writer."""


class LoyaltyWarehouse(ConfigurableResource):
    """Where the raw files are, which DuckDB file dbt writes, the as-of date (null = default), and the dbt
    target the marts are built on (`duckdb`, else `postgres` / `spark_*`: connection from the profile's
    LOYALTY_* env vars, as dbt reads them), and whether the job's dbt build runs the dbt unit tests (off by
    default, as dbt Labs recommends for production: their inputs are fixtures, not the data)."""

    raw_dir: str
    duckdb_path: str
    as_of_date: str | None = None
    target: str = "duckdb"
    unit_tests: bool = False

    def dbt_vars(self) -> dict[str, Any]:
        """The dbt vars that point a dbt invocation at this warehouse."""
        dbt_vars: dict[str, Any] = {"raw_dir": self.raw_dir, "duckdb_path": self.duckdb_path}
        if self.as_of_date:
            dbt_vars["as_of_date"] = self.as_of_date
        return dbt_vars

    def _engine(self) -> ClvWarehouse:
        """The non-DuckDB target's client (loyalty_kpi.clv_warehouse: the CLV step's connection code)."""
        return warehouse_for_target(self.target)

    def read_frame(self, query: str) -> pd.DataFrame:
        """A read query on the target's warehouse, as a frame: DuckDB read-only (waiting out a writer's
        lock), PostgreSQL through psycopg, Spark through its session or Thrift Server. The SQL must be
        portable across the engines."""
        if self.target == "duckdb":
            with self.read_only() as con:
                return con.execute(query).df()
        return self._engine().read_frame(query)

    def read_marts(self) -> dict[str, pd.DataFrame]:
        """Every table of the target's `marts` schema as a frame (for publishing off DuckDB)."""
        if self.target == "duckdb":
            with self.read_only() as con:
                names = [
                    row[0]
                    for row in con.execute(
                        "select table_name from duckdb_tables() where schema_name = ? order by 1",
                        [MARTS_SCHEMA],
                    ).fetchall()
                ]
                return {name: con.execute(f'select * from {MARTS_SCHEMA}."{name}"').df() for name in names}
        engine = self._engine()
        return {
            name: engine.read_frame(f"select * from {MARTS_SCHEMA}.{name}")
            for name in engine.table_names(MARTS_SCHEMA)
        }

    @contextmanager
    def read_only(self, attempts: int = 5, first_wait_s: float = 0.5) -> Iterator[duckdb.DuckDBPyConnection]:
        """A read-only connection, retried with backoff while another process holds the write lock."""
        for attempt in range(attempts):
            try:
                con = duckdb.connect(self.duckdb_path, read_only=True)
                break
            except duckdb.IOException as error:
                if LOCK_MESSAGE not in str(error) or attempt == attempts - 1:
                    raise WarehouseLockedError(
                        f"The DuckDB warehouse '{self.duckdb_path}' is locked by another process (a running "
                        f"build or a tool holding a write connection); gave up after {attempts} attempts."
                    ) from error
                time.sleep(first_wait_s * 2**attempt)
        try:
            yield con
        finally:
            con.close()


class AlertSender(ConfigurableResource):
    """Alerts: always a log line; also a JSON POST to `webhook_url` when one is configured."""

    webhook_url: str | None = None
    timeout_s: float = 10.0

    def send(self, title: str, details: dict[str, Any]) -> None:
        """Emit one alert."""
        get_dagster_logger().error(f"ALERT {title}: {json.dumps(details, default=str)}")
        if not self.webhook_url:
            return
        request = urllib.request.Request(
            self.webhook_url,
            data=json.dumps({"title": title, **details}, default=str).encode(),
            headers={"Content-Type": "application/json"},
            method="POST",
        )
        with urllib.request.urlopen(request, timeout=self.timeout_s):
            pass


def build_resources(settings: Settings) -> dict[str, Any]:
    """The code location's resources, configured from the settings."""
    return {
        "dbt": DbtCliResource(
            project_dir=loyalty_project, target=settings.dbt_target, dbt_executable=dbt_executable()
        ),
        "warehouse": LoyaltyWarehouse(
            raw_dir=str(settings.raw_dir),
            duckdb_path=str(settings.duckdb_path),
            as_of_date=settings.as_of_date,
            target=settings.dbt_target,
            unit_tests=settings.dbt_unit_tests,
        ),
        "alerts": AlertSender(webhook_url=settings.alert_webhook_url),
    }
