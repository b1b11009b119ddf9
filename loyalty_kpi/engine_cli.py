"""Commands for the PostgreSQL and Spark targets: ``python -m loyalty_kpi postgres up|down|load`` and
``python -m loyalty_kpi spark up|down`` (behind `make postgres-up`, `make load-postgres`, `make spark-up`, …).

The engine modules are imported inside the commands: their packages are optional dependency groups.
"""

from __future__ import annotations

from pathlib import Path
from typing import Annotated

import typer
from rich.console import Console
from rich.table import Table

from loyalty_kpi.paths import PROJECT_DIR, raw_dir

postgres_app = typer.Typer(help="The postgres target: a local PostgreSQL cluster and the raw loader.")
spark_app = typer.Typer(help="The spark_thrift target: a local Spark master, worker and Thrift Server.")

PG_DIR = PROJECT_DIR / "data" / "pg"
SPARK_DIR = PROJECT_DIR / "data" / "spark" / "thrift"


@postgres_app.command("up")
def postgres_up(
    cluster_dir: Annotated[Path, typer.Option(help="Where the cluster lives.")] = PG_DIR,
) -> None:
    """Create (first time) and start a PostgreSQL 15 cluster on 127.0.0.1:LOYALTY_PG_PORT with the owner
    and BI roles and the warehouse database."""
    from loyalty_kpi.postgres import PgSettings, start_cluster

    settings = PgSettings()
    start_cluster(cluster_dir, settings)
    Console().print(
        f"PostgreSQL on {settings.host}:{settings.port}, database {settings.database}: owner "
        f"{settings.user}, read-only BI role {settings.bi_role} (trust authentication on 127.0.0.1)."
    )


@postgres_app.command("down")
def postgres_down(
    cluster_dir: Annotated[Path, typer.Option(help="Where the cluster lives.")] = PG_DIR,
) -> None:
    """Stop the cluster (pg_ctl stop: the PID in its postmaster.pid)."""
    from loyalty_kpi.postgres import stop_cluster

    stop_cluster(cluster_dir)


@postgres_app.command("load")
def postgres_load(
    raw: Annotated[Path | None, typer.Option(help="Raw files (default: LOYALTY_RAW_DIR, data/raw).")] = None,
    schema: Annotated[str, typer.Option(help="Schema of the raw tables (the raw_schema var).")] = "raw",
) -> None:
    """Copy the raw contract's files into PostgreSQL (idempotent; the contract checked first)."""
    from loyalty_kpi.load_postgres import load_raw
    from loyalty_kpi.raw_contract import RawContractError

    source = raw or raw_dir()
    console = Console()

    def warn(message: str) -> None:
        console.print(f"[yellow]{message}[/yellow]")

    try:
        rows = load_raw(source, schema=schema, warn=warn)
    except RawContractError as error:
        Console(stderr=True).print(f"[red]{error}[/red]")
        raise typer.Exit(1) from error
    table = Table(title=f"Raw tables in {schema} from {source}")
    table.add_column("table")
    table.add_column("rows", justify="right")
    for name, count in rows.items():
        table.add_row(name, f"{count:,}")
    console.print(table)


@spark_app.command("up")
def spark_up(
    cluster_dir: Annotated[Path, typer.Option(help="Logs, PIDs, metastore and warehouse.")] = SPARK_DIR,
) -> None:
    """Start a standalone master and worker and a Thrift Server on 127.0.0.1:LOYALTY_SPARK_PORT."""
    from loyalty_kpi.spark import SparkClusterSettings, start_cluster

    settings = SparkClusterSettings()
    start_cluster(cluster_dir, settings)
    Console().print(f"Spark Thrift Server on 127.0.0.1:{settings.thrift_port} (logs in {cluster_dir}).")


@spark_app.command("down")
def spark_down(
    cluster_dir: Annotated[Path, typer.Option(help="Logs, PIDs, metastore and warehouse.")] = SPARK_DIR,
) -> None:
    """Stop the Thrift Server, worker and master by the PIDs recorded at start."""
    from loyalty_kpi.spark import stop_cluster

    stop_cluster(cluster_dir)
