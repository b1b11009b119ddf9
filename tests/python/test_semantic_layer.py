"""The semantic layer (models/marts/_marts__semantic_models.yml) through MetricFlow's own CLI, `mf`.

`mf` reads `<project>/target/semantic_manifest.json` and the profile of the project it runs in. Each test
build keeps its target/ apart (conftest), so `mf` runs in a small project directory of its own: the
project's dbt_project.yml and profiles.yml, and the build's semantic manifest, pointed at the build's
warehouse. The metrics must equal the marts they are defined over, month by month, including the
incomplete month that holds the as-of date and the nulls where S = 0.
"""

from __future__ import annotations

import csv
import math
import os
import shutil
import subprocess
import sys
from collections.abc import Mapping
from pathlib import Path
from typing import Any

import pandas as pd
import pytest
import yaml

from loyalty_kpi.paths import PROJECT_DIR
from loyalty_kpi.publish import publish
from tests.python.support import Build

SEMANTIC_YAML = PROJECT_DIR / "models" / "marts" / "_marts__semantic_models.yml"
KPI_DEFINITIONS = PROJECT_DIR / "seeds" / "kpi_definitions.csv"

# metric -> the kpi_monthly column it must equal
KPI_MONTHLY_METRICS = {
    "crr_pct": "crr_pct",
    "churn_rate_pct": "churn_rate_pct",
    "churn_reduction_pp": "churn_reduction_pp",
    "active_members": "active_members",
    "enrolled_members": "enrolled_members",
    "active_rate_pct": "active_rate_pct",
    "member_orders": "member_orders",
    "member_net_revenue": "member_net_revenue",
    "aov": "aov",
    "new_enrollments": "new_enrollments",
    "cancellations": "cancellations",
    "enrollment_rate_pct": "enrollment_rate_pct",
    "cac": "cac",
    "nps": "nps",
    "points_issued": "points_issued",
    "redemption_rate_pct": "redemption_rate_pct",
    "points_liability": "points_liability",
}
# metric -> the member_base_flow_monthly column it must equal
BASE_FLOW_METRICS = {
    "start_active_members": "start_active",
    "new_active_members": "new_active",
    "reactivated_members": "reactivated",
    "churned_members": "churned",
    "reactivation_rate_pct": "reactivation_rate_pct",
}


def mf_executable() -> str:
    return str(Path(sys.executable).with_name("mf"))


def run_mf(project: Path, warehouse: Path, *args: str) -> subprocess.CompletedProcess[str]:
    env = {
        **os.environ,
        "LOYALTY_DUCKDB_PATH": str(warehouse),
        "LOYALTY_DBT_TARGET": "duckdb",
        "DBT_SEND_ANONYMOUS_USAGE_STATS": "false",
        "DBT_PROFILES_DIR": str(project),
        "DBT_PROJECT_DIR": str(project),
    }
    return subprocess.run(
        [mf_executable(), *args], cwd=project, env=env, text=True, capture_output=True, check=False
    )


@pytest.fixture(scope="module")
def mf_project(built: Build, tmp_path_factory: pytest.TempPathFactory) -> Path:
    project = tmp_path_factory.mktemp("mf_project")
    for name in ("dbt_project.yml", "profiles.yml"):
        shutil.copy(PROJECT_DIR / name, project / name)
    (project / "target").mkdir()
    manifest = built.warehouse.parent / "target" / "semantic_manifest.json"
    assert manifest.is_file(), "dbt build wrote no semantic manifest"
    shutil.copy(manifest, project / "target" / "semantic_manifest.json")
    return project


def mf_query(
    mf_project: Path, built: Build, metrics: list[str], by: str = "", where: str | None = None
) -> pd.DataFrame:
    """`mf query --metrics … --group-by metric_time__month[,by]` as a DataFrame with a month_start column."""
    out = mf_project / f"query-{len(list(mf_project.glob('query-*.csv')))}.csv"
    group_by = ",".join(["metric_time__month", *([by] if by else [])])
    args = ["query", "--metrics", ",".join(metrics), "--group-by", group_by, "--csv", str(out)]
    done = run_mf(mf_project, built.warehouse, *args, *(["--where", where] if where else []))
    assert done.returncode == 0 and out.is_file(), done.stdout[-3000:] + done.stderr[-3000:]
    return read_query_csv(out, metrics)


def read_query_csv(out: Path, metrics: list[str]) -> pd.DataFrame:
    with out.open(newline="") as handle:
        rows = list(csv.DictReader(handle))
    frame = pd.DataFrame(rows)
    frame["month_start"] = pd.to_datetime(frame.pop("metric_time__month"))
    for metric in metrics:
        frame[metric] = pd.to_numeric(frame[metric].replace("", None), errors="raise")
    return frame.sort_values("month_start").reset_index(drop=True)


def mart(built: Build, name: str) -> pd.DataFrame:
    """A mart with month_start as a timestamp, like the query results."""
    table = built.table(name)
    table["month_start"] = pd.to_datetime(table["month_start"])
    return table


def assert_same_values(actual: pd.Series, expected: pd.Series, name: str) -> None:
    """Null exactly where the mart is null; otherwise equal to 1e-9 relative."""
    for month, got, want in zip(expected.index, actual.astype(float), expected.astype(float), strict=True):
        if math.isnan(want):
            assert math.isnan(got), f"{name} {month}: {got} where the mart has null"
        else:
            assert math.isclose(got, want, rel_tol=1e-9, abs_tol=1e-9), f"{name} {month}: {got} != {want}"


def semantic_yaml() -> dict[str, Any]:
    loaded: dict[str, Any] = yaml.safe_load(SEMANTIC_YAML.read_text())
    return loaded


def test_mf_validate_configs_passes_against_the_built_warehouse(mf_project: Path, built: Build) -> None:
    done = run_mf(mf_project, built.warehouse, "validate-configs")
    output = done.stdout + done.stderr
    assert done.returncode == 0, output[-4000:]
    assert "Successfully validated metrics against data warehouse" in output, output[-4000:]


def test_metrics_by_month_equal_the_marts(mf_project: Path, built: Build) -> None:
    metrics = sorted({*KPI_MONTHLY_METRICS, *BASE_FLOW_METRICS})
    result = mf_query(mf_project, built, metrics).set_index("month_start")
    kpi = mart(built, "kpi_monthly").set_index("month_start").sort_index()
    flow = mart(built, "member_base_flow_monthly").set_index("month_start").sort_index()
    assert list(result.index) == list(kpi.index), "MetricFlow's months differ from kpi_monthly's"
    # the cases that matter are in the data: the incomplete month of A, and S = 0 (rates null)
    assert not kpi["is_complete_month"].iloc[-1]
    assert (flow["start_active"] == 0).any() and kpi["crr_pct"].isna().any()
    for metric, column in KPI_MONTHLY_METRICS.items():
        assert_same_values(result[metric], kpi[column], metric)
    for metric, column in BASE_FLOW_METRICS.items():
        assert_same_values(result[metric], flow[column], metric)
    # CRR is derived from S, E, N: the identity with churn and reactivation holds where S > 0
    known = flow["start_active"] > 0
    identity = result["crr_pct"] - (100 - result["churn_rate_pct"] + result["reactivation_rate_pct"])
    assert (identity[known].abs() < 1e-9).all()


def test_complete_months_filter_drops_the_month_of_a(mf_project: Path, built: Build) -> None:
    where = "{{ Dimension('base_flow__is_complete_month') }}"
    result = mf_query(mf_project, built, ["crr_pct", "churn_rate_pct"], where=where)
    flow = mart(built, "member_base_flow_monthly")
    complete = flow[flow["is_complete_month"]].set_index("month_start").sort_index()
    assert list(result["month_start"]) == list(complete.index)
    assert_same_values(result.set_index("month_start")["crr_pct"], complete["crr_pct"], "crr_pct")


def test_metrics_by_channel_and_tier_equal_their_marts(mf_project: Path, built: Build) -> None:
    by_channel = mf_query(mf_project, built, ["new_enrollments", "cac"], by="acquisition__enrollment_channel")
    acquisition = mart(built, "acquisition_monthly")
    merged = acquisition.merge(
        by_channel.rename(columns={"acquisition__enrollment_channel": "enrollment_channel"}),
        on=["month_start", "enrollment_channel"],
        suffixes=("", "_mf"),
    )
    assert len(merged) == len(acquisition) > 0
    assert_same_values(merged["new_enrollments_mf"], merged["new_enrollments"], "new_enrollments")
    assert_same_values(merged["cac_mf"], merged["cac"], "cac")

    by_tier = mf_query(mf_project, built, ["tier_members"], by="tier_distribution__tier")
    tiers = mart(built, "tier_distribution_monthly")
    merged = tiers.merge(
        by_tier.rename(columns={"tier_distribution__tier": "tier"}), on=["month_start", "tier"], how="left"
    )
    assert len(merged) == len(tiers) > 0
    assert_same_values(merged["tier_members"], merged["members"], "tier_members")


def _definitions() -> Mapping[str, Mapping[str, str]]:
    with KPI_DEFINITIONS.open(newline="", encoding="utf-8") as handle:
        return {row["name"]: row for row in csv.DictReader(handle)}


def test_metric_labels_follow_the_kpi_catalogue() -> None:
    """A metric named like a kpi_monthly KPI carries the kpi_definitions seed's label and definition; every
    metric is described, and the headline KPIs are there (CRR derived from the base-flow measures)."""
    definitions = _definitions()
    metrics = {metric["name"]: metric for metric in semantic_yaml()["metrics"]}
    for name, metric in metrics.items():
        assert metric.get("label") and metric.get("description"), name
        if name in definitions:
            assert metric["label"] == definitions[name]["label"], name
            assert metric["description"].startswith(definitions[name]["definition"].rstrip(".")), name
    for kpi in ("crr_pct", "churn_rate_pct", "active_members", "aov", "nps", "active_rate_pct", "cac"):
        assert kpi in metrics and kpi in definitions, kpi
    crr = metrics["crr_pct"]
    assert crr["type"] == "derived"
    inputs = {"start_active_members", "active_members", "new_active_members"}
    assert set(crr["type_params"]["metrics"]) == inputs


def test_make_metrics_queries_the_published_marts_read_only(built: Build, tmp_path: Path) -> None:
    """`make metrics` parses for the `published` target and queries the published file, opened read only."""
    published = tmp_path / "published"
    publish(built.warehouse, published)
    out = tmp_path / "metrics.csv"
    env = {**os.environ, "LOYALTY_PUBLISH_DIR": str(published), "DBT_SEND_ANONYMOUS_USAGE_STATS": "false"}
    command = ["make", "--no-print-directory", "-o", ".venv/bin/.installed", "metrics"]  # -o: no reinstall
    variables = ["METRICS=crr_pct,churn_rate_pct,active_members", f"MF_QUERY_ARGS=--csv {out}"]
    done = subprocess.run(
        [*command, *variables], cwd=PROJECT_DIR, env=env, text=True, capture_output=True, check=False
    )
    assert done.returncode == 0, done.stdout[-3000:] + done.stderr[-3000:]
    result = read_query_csv(out, ["crr_pct", "churn_rate_pct", "active_members"]).set_index("month_start")
    kpi = mart(built, "kpi_monthly").set_index("month_start").sort_index()
    assert list(result.index) == list(kpi.index)
    for metric in ("crr_pct", "churn_rate_pct", "active_members"):
        assert_same_values(result[metric], kpi[metric], metric)
