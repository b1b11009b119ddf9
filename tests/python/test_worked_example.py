"""The spec's worked example (../shared/kpi-example, copied to tests/fixtures) through `dbt build`."""

from __future__ import annotations

import pandas as pd
import pytest

from tests.python.reference import compare_frames
from tests.python.support import WORKED_EXAMPLE, Build, BuildFn

KEYS = {
    "member_base_flow_monthly": ["month_start"],
    "kpi_monthly": ["month_start"],
    "members": ["member_id"],
    "cohort_retention_monthly": ["cohort_month", "months_since_first_purchase"],
}


@pytest.fixture(scope="module")
def example_build(dbt_build: BuildFn) -> Build:
    build = dbt_build(WORKED_EXAMPLE / "raw")
    assert build.returncode == 0, build.output
    return build


@pytest.mark.parametrize("mart", sorted(KEYS))
def test_marts_equal_the_expected_tables(example_build: Build, mart: str) -> None:
    expected = pd.read_csv(WORKED_EXAMPLE / "expected" / f"{mart}.csv", dtype=str, keep_default_na=False)
    differences = compare_frames(example_build.table(mart), expected, KEYS[mart])
    assert not differences, "\n".join(differences)


def test_absent_optional_tables_are_reported_and_the_build_passes(example_build: Build) -> None:
    for table in ("tier_changes", "point_events", "survey_responses"):
        assert f"Optional raw file {table} not found" in example_build.output
