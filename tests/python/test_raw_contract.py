"""The raw contract at the door: clear errors for missing required inputs, warnings for optional ones."""

from __future__ import annotations

import shutil
from pathlib import Path

import pandas as pd
import pytest

from tests.python.support import WORKED_EXAMPLE, BuildFn


def _copy_example(tmp_path: Path) -> Path:
    raw = tmp_path / "raw"
    shutil.copytree(WORKED_EXAMPLE / "raw", raw)
    return raw


def test_missing_required_file_stops_the_build_naming_file_directory_and_readme(
    dbt_build: BuildFn, tmp_path: Path
) -> None:
    raw = _copy_example(tmp_path)
    (raw / "transactions.csv").unlink()
    build = dbt_build(raw, args=("run", "--select", "stg_loyalty__members"))
    assert build.returncode != 0
    assert "Required raw file missing: no transactions.parquet or transactions.csv" in build.output
    assert str(raw) in build.output
    assert "section 'Raw data contract'" in build.output
    assert "Traceback" not in build.output


def test_missing_required_column_names_the_file_and_the_column(dbt_build: BuildFn, tmp_path: Path) -> None:
    raw = _copy_example(tmp_path)
    members = pd.read_csv(raw / "members.csv", dtype=str).rename(columns={"enrolled_at": "joined_at"})
    members.to_csv(raw / "members.csv", index=False)
    build = dbt_build(raw, args=("run", "--select", "stg_loyalty__members"))
    assert build.returncode != 0
    assert f"Raw file '{raw}/members.csv' has no column 'enrolled_at'" in build.output


def test_optional_column_may_be_absent(dbt_build: BuildFn, tmp_path: Path) -> None:
    raw = _copy_example(tmp_path)
    members = pd.read_csv(raw / "members.csv", dtype=str).drop(columns=["email", "referred_by_member_id"])
    members.to_csv(raw / "members.csv", index=False)
    build = dbt_build(raw)
    assert build.returncode == 0, build.output
    assert len(build.table("members")) == 12


def test_parquet_wins_over_csv_and_reads_the_same(dbt_build: BuildFn, tmp_path: Path) -> None:
    raw = _copy_example(tmp_path)
    transactions = pd.read_csv(raw / "transactions.csv", dtype=str, keep_default_na=False)
    transactions["amount"] = transactions["amount"].astype(float)
    transactions.to_parquet(raw / "transactions.parquet", index=False)
    (raw / "transactions.csv").write_text("transaction_id\n")  # would fail if it were read
    build = dbt_build(raw)
    assert build.returncode == 0, build.output
    kpi = build.table("kpi_monthly").set_index("month_start")
    assert kpi["member_orders"].sum() == 18


def _empty_members(raw: Path) -> Path:
    (raw / "members.csv").write_text("")
    return raw / "members.csv"


def _latin1_members(raw: Path) -> Path:
    text = (raw / "members.csv").read_text().replace("M01,", "M\u00e901,", 1)
    (raw / "members.csv").write_bytes(text.encode("latin-1"))
    return raw / "members.csv"


def _truncated_transactions(raw: Path) -> Path:
    transactions = pd.read_csv(raw / "transactions.csv", dtype=str, keep_default_na=False)
    (raw / "transactions.csv").unlink()
    path = raw / "transactions.parquet"
    transactions.to_parquet(path, index=False)
    path.write_bytes(path.read_bytes()[: path.stat().st_size // 2])
    return path


@pytest.mark.parametrize("damage", [_empty_members, _latin1_members, _truncated_transactions])
def test_an_unreadable_file_stops_the_run_naming_the_file(dbt_build: BuildFn, tmp_path: Path, damage) -> None:
    raw = _copy_example(tmp_path)
    path = damage(raw)
    build = dbt_build(raw, args=("run", "--select", "stg_loyalty__members"))
    assert build.returncode != 0
    assert str(path) in build.output
    assert "Traceback" not in build.output


def test_a_semicolon_delimited_csv_is_read(dbt_build: BuildFn, tmp_path: Path) -> None:
    raw = _copy_example(tmp_path)
    members = pd.read_csv(raw / "members.csv", dtype=str, keep_default_na=False)
    members.to_csv(raw / "members.csv", index=False, sep=";")
    build = dbt_build(
        raw, args=("build", "--select", "+stg_loyalty__members", "--indirect-selection", "cautious")
    )
    assert build.returncode == 0, build.output


def test_a_table_is_a_file_or_a_directory_of_deliveries(tmp_path: Path) -> None:
    """docs/raw_contract.md "Deliveries": a file wins over a directory, Parquet over CSV; a directory's
    files are its deliveries, named by their path relative to the raw directory."""
    from loyalty_kpi.raw_contract import delivery_name, find_raw_file, find_raw_files, raw_contract

    tables = {table.name: table for table in raw_contract()}
    raw = _copy_example(tmp_path)
    (raw / "point_events").mkdir()
    for name in ("2024-06-02.csv", "2024-06-01.csv", "notes.txt"):
        (raw / "point_events" / name).write_text("point_event_id\n")
    files = find_raw_files(raw, tables["point_events"])
    assert [delivery_name(raw, path) for path in files] == [
        "point_events/2024-06-01.csv",
        "point_events/2024-06-02.csv",
    ]
    assert find_raw_file(raw, tables["point_events"]) == raw / "point_events"
    (raw / "point_events.csv").write_text("point_event_id\n")
    assert find_raw_files(raw, tables["point_events"]) == [raw / "point_events.csv"]
    assert [delivery_name(raw, p) for p in find_raw_files(raw, tables["members"])] == ["members.csv"]
    assert find_raw_files(raw, tables["survey_responses"]) == []
