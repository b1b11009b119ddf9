"""Headline KPIs of the last complete month, and the CRR/churn trend, as Dagster metadata."""

from typing import Any

import duckdb
from dagster import MetadataValue

HEADLINE_COLUMNS = ("crr_pct", "churn_rate_pct", "active_members", "aov", "clv_formula")


def _months(con: duckdb.DuckDBPyConnection) -> list[dict[str, Any]]:
    cursor = con.execute(
        f"""
        select month_start, {", ".join(HEADLINE_COLUMNS)}
        from marts.kpi_monthly
        where is_complete_month
        order by month_start
        """
    )
    names = [column[0] for column in cursor.description]
    return [dict(zip(names, row, strict=True)) for row in cursor.fetchall()]


def _number(value: Any) -> float | None:
    return None if value is None else float(value)


def _trend_markdown(months: list[dict[str, Any]]) -> str:
    lines = [
        "| month | CRR % | churn % | active members |",
        "|---|---:|---:|---:|",
    ]
    for month in months[-24:]:
        crr, churn = _number(month["crr_pct"]), _number(month["churn_rate_pct"])
        lines.append(
            f"| {str(month['month_start'])[:7]} | {'—' if crr is None else f'{crr:.1f}'} | "
            f"{'—' if churn is None else f'{churn:.1f}'} | {month['active_members']:,} |"
        )
    return "\n".join(lines)


def headline_metadata(con: duckdb.DuckDBPyConnection) -> dict[str, Any]:
    """Last complete month's CRR, churn, active members, AOV and formula CLV, plus the trend table."""
    months = _months(con)
    if not months:
        return {"headline_month": "no complete month yet"}
    last = months[-1]
    metadata: dict[str, Any] = {"headline_month": str(last["month_start"])[:7]}
    for column in HEADLINE_COLUMNS:
        value = _number(last[column])
        metadata[f"last_complete_month/{column}"] = (
            MetadataValue.float(value) if value is not None else "null"
        )
    metadata["crr_and_churn_trend"] = MetadataValue.md(_trend_markdown(months))
    return metadata
