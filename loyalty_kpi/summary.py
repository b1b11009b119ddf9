"""A short KPI summary of the last complete months, read from the warehouse's kpi_monthly mart."""

from __future__ import annotations

from pathlib import Path

import duckdb
from rich.console import Console
from rich.table import Table

SUMMARY_COLUMNS: dict[str, str] = {
    "crr_pct": "CRR %",
    "churn_rate_pct": "Churn %",
    "active_members": "Active members",
    "aov": "AOV",
    "clv_formula": "CLV (formula)",
}


def last_complete_months(warehouse: Path, months: int = 3) -> list[dict[str, object]]:
    """The last `months` complete months of kpi_monthly, oldest first."""
    with duckdb.connect(str(warehouse), read_only=True) as con:
        cursor = con.execute(
            f"""
            select month_start, {", ".join(SUMMARY_COLUMNS)}
            from marts.kpi_monthly
            where is_complete_month
            order by month_start desc
            limit ?
            """,
            [months],
        )
        names = [column[0] for column in cursor.description]
        rows = [dict(zip(names, row, strict=True)) for row in cursor.fetchall()]
    return list(reversed(rows))


def _format(value: object, column: str) -> str:
    if value is None:
        return "—"
    if column == "active_members":
        return f"{value:,}"
    return f"{float(value):,.2f}"


def print_summary(warehouse: Path, months: int = 3, console: Console | None = None) -> None:
    """Print the KPI summary table."""
    rows = last_complete_months(warehouse, months)
    table = Table(title=f"Loyalty KPIs — last {len(rows)} complete months ({warehouse.name})")
    table.add_column("Month")
    for label in SUMMARY_COLUMNS.values():
        table.add_column(label, justify="right")
    for row in rows:
        table.add_row(
            str(row["month_start"])[:7], *(_format(row[column], column) for column in SUMMARY_COLUMNS)
        )
    (console or Console()).print(table)
