"""Load the raw files of LOYALTY_RAW_DIR into PostgreSQL's `raw` schema (`make load-postgres`).

The same contract as the DuckDB on-run-start hook: a missing required file or column stops the load
before anything is written, with the hook's message; a missing optional file gives an empty table and
a warning; a missing optional column is null. DuckDB reads the files exactly as the DuckDB target does
(Parquet natively, CSV as text) and converts timestamps to naive UTC the same way; the rows are streamed
to PostgreSQL with COPY. All tables are replaced in one transaction (a rerun gives the same tables), and
each table's row count is checked against the file's: no row is dropped silently, a bad value fails the
load naming table, line and column. A table delivered as a directory of files (docs/raw_contract.md
"Deliveries") is loaded file by file, each row with its file's name in the column `_delivery`.
"""

from __future__ import annotations

import io
from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path

import duckdb
import psycopg
import pyarrow.csv as pacsv
from psycopg import sql

from loyalty_kpi.postgres import PgSettings
from loyalty_kpi.raw_contract import (
    DELIVERY_COLUMN,
    RawTable,
    check_columns,
    delivery_name,
    find_raw_files,
    missing_optional_file_warning,
    raw_contract,
)

BATCH_ROWS = 100_000


@dataclass(frozen=True)
class _File:
    """One file (delivery) of a raw table: its path, name and the contract columns it has."""

    path: Path
    delivery: str
    columns: dict[str, str]  # contract column -> the file's spelling of it


@dataclass(frozen=True)
class _Plan:
    """One raw table and its files (none: an absent optional table)."""

    table: RawTable
    files: list[_File]


def _reader(path: Path) -> str:
    """The DuckDB table function reading a raw file, as the DuckDB target's hook reads it."""
    literal = "'" + str(path).replace("'", "''") + "'"
    if path.suffix == ".csv":
        return f"read_csv({literal}, header = true, all_varchar = true)"
    return f"read_parquet({literal})"


def _plan(reader: duckdb.DuckDBPyConnection, raw_dir: Path, table: RawTable) -> _Plan:
    files = []
    for path in find_raw_files(raw_dir, table):
        present = [row[0] for row in reader.execute(f"describe select * from {_reader(path)}").fetchall()]
        check_columns(path, table, present)
        spelled = {name.lower(): name for name in reversed(present)}
        columns = {c.name: spelled[c.name] for c in table.columns if c.name in spelled}
        files.append(_File(path, delivery_name(raw_dir, path), columns))
    return _Plan(table, files)


def _select(table: RawTable, file: _File) -> str:
    """The file's contract columns and its delivery name; timestamps as naive UTC (an offset converted,
    naive taken as UTC)."""
    types = {column.name: column.data_type for column in table.columns}
    expressions = []
    for name, spelling in file.columns.items():
        quoted = '"' + spelling.replace('"', '""') + '"'
        if types[name] == "timestamp":
            quoted = f"cast(timezone('UTC', cast({quoted} as timestamptz)) as timestamp)"
        expressions.append(f'{quoted} as "{name}"')
    delivery = "'" + file.delivery.replace("'", "''") + "'"
    expressions.append(f'{delivery} as "{DELIVERY_COLUMN}"')
    return f"select {', '.join(expressions)} from {_reader(file.path)}"


def _replace_table(conn: psycopg.Connection, schema: str, table: RawTable) -> None:
    """An empty raw table with the contract's columns and `_delivery`: truncated when it matches, else
    re-created."""
    target = sql.Identifier(schema, table.name)
    columns = [(c.name, c.data_type) for c in table.columns] + [(DELIVERY_COLUMN, "text")]
    definition = sql.SQL(", ").join(
        sql.SQL("{} {}").format(sql.Identifier(name), sql.SQL(data_type)) for name, data_type in columns
    )
    conn.execute(sql.SQL("create temporary table _contract ({}) on commit drop").format(definition))
    columns_of = "select attname, format_type(atttypid, atttypmod) from pg_attribute " \
        "where attrelid = to_regclass(%s) and attnum > 0 and not attisdropped order by attnum"  # fmt: skip
    wanted = conn.execute(columns_of, ["_contract"]).fetchall()
    existing = conn.execute(columns_of, [f'"{schema}"."{table.name}"']).fetchall()
    conn.execute("drop table _contract")
    if existing == wanted:
        conn.execute(sql.SQL("truncate table {}").format(target))
    else:
        conn.execute(sql.SQL("drop table if exists {} cascade").format(target))
        conn.execute(sql.SQL("create table {} ({})").format(target, definition))


def _copy(reader: duckdb.DuckDBPyConnection, conn: psycopg.Connection, schema: str, plan: _Plan) -> int:
    """Stream each file's rows into the raw table with COPY; the number of rows, checked on both sides."""
    total = 0
    options = pacsv.WriteOptions(include_header=False)
    for file in plan.files:
        statement = sql.SQL("copy {} ({}) from stdin (format csv)").format(
            sql.Identifier(schema, plan.table.name),
            sql.SQL(", ").join(map(sql.Identifier, [*file.columns, DELIVERY_COLUMN])),
        )
        sent = 0
        with conn.cursor() as cursor:
            with cursor.copy(statement) as copy:
                for batch in reader.sql(_select(plan.table, file)).to_arrow_reader(BATCH_ROWS):
                    buffer = io.BytesIO()
                    pacsv.write_csv(batch, buffer, options)
                    copy.write(buffer.getvalue())
                    sent += batch.num_rows
            copied = cursor.rowcount
        if copied != sent:
            raise RuntimeError(
                f"{file.path}: {sent} rows read but {copied} copied into {schema}.{plan.table.name}"
            )
        total += copied
    return total


def load_raw(
    raw_dir: Path,
    settings: PgSettings | None = None,
    schema: str = "raw",
    warn: Callable[[str], None] = print,
) -> dict[str, int]:
    """Replace every table of the raw contract in `schema` with the rows of raw_dir's files.

    Raises RawContractError (nothing written) when a required file or column is missing. Returns the
    rows loaded per table.
    """
    settings = settings or PgSettings()
    with duckdb.connect() as reader:
        reader.execute("set TimeZone = 'UTC'")
        plans = [_plan(reader, raw_dir, table) for table in raw_contract()]
        for plan in plans:
            if not plan.files:
                warn(missing_optional_file_warning(raw_dir, plan.table))
        loaded: dict[str, int] = {}
        with psycopg.connect(settings.conninfo()) as conn:
            conn.execute("set timezone = 'UTC'")
            conn.execute(sql.SQL("create schema if not exists {}").format(sql.Identifier(schema)))
            for plan in plans:
                _replace_table(conn, schema, plan.table)
                loaded[plan.table.name] = _copy(reader, conn, schema, plan)
    return loaded
