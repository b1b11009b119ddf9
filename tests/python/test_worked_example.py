"""The spec's worked example (../shared/kpi-example, copied to tests/fixtures) through `dbt build`."""

from __future__ import annotations

import pandas as pd
import pytest

from tests.python.reference import compare_frames
from tests.python.support import WORKED_EXAMPLE, Build

KEYS = {
    "member_base_flow_monthly": ["month_start"],
    "kpi_monthly": ["month_start"],
    "members": ["member_id"],
    "cohort_retention_monthly": ["cohort_month", "months_since_first_purchase"],
}


@pytest.fixture(scope="module")
def example_build(worked_example_built: Build) -> Build:
    """`dbt build` on the worked example (conftest: once per test run, shared with other modules)."""
    return worked_example_built


@pytest.mark.parametrize("mart", sorted(KEYS))
def test_marts_equal_the_expected_tables(example_build: Build, mart: str) -> None:
    expected = pd.read_csv(WORKED_EXAMPLE / "expected" / f"{mart}.csv", dtype=str, keep_default_na=False)
    differences = compare_frames(example_build.table(mart), expected, KEYS[mart])
    assert not differences, "\n".join(differences)


def test_absent_optional_tables_are_reported_and_the_build_passes(example_build: Build) -> None:
    for table in ("tier_changes", "point_events", "survey_responses"):
        assert f"Optional raw file {table} not found" in example_build.output


def test_kpis_of_absent_optional_tables_are_null(example_build: Build) -> None:
    """The worked example has members and transactions only: every KPI of an optional table is null."""
    kpi = example_build.table("kpi_monthly")
    for column in (
        "nps", "customer_loyalty_index", "points_issued", "points_redeemed", "points_expired",
        "redemption_rate_pct", "redemption_participation_pct", "points_liability", "engagement_rate_pct",
        "referral_rate_pct", "enrollment_rate_pct", "cac",
    ):  # fmt: skip
        assert kpi[column].isna().all(), column
    assert (
        example_build.table("points_monthly")
        .drop(columns=["month_start", "is_complete_month"])
        .isna()
        .all()
        .all()
    )
    assert example_build.table("survey_monthly")["responses"].isna().all()
    assert example_build.table("cross_sell_monthly")["orders_with_lines"].isna().all()
    assert example_build.table("engagement_monthly").empty
    acquisition = example_build.table("acquisition_monthly")
    assert acquisition["marketing_spend"].isna().all() and acquisition["cac"].isna().all()
    assert acquisition["new_enrollments"].sum() == kpi["new_enrollments"].sum() > 0
    # no tier_changes: the tier history is the snapshot's, which has seen one version of each member
    assert example_build.table("int_member_tier_changes", schema="intermediate").empty
    assert example_build.table("tier_migration_monthly")["members"].sum() == 0
    long = example_build.table("kpi_monthly_long")
    assert len(long) == len(kpi) * (len(kpi.columns) - 2)
