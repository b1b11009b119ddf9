"""Daily deliveries of generated raw data, for incremental runs (tests, benchmark).

The raw contract stays one file per table: a delivery directory starts as the generated data up to a day
(``deliver_until``), and each later day's rows are appended to its files (``deliver_day``: the Parquet
file is rewritten as old rows + new rows, beside its final name, then renamed over it). ``members`` is the
exception: it is a current-state extract, so each delivery replaces it with the members enrolled by then
(a cancellation after that day not yet known). DuckDB streams every copy, so memory stays bounded at any
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


def deliver_until(full_dir: Path, out_dir: Path, day: date) -> None:
    """Write into ``out_dir`` every table of ``full_dir`` with the rows dated up to ``day``."""
    out_dir.mkdir(parents=True, exist_ok=True)
    with duckdb.connect() as con:
        for table in tables(full_dir):
            select_sql = (
                _members_until(full_dir, day)
                if table == "members"
                else _rows_of(full_dir, table, f"day <= {_literal(day)}")
            )
            _write(con, select_sql, out_dir / f"{table}.parquet")


def deliver_day(
    full_dir: Path, out_dir: Path, day: date, *, hold_back: dict[str, int] | None = None
) -> dict[str, list[str]]:
    """Append the rows of ``day`` from ``full_dir`` to the files of ``out_dir``; refresh ``members``.

    ``hold_back`` maps a table to a number of that day's rows kept out of this delivery (its first ids):
    they are returned, by table, as their first column's values, for a later ``deliver_rows`` (late rows).
    """
    held: dict[str, list[str]] = {}
    with duckdb.connect() as con:
        for table in tables(full_dir):
            path = out_dir / f"{table}.parquet"
            if table == "members":
                _write(con, _members_until(full_dir, day), path)
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
            _write(con, f"select * from read_parquet({_literal(path)}) union all {new_rows}", path)
    return held


def deliver_rows(full_dir: Path, out_dir: Path, table: str, keys: Sequence[str]) -> None:
    """Append the rows of ``table`` whose first column is one of ``keys`` (e.g. late rows, or a re-delivery
    of rows already delivered) to ``out_dir``'s file."""
    path = out_dir / f"{table}.parquet"
    source = f"read_parquet({_literal(full_dir / f'{table}.parquet')})"
    with duckdb.connect() as con:
        key = con.execute(f"select * from {source} limit 0").description[0][0]
        values = ", ".join(_literal_text(value) for value in keys)
        delivered = f"select * from {source} where {key} in ({values})"
        _write(con, f"select * from read_parquet({_literal(path)}) union all {delivered}", path)


def append_rows(out_dir: Path, table: str, select_sql: str) -> None:
    """Append the rows of a select (the file's columns, in order; ``{current}`` names the current file's
    rows, e.g. to re-deliver some of them changed) to ``out_dir``'s file of ``table``."""
    path = out_dir / f"{table}.parquet"
    current = f"read_parquet({_literal(path)})"
    with duckdb.connect() as con:
        _write(con, f"select * from {current} union all {select_sql.format(current=current)}", path)


def _literal_text(value: str) -> str:
    return "'" + value.replace("'", "''") + "'"
