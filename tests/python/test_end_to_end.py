"""Generated raw data → `dbt build` → every spec mart equals the brute-force reference (reference.py).

The reference shares no SQL with the models: it recomputes the spec member by member and day by day.
Counts must match exactly, rates to 1e-9 relative.
"""

from __future__ import annotations

from datetime import date
from pathlib import Path
from typing import Any

import pandas as pd
import pytest

from tests.python.reference import compare_frames, compute_reference, load_raw
from tests.python.support import Build, BuildFn

KEYS = {
    "member_base_flow_monthly": ["month_start"],
    "member_base_flow_monthly_by_channel": ["month_start", "enrollment_channel"],
    "kpi_monthly": ["month_start"],
    "members": ["member_id"],
    "tier_distribution_monthly": ["month_start", "tier"],
    "tier_migration_monthly": ["month_start", "from_tier", "to_tier"],
    "cohort_retention_monthly": ["cohort_month", "months_since_first_purchase"],
}

SCENARIOS: dict[str, dict[str, Any]] = {
    "defaults": {},
    "as_of_mid_month_short_window_margin": {
        "as_of_date": "2024-11-13",
        "churn_window_days": 45,
        "gross_margin_pct": 35,
    },
}


def _reference_as_warehouse(raw: Path, dbt_vars: dict[str, Any]) -> dict[str, pd.DataFrame]:
    """The reference marts, aligned with two documented presentation choices of the warehouse."""
    as_of = date.fromisoformat(dbt_vars["as_of_date"]) if "as_of_date" in dbt_vars else None
    reference = compute_reference(
        raw,
        as_of_date=as_of,
        churn_window_days=dbt_vars.get("churn_window_days", 90),
        gross_margin_pct=dbt_vars.get("gross_margin_pct", 100),
    )
    by_channel = reference["member_base_flow_monthly_by_channel"]
    by_channel["enrollment_channel"] = by_channel["enrollment_channel"].fillna("unknown")  # DECISIONS.md
    members = reference["members"]
    as_of_day = load_raw(raw, as_of).as_of
    # members enrolled after A are not in the mart (DECISIONS.md "Members enrolled after A")
    reference["members"] = members[pd.to_datetime(members["enrolled_at"]).dt.date <= as_of_day]
    return reference


@pytest.fixture(scope="module", params=sorted(SCENARIOS))
def scenario(request: pytest.FixtureRequest, dbt_build: BuildFn, generated_raw: Path) -> tuple[Build, dict]:
    dbt_vars = SCENARIOS[request.param]
    # the default vars: the session's build of generated_raw (conftest), the very same `dbt build`
    build = request.getfixturevalue("built") if not dbt_vars else dbt_build(generated_raw, dbt_vars=dbt_vars)
    assert build.returncode == 0, build.output
    return build, _reference_as_warehouse(generated_raw, dbt_vars)


@pytest.mark.parametrize("mart", sorted(KEYS))
def test_mart_equals_the_reference(scenario: tuple[Build, dict], mart: str) -> None:
    build, reference = scenario
    expected = reference[mart]
    assert len(expected) > 0
    differences = compare_frames(build.table(mart), expected, KEYS[mart])
    assert not differences, f"{len(differences)} differences:\n" + "\n".join(differences[:40])


def test_generated_data_exercises_every_base_flow_path(scenario: tuple[Build, dict]) -> None:
    build, _ = scenario
    flow = build.table("member_base_flow_monthly")
    for column in ("new_active", "reactivated", "churned"):
        assert flow[column].sum() > 0, column
    kpi = build.table("kpi_monthly")
    assert kpi["clv_formula"].notna().any()
    assert kpi["non_member_aov"].notna().any()
    for column in (
        "nps", "customer_loyalty_index", "points_issued", "points_redeemed", "points_expired",
        "redemption_rate_pct", "redemption_participation_pct", "points_liability", "engagement_rate_pct",
        "referral_rate_pct", "enrollment_rate_pct", "cac", "churn_reduction_pp",
    ):  # fmt: skip
        assert kpi[column].notna().sum() >= 6, column
    migration = build.table("tier_migration_monthly")
    assert migration["upgrades"].sum() > 0 and migration["downgrades"].sum() > 0
    cross_sell = build.table("cross_sell_monthly")
    for column in ("cross_sell_order_rate_pct", "cross_sell_member_rate_pct", "upsell_rate_pct"):
        assert cross_sell[column].between(0, 100).sum() >= 6, column


def test_comment_sentiment_follows_the_comments(scenario: tuple[Build, dict]) -> None:
    """VADER scores the generator's comments: the happy ones positive, and monthly shares add up."""
    build, _ = scenario
    scored = build.table("int_survey_comment_sentiment", schema="intermediate")
    responses = build.table("stg_loyalty__survey_responses", schema="staging")
    comments = scored.merge(responses[["response_id", "comment", "recommend_score"]], on="response_id")
    assert len(comments) == responses["comment"].notna().sum()
    love = comments[comments["comment"].str.startswith("Love the rewards")]
    assert len(love) > 0 and (love["comment_sentiment"] == "positive").all()
    assert (
        comments.loc[comments["recommend_score"] >= 9, "sentiment_score"].mean()
        > comments.loc[comments["recommend_score"] <= 6, "sentiment_score"].mean()
    )
    survey = build.table("survey_monthly").dropna(subset=["positive_comment_share_pct"])
    assert len(survey) > 0
    shares = survey[["positive_comment_share_pct", "neutral_comment_share_pct", "negative_comment_share_pct"]]
    assert (shares.sum(axis=1) - 100).abs().max() < 1e-9
