"""What a delivered raw file holds and whether it honours the raw contract (loyalty_kpi.raw_contract),
read with DuckDB: for the orchestrator's raw assets and their blocking checks."""

from __future__ import annotations

from dataclasses import dataclass, field
from datetime import datetime
from pathlib import Path

import duckdb

from loyalty_kpi.raw_contract import (
    RawContractError,
    RawTable,
    check_columns,
    find_raw_file,
    find_raw_files,
)


@dataclass
class FileReport:
    """What a raw file holds and what is wrong with it."""

    table: str
    path: Path | None
    rows: int = 0
    size_bytes: int = 0
    max_event_time: datetime | None = None
    extra_columns: list[str] = field(default_factory=list)
    problems: list[str] = field(default_factory=list)

    @property
    def ok(self) -> bool:
        return not self.problems


def event_time_column(table: RawTable) -> str | None:
    """The table's event time: its first timestamp or date column."""
    return next((c.name for c in table.columns if c.data_type in ("timestamp", "date")), None)


def _reader(paths: list[Path]) -> str:
    """All the files (deliveries) of a table, their columns matched by name."""
    quoted = ", ".join("'" + str(path).replace("'", "''") + "'" for path in paths)
    if paths[0].suffix == ".csv":
        return f"read_csv([{quoted}], header = true, all_varchar = true, union_by_name = true)"
    return f"read_parquet([{quoted}], union_by_name = true)"


def _cast_type(data_type: str) -> str:
    # text timestamps with an offset are valid input (staging converts them to UTC)
    return "timestamptz" if data_type == "timestamp" else data_type


def inspect_raw_file(raw_dir: Path, table: RawTable) -> FileReport:
    """Read one raw table's file (or the files of its directory, docs/raw_contract.md "Deliveries") and
    check it: present when required, readable, every required column there, every value castable to its
    contract type."""
    try:
        files = find_raw_files(raw_dir, table)
    except RawContractError as error:
        return FileReport(table=table.name, path=None, problems=[str(error)])
    path = find_raw_file(raw_dir, table)
    report = FileReport(table=table.name, path=path)
    if path is None:
        return report
    report.size_bytes = sum(file.stat().st_size for file in files)
    with duckdb.connect() as con:
        con.execute("set TimeZone = 'UTC'")
        present = []
        for file in files:
            try:
                described = con.execute(f"describe select * from {_reader([file])}").fetchall()
            except duckdb.Error as error:
                report.problems.append(f"'{file}' is not readable: {error}")
                return report
            in_file = [row[0].lower() for row in described]
            present += [name for name in in_file if name not in present]
            try:
                check_columns(file, table, in_file)
            except RawContractError as error:
                report.problems.append(str(error))
        report.extra_columns = [name for name in present if name not in {c.name for c in table.columns}]
        checked = [column for column in table.columns if column.name in present]
        event_time = event_time_column(table)
        measures = [
            "count(*)",
            f'max(try_cast("{event_time}" as timestamptz))' if event_time in present else "null",
            *(
                f'count(*) filter (where "{c.name}" is not null '
                f'and try_cast("{c.name}" as {_cast_type(c.data_type)}) is null)'
                for c in checked
            ),
        ]
        try:
            row = con.execute(f"select {', '.join(measures)} from {_reader(files)}").fetchone()
        except duckdb.Error as error:
            report.problems.append(f"'{path}' could not be read to the end: {error}")
            return report
    assert row is not None
    report.rows = int(row[0])
    report.max_event_time = row[1].replace(tzinfo=None) if row[1] is not None else None
    for column, bad in zip(checked, row[2:], strict=True):
        if bad:
            report.problems.append(
                f"'{path}' column '{column.name}': {bad} value(s) not castable to {column.data_type}"
            )
    return report
