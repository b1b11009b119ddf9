"""Member erasure: a member listed in the raw `erasure_requests` table is in no model, snapshot or
quarantine row after the next build — its id is replaced by an anonymous key everywhere — while every
aggregate KPI stays exactly what it was (the worked example's expected marts)."""

from __future__ import annotations

import re
import shutil
from pathlib import Path
from typing import NamedTuple

import duckdb
import pandas as pd
import pytest

from loyalty_kpi.dbt import run_dbt
from tests.python.reference import compare_frames
from tests.python.support import DATA_BUILD, WORKED_EXAMPLE, Build

ERASED = "M01"
MODEL_SCHEMAS = ("staging", "intermediate", "marts", "quarantine", "snapshots", "reference")


def _raw_with_erasure(tmp_path: Path) -> Path:
    raw = tmp_path / "raw"
    shutil.copytree(WORKED_EXAMPLE / "raw", raw)
    # a repeated request is a row of its own; an identical re-delivered row collapses
    (raw / "erasure_requests.csv").write_text(
        "member_id,requested_at\n"
        f"{ERASED},2024-05-01 09:00:00\n"
        f"{ERASED},2024-05-01 09:00:00\n"
        f" {ERASED} ,2024-05-20 09:00:00\n"
    )
    return raw


def _build(raw: Path, warehouse: Path, work_dir: Path) -> Build:
    result = run_dbt(DATA_BUILD, raw_dir=raw, duckdb_path=warehouse, work_dir=work_dir)
    return Build(warehouse, result.returncode, result.stdout + result.stderr)


class Erasure(NamedTuple):
    members_before: pd.DataFrame
    snapshot_before: pd.DataFrame
    after: Build


@pytest.fixture(scope="module")
def erasure(tmp_path_factory: pytest.TempPathFactory, worked_example_built: Build) -> Erasure:
    """The worked example built once as delivered (a copy of the session's build, conftest), then again
    into the same warehouse (its snapshot has the member's history by then) with erasure requests for
    M01."""
    work = tmp_path_factory.mktemp("erasure")
    warehouse = work / "warehouse.duckdb"
    shutil.copyfile(worked_example_built.warehouse, warehouse)
    members_before = worked_example_built.table("members")
    snapshot_before = worked_example_built.table("members_snapshot", schema="snapshots")
    after = _build(_raw_with_erasure(work), warehouse, work / "after")
    assert after.returncode == 0, after.output
    return Erasure(members_before, snapshot_before, after)


def _rows_naming(warehouse: Path, member_id: str) -> list[str]:
    """Every (schema.table.column) of the models whose text holds member_id as a whole word."""
    pattern = re.compile(rf"\b{re.escape(member_id)}\b")
    found = []
    with duckdb.connect(str(warehouse), read_only=True) as con:
        tables = con.execute(
            "select table_schema, table_name from information_schema.tables where table_schema in "
            f"({', '.join(repr(schema) for schema in MODEL_SCHEMAS)})"
        ).fetchall()
        assert len(tables) > 40
        for schema, table in tables:
            frame = con.execute(f'select * from "{schema}"."{table}"').df()
            for column in frame.columns:
                values = frame[column].dropna().astype(str)
                if values.map(lambda value: bool(pattern.search(value))).any():
                    found.append(f"{schema}.{table}.{column}")
    return found


def test_the_member_is_there_before_the_request(erasure: Erasure) -> None:
    assert ERASED in set(erasure.members_before["member_id"])
    assert ERASED in set(erasure.snapshot_before["member_id"])


def test_no_model_names_the_erased_member(erasure: Erasure) -> None:
    after = erasure.after
    assert _rows_naming(after.warehouse, ERASED) == []


def test_the_member_keeps_counting_under_an_anonymous_key(
    erasure: Erasure,
) -> None:
    after, snapshot_before = erasure.after, erasure.snapshot_before
    members = after.table("members")
    erased = members[members["member_id"].str.startswith("erased-")]
    assert len(erased) == 1 and len(members) == len(snapshot_before)
    expected = pd.read_csv(WORKED_EXAMPLE / "expected" / "members.csv", dtype=str, keep_default_na=False)
    expected.loc[expected["member_id"] == ERASED, "member_id"] = erased["member_id"].iloc[0]
    assert not compare_frames(members, expected, ["member_id"])
    # the snapshot's history moved to the anonymous key: no new spell at the request
    snapshot = after.table("members_snapshot", schema="snapshots")
    assert len(snapshot) == len(snapshot_before)
    assert (snapshot["member_id"] == erased["member_id"].iloc[0]).sum() == 1


@pytest.mark.parametrize(
    ("mart", "keys"),
    [
        ("member_base_flow_monthly", ["month_start"]),
        ("kpi_monthly", ["month_start"]),
        ("cohort_retention_monthly", ["cohort_month", "months_since_first_purchase"]),
    ],
)
def test_no_aggregate_moves(erasure: Erasure, mart: str, keys: list[str]) -> None:
    after = erasure.after
    expected = pd.read_csv(WORKED_EXAMPLE / "expected" / f"{mart}.csv", dtype=str, keep_default_na=False)
    assert not compare_frames(after.table(mart), expected, keys)


def test_the_requests_are_accounted_for(erasure: Erasure) -> None:
    after = erasure.after
    requests = after.table("raw_reconciliation").set_index("raw_table").loc["erasure_requests"]
    assert (requests.raw_rows, requests.valid_rows, requests.duplicate_rows) == (3, 2, 1)
