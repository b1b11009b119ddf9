"""Publish the marts for BI readers: a DuckDB file of their own plus one Parquet file per mart, built
aside and swapped in atomically, so that a reader never sees a half-built warehouse nor meets the
builder's write lock.

Layout of the publish directory (LOYALTY_PUBLISH_DIR):

    loyalty_marts.duckdb        every mart as a table in schema `marts`, plus marts.publish_metadata
    parquet -> parquet.<build>  a symlink to the latest build's Parquet directory, one file per mart

The DuckDB file is written in an older storage format (`storage_version()`, default v1.0.0) so that the BI
tools' own DuckDB, often older than ours (Metabase's driver, duckdb-engine, the CLI), can open it: left to
itself DuckDB 2 writes a format no 1.x release reads.

On DuckDB the marts are copied from the warehouse file (:func:`publish`); on PostgreSQL and Spark they are
read into frames first and published from those (:func:`publish_frames`): the same files either way.
"""

from __future__ import annotations

import os
import shutil
import uuid
from collections.abc import Mapping
from dataclasses import dataclass
from datetime import UTC, datetime
from pathlib import Path

import duckdb
import pandas as pd

PUBLISHED_FILE = "loyalty_marts.duckdb"
PARQUET_LINK = "parquet"
MARTS_SCHEMA = "marts"
METADATA_TABLE = "publish_metadata"
KEEP_PARQUET_BUILDS = 2
# The oldest DuckDB storage format that holds the marts' types: readable by every DuckDB since 1.0.
DEFAULT_STORAGE_VERSION = "v1.0.0"
STORAGE_VERSION_ENV = "LOYALTY_PUBLISH_STORAGE_VERSION"


@dataclass(frozen=True)
class Publication:
    """What one publish wrote."""

    build_id: str
    published_at: datetime
    duckdb_file: Path
    parquet_dir: Path
    row_counts: dict[str, int]


def _quote(value: Path | str) -> str:
    return "'" + str(value).replace("'", "''") + "'"


def _identifier(name: str) -> str:
    return '"' + name.replace('"', '""') + '"'


def storage_version() -> str:
    """The DuckDB storage version of the published file: LOYALTY_PUBLISH_STORAGE_VERSION, else v1.0.0."""
    return os.environ.get(STORAGE_VERSION_ENV) or DEFAULT_STORAGE_VERSION


def publish(warehouse: Path, target_dir: Path, *, duckdb_storage_version: str | None = None) -> Publication:
    """Copy every mart of the DuckDB file `warehouse` into target_dir and swap the copy in atomically.

    The DuckDB file is written with `duckdb_storage_version` (default: `storage_version()`), e.g. 'v1.0.0',
    the oldest DuckDB release that must read it.

    The DuckDB file is written beside its final name and renamed over it (a reader that has the old file
    open keeps reading the old, complete snapshot); the Parquet files go to a new directory and the
    `parquet` symlink is replaced to point at it.
    """
    with duckdb.connect() as con:
        con.execute(f"attach {_quote(warehouse)} as source (read_only)")
        return _publish_source(con, target_dir, str(warehouse), duckdb_storage_version)


def publish_frames(
    marts: Mapping[str, pd.DataFrame],
    target_dir: Path,
    *,
    source: str = "frames",
    duckdb_storage_version: str | None = None,
) -> Publication:
    """Publish marts given as frames (read from another engine's `marts` schema: PostgreSQL, Spark) exactly
    as :func:`publish` publishes a DuckDB warehouse's: the same files, metadata table and atomic swap.

    The frames fill an in-memory DuckDB database standing in for the warehouse (column types as DuckDB
    infers them from the frames); `source` names the warehouse in the error when there is no mart.
    """
    with duckdb.connect() as con:
        con.execute("set TimeZone = 'UTC'")
        con.execute("attach ':memory:' as source")
        con.execute(f"create schema source.{MARTS_SCHEMA}")
        for mart, frame in sorted(marts.items()):
            if mart == METADATA_TABLE:
                continue
            con.register("mart_frame", frame)
            con.execute(f"create table source.{MARTS_SCHEMA}.{_identifier(mart)} as select * from mart_frame")
            con.unregister("mart_frame")
        return _publish_source(con, target_dir, source, duckdb_storage_version)


def _publish_source(
    con: duckdb.DuckDBPyConnection, target_dir: Path, source_name: str, duckdb_storage_version: str | None
) -> Publication:
    """Copy every table of schema `marts` of the database attached to `con` as `source`, then swap."""
    tables = [
        row[0]
        for row in con.execute(
            """
            select table_name from duckdb_tables()
            where database_name = 'source' and schema_name = ? and table_name <> ?
            order by table_name
            """,
            [MARTS_SCHEMA, METADATA_TABLE],
        ).fetchall()
    ]
    if not tables:
        raise RuntimeError(f"No mart in schema '{MARTS_SCHEMA}' of {source_name}: build the project first.")
    target_dir.mkdir(parents=True, exist_ok=True)
    published_at = datetime.now(UTC)
    build_id = f"{published_at:%Y%m%dT%H%M%S}Z-{uuid.uuid4().hex[:8]}"
    staging_file = target_dir / f".staging-{build_id}.duckdb"
    parquet_dir = target_dir / f"{PARQUET_LINK}.{build_id}"
    parquet_dir.mkdir()
    row_counts: dict[str, int] = {}
    version = duckdb_storage_version or storage_version()
    con.execute(f"attach {_quote(staging_file)} as published (storage_version {_quote(version)})")
    con.execute(f"create schema published.{MARTS_SCHEMA}")
    for table in tables:
        source = f"source.{MARTS_SCHEMA}.{_identifier(table)}"
        con.execute(f"create table published.{MARTS_SCHEMA}.{_identifier(table)} as select * from {source}")
        con.execute(f"copy {source} to {_quote(parquet_dir / f'{table}.parquet')} (format parquet)")
        count = con.execute(f"select count(*) from {source}").fetchone()
        row_counts[table] = int(count[0]) if count else 0
    con.execute(
        f"""
        create table published.{MARTS_SCHEMA}.{METADATA_TABLE} as
        select ? as build_id, cast(? as timestamp) as published_at, mart, rows
        from (values {", ".join("(?, ?)" for _ in row_counts)}) as counts(mart, rows)
        """,
        [build_id, published_at.replace(tzinfo=None), *(v for item in row_counts.items() for v in item)],
    )
    con.execute("checkpoint published")
    con.execute("detach published")
    con.execute("detach source")
    os.replace(staging_file, target_dir / PUBLISHED_FILE)
    link = target_dir / f".{PARQUET_LINK}-{build_id}.link"
    link.symlink_to(parquet_dir.name)
    os.replace(link, target_dir / PARQUET_LINK)
    _remove_old_parquet_builds(target_dir)
    return Publication(build_id, published_at, target_dir / PUBLISHED_FILE, parquet_dir, row_counts)


def _remove_old_parquet_builds(target_dir: Path) -> None:
    """Keep the newest Parquet builds (a reader may still be in the previous one)."""
    builds = sorted(target_dir.glob(f"{PARQUET_LINK}.*"), key=lambda path: path.name)
    current = (target_dir / PARQUET_LINK).resolve()
    for old in builds[:-KEEP_PARQUET_BUILDS]:
        if old.resolve() != current:
            shutil.rmtree(old, ignore_errors=True)
