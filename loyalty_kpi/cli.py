"""Command line of the loyalty KPI project: ``python -m loyalty_kpi <command>`` (or ``loyalty <command>``)."""

from __future__ import annotations

import time
from datetime import datetime
from enum import StrEnum
from pathlib import Path
from typing import Annotated

import typer
from rich.console import Console
from rich.table import Table

from loyalty_kpi.bench import SCALES, GeneratedDataMismatch, record, run_benchmark
from loyalty_kpi.engine_cli import postgres_app, spark_app
from loyalty_kpi.generate import generate as generate_raw
from loyalty_kpi.paths import duckdb_path, publish_dir, report_path
from loyalty_kpi.publish import publish
from loyalty_kpi.report import write_report
from loyalty_kpi.summary import print_summary

app = typer.Typer(help="Loyalty-program KPI warehouse.", no_args_is_help=True)
app.add_typer(postgres_app, name="postgres")
app.add_typer(spark_app, name="spark")


class OutputFormat(StrEnum):
    """File format of the raw tables."""

    parquet = "parquet"
    csv = "csv"


@app.callback()
def main() -> None:
    """Loyalty-program KPI warehouse."""


@app.command()
def generate(
    members: Annotated[int, typer.Option(min=1, help="Number of members.")] = 20_000,
    months: Annotated[int, typer.Option(min=1, help="Months of history, ending with --end-date's.")] = 36,
    seed: Annotated[int, typer.Option(help="Random seed: the same seed gives the same files.")] = 7,
    end_date: Annotated[
        datetime, typer.Option(formats=["%Y-%m-%d"], help="Last day of the data (UTC).")
    ] = datetime(2026, 10, 31),
    out: Annotated[Path, typer.Option(help="Directory the raw tables are written to.")] = Path("data/raw"),
    fmt: Annotated[OutputFormat, typer.Option("--format", help="File format.")] = OutputFormat.parquet,
) -> None:
    """Write seeded demo data for every table of the raw contract."""
    started = time.perf_counter()
    rows = generate_raw(out, members, months, seed, end_date.date(), fmt.value, progress=True)
    table = Table(title=f"Raw tables in {out} ({fmt.value}, {time.perf_counter() - started:.1f} s)")
    table.add_column("table")
    table.add_column("rows", justify="right")
    for name, count in rows.items():
        table.add_row(name, f"{count:,}")
    Console().print(table)


@app.command()
def summary(
    warehouse: Annotated[
        Path | None,
        typer.Option(help="DuckDB warehouse (default: LOYALTY_DUCKDB_PATH or data/warehouse.duckdb)."),
    ] = None,
    months: Annotated[int, typer.Option(min=1, help="How many complete months to show.")] = 3,
) -> None:
    """Print the headline KPIs (CRR, churn, active members, AOV, formula CLV) of the last complete months."""
    path = warehouse or duckdb_path()
    if not path.exists():
        Console(stderr=True).print(
            f"[red]No warehouse at {path}: run `dbt build` (or `make demo`) first.[/red]"
        )
        raise typer.Exit(1)
    print_summary(path, months)


@app.command()
def bench(
    scale: Annotated[str, typer.Option(help=f"Data scale: one of {', '.join(SCALES)}.")] = "10m",
    target: Annotated[
        str, typer.Option(help="Profile target: duckdb, postgres, spark_session or spark_thrift.")
    ] = "duckdb",
    work_dir: Annotated[Path, typer.Option(help="Where the data and warehouse go (large).")] = Path(
        "data/bench"
    ),
    reuse_generated: Annotated[
        bool,
        typer.Option(help="Keep the data an earlier run at this scale generated in WORK_DIR (not timed)."),
    ] = False,
    one_file_per_table: Annotated[
        bool,
        typer.Option(
            help="Deliver each table as one file, appended to each day (default: a file per delivery)."
        ),
    ] = False,
) -> None:
    """Generate data at a scale; time a full `dbt build`, one incremental day and the reference query;
    record them with peak memory in benchmarks/results.md."""
    if scale not in SCALES:
        raise typer.BadParameter(f"scale must be one of {', '.join(SCALES)}", param_hint="--scale")
    try:
        result = run_benchmark(
            scale,
            work_dir.resolve(),
            target,
            reuse_generated=reuse_generated,
            one_file_per_table=one_file_per_table,
        )
    except GeneratedDataMismatch as error:
        raise typer.BadParameter(str(error), param_hint="--reuse-generated") from error
    record(result)
    Console().print(result)
    if not result.dbt_nodes_ok:
        raise typer.Exit(1)


@app.command(name="clv-fit")
def clv_fit(
    target: Annotated[
        str,
        typer.Option(help="Profile target without dbt Python models: postgres, spark_session, spark_thrift."),
    ] = "postgres",
    vars_: Annotated[
        str | None,
        typer.Option(
            "--vars", help="dbt vars as YAML/JSON, as given to `dbt build` (clv_*, gross_margin_pct)."
        ),
    ] = None,
) -> None:
    """Predictive CLV on PostgreSQL or Spark, after `dbt build --exclude source:clv_step+` there: read
    int_clv_calibration_summary, fit and score with loyalty_kpi.clv, write int_clv_fit and
    int_clv_member_predictions into the target's intermediate schema (what the DuckDB dbt Python models
    do), then `dbt build --select source:clv_step+`: the CLV marts and their tests."""
    import yaml

    from loyalty_kpi.clv_warehouse import TARGETS, run_on_target
    from loyalty_kpi.dbt import run_dbt
    from loyalty_kpi.paths import raw_dir

    if target not in TARGETS:
        raise typer.BadParameter(
            f"one of {', '.join(TARGETS)} (on duckdb `dbt build` fits and scores)", param_hint="--target"
        )
    dbt_vars = yaml.safe_load(vars_) if vars_ else None
    started = time.perf_counter()
    tables = run_on_target(target, dbt_vars)
    table = Table(title=f"CLV step written to {target} ({time.perf_counter() - started:.1f} s)")
    table.add_column("table")
    table.add_column("rows", justify="right")
    for name, frame in tables.items():
        table.add_row(f"intermediate.{name}", f"{len(frame):,}")
    Console().print(table)
    built = run_dbt(
        ("build", "--select", "source:clv_step+"),
        raw_dir=raw_dir(),
        dbt_vars=dbt_vars,
        capture=False,
        target=target,
    )
    if built.returncode != 0:
        raise typer.Exit(built.returncode)


@app.command(name="publish")
def publish_marts(
    warehouse: Annotated[
        Path | None, typer.Option(help="DuckDB warehouse (default: LOYALTY_DUCKDB_PATH).")
    ] = None,
    target: Annotated[
        Path | None, typer.Option(help="Publish directory (default: LOYALTY_PUBLISH_DIR).")
    ] = None,
) -> None:
    """Copy the marts into the publish directory for BI readers (DuckDB file + Parquet, atomic swap)."""
    publication = publish(warehouse or duckdb_path(), target or publish_dir())
    Console().print(
        f"Published build {publication.build_id}: {publication.duckdb_file} and {publication.parquet_dir}"
    )


@app.command()
def report(
    publish_dir_: Annotated[
        Path | None,
        typer.Option(
            "--publish-dir", help="Published marts (default: LOYALTY_PUBLISH_DIR or data/published)."
        ),
    ] = None,
    out: Annotated[
        Path | None,
        typer.Option(help="HTML file (default: LOYALTY_REPORT_PATH or data/report/loyalty_kpi_report.html)."),
    ] = None,
) -> None:
    """Write the self-contained HTML KPI report (plotly, opens offline) from the published marts."""
    started = time.perf_counter()
    try:
        written = write_report(publish_dir_ or publish_dir(), out or report_path())
    except FileNotFoundError as error:
        Console(stderr=True).print(f"[red]{error}[/red]")
        raise typer.Exit(1) from error
    Console().print(
        f"Report {written.path} ({written.size_bytes / 1e6:.1f} MB, {time.perf_counter() - started:.1f} s)"
    )
