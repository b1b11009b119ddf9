"""The raw contract as Python: the tables and columns of the `loyalty` source YAML, and its file rules.

The sources YAML (``models/staging/loyalty/_loyalty__sources.yml``) is the one machine-readable form of
the contract; the DuckDB and Spark on-run-start macros read it through dbt's graph, the PostgreSQL
loader through this module. Messages are worded as the macros word them.
"""

from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path

import yaml

from loyalty_kpi.paths import PROJECT_DIR

SOURCES_YML = PROJECT_DIR / "models" / "staging" / "loyalty" / "_loyalty__sources.yml"
SOURCE_NAME = "loyalty"


class RawContractError(Exception):
    """A raw file or column the contract requires is missing."""


@dataclass(frozen=True)
class RawColumn:
    """A column of a raw table: its contract type and whether the file may lack it."""

    name: str
    data_type: str
    optional: bool


@dataclass(frozen=True)
class RawTable:
    """A table of the raw contract."""

    name: str
    required: bool
    columns: tuple[RawColumn, ...]


def raw_contract(sources_yml: Path = SOURCES_YML) -> tuple[RawTable, ...]:
    """The tables of the `loyalty` source, in name order (as the macros create them)."""
    document = yaml.safe_load(sources_yml.read_text())
    (source,) = (s for s in document["sources"] if s["name"] == SOURCE_NAME)
    tables = (
        RawTable(
            name=table["name"],
            required=bool(table.get("meta", {}).get("required", False)),
            columns=tuple(
                RawColumn(
                    name=column["name"],
                    data_type=column["data_type"],
                    optional=bool(column.get("meta", {}).get("optional", False)),
                )
                for column in table["columns"]
            ),
        )
        for table in source["tables"]
    )
    return tuple(sorted(tables, key=lambda table: table.name))


DELIVERY_COLUMN = "_delivery"


def find_raw_files(raw_dir: Path, table: RawTable) -> list[Path]:
    """The files of a raw table, each one delivery: ``<table>.parquet``, else ``<table>.csv``, else the
    ``*.parquet`` files of the directory ``<table>/``, else its ``*.csv`` files (sorted); [] when none.

    A missing required table raises RawContractError with the message of the DuckDB hook.
    """
    for extension in ("parquet", "csv"):
        path = raw_dir / f"{table.name}.{extension}"
        if path.is_file():
            return [path]
    directory = raw_dir / table.name
    for extension in ("parquet", "csv"):
        files = (
            sorted(p for p in directory.glob(f"*.{extension}") if p.is_file()) if directory.is_dir() else []
        )
        if files:
            return files
    if table.required:
        raise RawContractError(
            f"Required raw file missing: no {table.name}.parquet or {table.name}.csv in '{raw_dir}' "
            f"(LOYALTY_RAW_DIR), nor a directory {table.name}/ of such files. The project cannot build "
            "without it; see README.md, section 'Raw data contract', for its columns."
        )
    return []


def find_raw_file(raw_dir: Path, table: RawTable) -> Path | None:
    """The table's one file, or its directory when it is delivered as several; None when absent."""
    files = find_raw_files(raw_dir, table)
    if not files:
        return None
    return files[0] if len(files) == 1 and files[0].parent == raw_dir else raw_dir / table.name


def delivery_name(raw_dir: Path, path: Path) -> str:
    """A delivery's name: its file's path relative to raw_dir (``transactions/2024-06-01.parquet``)."""
    return path.relative_to(raw_dir).as_posix()


def missing_optional_file_warning(raw_dir: Path, table: RawTable) -> str:
    """The warning for an absent optional table."""
    return (
        f"Optional raw file {table.name} not found in '{raw_dir}': read as an empty table, "
        "the KPIs that need it are null."
    )


def check_columns(path: Path, table: RawTable, present: list[str]) -> None:
    """Raise RawContractError for the first required column the file lacks (names compared lower case)."""
    found = [name.lower() for name in present]
    for column in table.columns:
        if column.name not in found and not column.optional:
            raise RawContractError(
                f"Raw file '{path}' has no column '{column.name}', which the raw contract requires "
                f"(columns found: {', '.join(found)}). See README.md, section 'Raw data contract'."
            )
