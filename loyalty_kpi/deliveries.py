"""Daily deliveries of generated raw data, for incremental runs (tests, benchmark).

Two layouts of the raw contract. One file per table (the default): a delivery directory starts as the
generated data up to a day (``deliver_until``), and each later day's rows are appended to its files
(``deliver_day``: the Parquet file is rewritten as old rows + new rows, beside its final name, then renamed
over it). A file per delivery (``deliver_until(..., file_per_delivery=True)``): each table is a directory
and every delivery a new file in it, named after its day (``transactions/2025-06-17.parquet``), as daily
extracts arrive; later calls see the layout and keep it. ``members`` is the exception in both: it is a
current-state extract, so each delivery replaces ``members.parquet`` with the members enrolled by then (a
cancellation after that day not yet known). DuckDB streams every copy, so memory stays bounded at any
size. Parquet only.
"""

from __future__ import annotations

from collections.abc import Sequence
from datetime import date
from pathlib import Path

import duckdb

# The column that dates each table's rows (order_lines: their transaction's transacted_at).
EVENT_COLUMN: dict[str, str] = {
    "transactions": "transacted_at",
    "tier_changes": "changed_at",
    "point_events": "occurred_at",
    "engagement_events": "occurred_at",
    "survey_responses": "responded_at",
    "marketing_spend": "spend_date",
    "program_visits": "visit_date",
}


def _literal(value: Path | date) -> str:
    return "'" + str(value).replace("'", "''") + "'"


def _rows_of(full_dir: Path, table: str, condition: str) -> str:
    """A select of ``table``'s generated rows whose day satisfies ``condition`` (on ``day``).

    Order lines go with their transaction: those of the transactions outside the condition are left out
    (an anti join on that set, small when the day is near the end, so memory stays bounded)."""
    source = f"read_parquet({_literal(full_dir / f'{table}.parquet')})"
    if table == "order_lines":
        transactions = f"read_parquet({_literal(full_dir / 'transactions.parquet')})"
        day = "cast(transacted_at as date)"
        outside = f"select transaction_id from {transactions} where not ({condition.replace('day', day)})"
        return f"select lines.* from {source} as lines anti join ({outside}) using (transaction_id)"
    return f"select * from {source} where {condition.replace('day', f'cast({EVENT_COLUMN[table]} as date)')}"


def _members_until(full_dir: Path, day: date) -> str:
    """The members extract as it would read on ``day``: enrolled by then, later cancellations unknown."""
    source = f"read_parquet({_literal(full_dir / 'members.parquet')})"
    return (
        f"select * replace (case when cast(cancelled_at as date) <= {_literal(day)} then cancelled_at end "
        f"as cancelled_at) from {source} where cast(enrolled_at as date) <= {_literal(day)}"
    )


def _write(con: duckdb.DuckDBPyConnection, select_sql: str, path: Path) -> None:
    """Write a select to ``path`` through a file beside it renamed over it (readers never see half)."""
    partial = path.with_name(path.name + ".partial")
    con.execute(f"copy ({select_sql}) to {_literal(partial)} (format parquet, compression zstd)")
    partial.replace(path)


def tables(full_dir: Path) -> list[str]:
    """The tables generated in ``full_dir`` (Parquet files)."""
    return sorted(path.stem for path in full_dir.glob("*.parquet"))


def table_rows(out_dir: Path, table: str) -> str:
    """A relation of every row delivered so far of ``table`` in ``out_dir`` (either layout)."""
    directory = out_dir / table
    path = directory / "*.parquet" if directory.is_dir() else out_dir / f"{table}.parquet"
    return f"read_parquet({_literal(path)})"


def _add(con: duckdb.DuckDBPyConnection, out_dir: Path, table: str, select_sql: str, name: str) -> None:
    """Deliver the rows of a select: a new file ``name`` in the table's directory (a file per delivery;
    ``name-2``, … when taken), else appended to its one file."""
    directory = out_dir / table
    if not directory.is_dir():
        path = out_dir / f"{table}.parquet"
        _write(con, f"select * from read_parquet({_literal(path)}) union all {select_sql}", path)
        return
    path, copy = directory / f"{name}.parquet", 1
    while path.exists():
        copy += 1
        path = directory / f"{name}-{copy}.parquet"
    # the delivered files' column names, whatever the select names its columns
    _write(con, f"(select * from {table_rows(out_dir, table)} limit 0) union all ({select_sql})", path)


def deliver_until(full_dir: Path, out_dir: Path, day: date, *, file_per_delivery: bool = False) -> None:
    """Write into ``out_dir`` every table of ``full_dir`` with the rows dated up to ``day``: one file per
    table, or (``file_per_delivery``) a directory per table holding them as its first delivery."""
    out_dir.mkdir(parents=True, exist_ok=True)
    with duckdb.connect() as con:
        for table in tables(full_dir):
            if table == "members":
                _write(con, _members_until(full_dir, day), out_dir / "members.parquet")
                continue
            select_sql = _rows_of(full_dir, table, f"day <= {_literal(day)}")
            if file_per_delivery:
                (out_dir / table).mkdir(exist_ok=True)
                _write(con, select_sql, out_dir / table / f"until-{day}.parquet")
            else:
                _write(con, select_sql, out_dir / f"{table}.parquet")


def deliver_day(
    full_dir: Path, out_dir: Path, day: date, *, hold_back: dict[str, int] | None = None
) -> dict[str, list[str]]:
    """Deliver the rows of ``day`` from ``full_dir`` to ``out_dir`` (in its layout); refresh ``members``.

    ``hold_back`` maps a table to a number of that day's rows kept out of this delivery (its first ids):
    they are returned, by table, as their first column's values, for a later ``deliver_rows`` (late rows).
    """
    held: dict[str, list[str]] = {}
    with duckdb.connect() as con:
        for table in tables(full_dir):
            if table == "members":
                _write(con, _members_until(full_dir, day), out_dir / "members.parquet")
                continue
            new_rows = _rows_of(full_dir, table, f"day = {_literal(day)}")
            count = (hold_back or {}).get(table, 0)
            if count:
                key = con.execute(f"select * from ({new_rows}) limit 0").description[0][0]
                held[table] = [
                    str(row[0])
                    for row in con.execute(
                        f"select {key} from ({new_rows}) order by {key} limit {count}"
                    ).fetchall()
                ]
                keys = ", ".join(_literal_text(value) for value in held[table])
                new_rows = f"select * from ({new_rows}) where {key} not in ({keys})"
            _add(con, out_dir, table, new_rows, str(day))
    return held


def deliver_rows(full_dir: Path, out_dir: Path, table: str, keys: Sequence[str]) -> None:
    """Deliver the rows of ``table`` whose first column is one of ``keys`` (e.g. late rows, or a re-delivery
    of rows already delivered) to ``out_dir``."""
    source = f"read_parquet({_literal(full_dir / f'{table}.parquet')})"
    with duckdb.connect() as con:
        key = con.execute(f"select * from {source} limit 0").description[0][0]
        values = ", ".join(_literal_text(value) for value in keys)
        _add(con, out_dir, table, f"select * from {source} where {key} in ({values})", "late")


def append_rows(out_dir: Path, table: str, select_sql: str) -> None:
    """Deliver the rows of a select (the table's columns, in order; ``{current}`` names the rows delivered
    so far, e.g. to re-deliver some of them changed) to ``out_dir``'s ``table``."""
    with duckdb.connect() as con:
        _add(con, out_dir, table, select_sql.format(current=table_rows(out_dir, table)), "redelivery")


def _literal_text(value: str) -> str:
    return "'" + value.replace("'", "''") + "'"
