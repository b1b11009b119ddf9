"""Headline KPIs of the last complete month, and the CRR/churn trend, as Dagster metadata."""

import base64
import io
from typing import Any

import duckdb
from dagster import MetadataValue
from matplotlib.figure import Figure

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


def _trend_png(months: list[dict[str, Any]]) -> str:
    """A PNG line chart of CRR and churn over the complete months, base64-encoded."""
    labels = [month["month_start"] for month in months]
    figure = Figure(figsize=(8, 3), dpi=100)  # no pyplot: no global state, no display needed
    axis = figure.subplots()
    axis.plot(labels, [_number(m["crr_pct"]) for m in months], label="CRR %", color="#1f77b4")
    axis.plot(labels, [_number(m["churn_rate_pct"]) for m in months], label="Churn %", color="#d62728")
    axis.set_ylabel("%")
    axis.set_title("Customer retention rate and churn by month")
    axis.grid(alpha=0.3)
    axis.legend(loc="center right")
    figure.autofmt_xdate()
    buffer = io.BytesIO()
    figure.savefig(buffer, format="png", bbox_inches="tight")
    return base64.b64encode(buffer.getvalue()).decode()


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
    metadata["crr_and_churn_chart"] = MetadataValue.md(
        f"![CRR and churn by month](data:image/png;base64,{_trend_png(months)})"
    )
    metadata["crr_and_churn_trend"] = MetadataValue.md(_trend_markdown(months))
    return metadata
