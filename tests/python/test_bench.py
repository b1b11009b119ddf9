"""The benchmark's node profile (every dbt node's time and status of both builds, kept with the run), its
reuse of generated data and the settings it records."""

import csv
import json
from datetime import date
from pathlib import Path

import pytest

from loyalty_kpi.bench import (
    GENERATED_MARKER,
    SCALES,
    GeneratedDataMismatch,
    _generated_data,
    _machine,
    _slowest_nodes,
    node_timings,
    write_profile,
)


def _run_results(work_dir: Path, results: list[tuple[str, float, str]]) -> None:
    target = work_dir / "target"
    target.mkdir(parents=True)
    rows = [
        {"unique_id": node, "execution_time": seconds, "status": status} for node, seconds, status in results
    ]
    (target / "run_results.json").write_text(json.dumps({"results": rows}))


def test_the_profile_holds_every_node_of_both_builds(tmp_path: Path) -> None:
    _run_results(
        tmp_path / "full",
        [
            ("model.loyalty_kpi.base_loyalty__point_events", 433.954, "error"),
            ("model.loyalty_kpi.base_loyalty__engagement_events", 630.98, "success"),
            ("test.loyalty_kpi.not_null_x", 0.1, "skipped"),
        ],
    )
    _run_results(
        tmp_path / "incremental", [("model.loyalty_kpi.base_loyalty__point_events", 12.0, "success")]
    )
    full, incremental = node_timings(tmp_path / "full"), node_timings(tmp_path / "incremental")
    assert full["model.loyalty_kpi.base_loyalty__point_events"] == ("model", 433.95, "error")
    assert node_timings(tmp_path / "nothing") == {}
    slowest = "base_loyalty__engagement_events 631 s, base_loyalty__point_events 434 s"
    assert _slowest_nodes(full, count=2) == slowest

    profile = tmp_path / "profiles" / "run.csv"
    write_profile(profile, full, incremental)
    with profile.open() as rows:
        table = list(csv.DictReader(rows))
    assert [row["node"].split(".")[-1] for row in table] == [
        "base_loyalty__engagement_events",
        "base_loyalty__point_events",
        "not_null_x",
    ]
    assert table[1] == {
        "node": "model.loyalty_kpi.base_loyalty__point_events",
        "resource_type": "model",
        "full_s": "433.95",
        "full_status": "error",
        "incremental_s": "12.0",
        "incremental_status": "success",
    }
    assert (table[0]["incremental_s"], table[2]["resource_type"]) == ("", "test")


def test_reused_data_must_be_the_benchmarks_own(tmp_path: Path) -> None:
    """--reuse-generated keeps only data whose marker names the same parameters; otherwise a clear error."""
    end = date(2026, 10, 31)
    with pytest.raises(GeneratedDataMismatch, match="no marker file"):
        _generated_data(tmp_path, "100m", end, reuse=True)
    (tmp_path / GENERATED_MARKER).write_text(
        f"scale=10m; members={SCALES['10m']}; months=36; seed=7; end_date={end}\n"
    )
    with pytest.raises(GeneratedDataMismatch, match="scale=10m"):
        _generated_data(tmp_path, "100m", end, reuse=True)
    assert _generated_data(tmp_path, "10m", end, reuse=True) is None


def test_the_tuning_settings_are_recorded(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.delenv("LOYALTY_DUCKDB_THREADS", raising=False)
    monkeypatch.setenv("LOYALTY_DBT_THREADS", "1")
    assert _machine().endswith("GiB; LOYALTY_DBT_THREADS=1")
