"""KPI sanity checks beyond dbt's own tests, run on the marts after a build, on whichever target they were
built (LoyaltyWarehouse.read_frame: portable SQL)."""

from collections.abc import Sequence
from typing import Any

import pandas as pd
from dagster import AssetCheckResult, AssetChecksDefinition, AssetCheckSeverity, asset_check

from orchestration.assets.dbt import mart_key
from orchestration.resources import LoyaltyWarehouse
from orchestration.settings import Settings


def _month(value: Any) -> str:
    """A month start as YYYY-MM-DD, whichever client read it (date, datetime or pandas Timestamp)."""
    return pd.Timestamp(value).date().isoformat()


@asset_check(
    asset=mart_key("kpi_monthly"), blocking=True, additional_deps=[mart_key("member_base_flow_monthly")]
)
def kpi_monthly_agrees_with_base_flow(warehouse: LoyaltyWarehouse) -> AssetCheckResult:
    """kpi_monthly repeats the base flow's active members, CRR and churn exactly, month by month.

    (The base-flow identity and the [0, 100] bounds of shares are dbt data tests, which appear as
    asset checks of their marts.)
    """
    broken = warehouse.read_frame(
        """
        select coalesce(kpi.month_start, flow.month_start)
        from marts.kpi_monthly as kpi
        full outer join marts.member_base_flow_monthly as flow
            on kpi.month_start = flow.month_start
        where kpi.month_start is null
            or flow.month_start is null
            or kpi.active_members <> flow.end_active
            or kpi.crr_pct is distinct from flow.crr_pct
            or kpi.churn_rate_pct is distinct from flow.churn_rate_pct
        order by 1
        """
    ).iloc[:, 0]
    return AssetCheckResult(
        passed=broken.empty,
        description=f"{len(broken)} month(s) where kpi_monthly and member_base_flow_monthly disagree",
        metadata={"months": ", ".join(_month(month) for month in broken) or "none"},
    )


def build_active_members_change_check(settings: Settings) -> AssetChecksDefinition:
    """Warn (not fail) when the last complete month's active members moved by more than the configured %."""
    threshold = settings.active_change_warn_pct

    @asset_check(asset=mart_key("kpi_monthly"), name="active_members_month_over_month")
    def active_members_month_over_month(warehouse: LoyaltyWarehouse) -> AssetCheckResult:
        rows = warehouse.read_frame(
            """
            select month_start, active_members
            from marts.kpi_monthly
            where is_complete_month
            order by month_start desc
            limit 2
            """
        ).itertuples(index=False, name=None)
        months = [(_month(month), int(active)) for month, active in rows]
        if len(months) < 2 or months[1][1] == 0:
            return AssetCheckResult(passed=True, description="fewer than two complete months to compare")
        (month, active), (_, previous) = months
        change_pct = (active - previous) * 100 / previous
        return AssetCheckResult(
            passed=abs(change_pct) <= threshold,
            severity=AssetCheckSeverity.WARN,
            description=(
                f"active members {previous:,} → {active:,} in {month[:7]} ({change_pct:+.1f} %; "
                f"warning beyond ±{threshold:g} %)"
            ),
            metadata={"change_pct": change_pct, "month": month},
        )

    return active_members_month_over_month


def build_kpi_checks(settings: Settings) -> Sequence[AssetChecksDefinition]:
    """Every KPI sanity check."""
    return [kpi_monthly_agrees_with_base_flow, build_active_members_change_check(settings)]
