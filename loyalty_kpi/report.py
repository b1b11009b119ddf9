"""The KPI report: one self-contained HTML file of plotly charts (plotly.js inlined once, opens offline),
read from the published marts only (LOYALTY_PUBLISH_DIR/loyalty_marts.duckdb, read-only).

Every query is over a monthly mart or an SQL aggregate, so the report is small and quick at any scale.
"""

from __future__ import annotations

import csv
import html
import os
from collections.abc import Callable
from dataclasses import dataclass
from datetime import date, timedelta
from functools import partial
from pathlib import Path
from typing import Any

import duckdb
import plotly.graph_objects as go
from plotly.offline import get_plotlyjs

from loyalty_kpi.paths import PROJECT_DIR
from loyalty_kpi.publish import MARTS_SCHEMA, PUBLISHED_FILE

KPI_DEFINITIONS_SEED = PROJECT_DIR / "seeds" / "kpi_definitions.csv"

# Chart series that are not kpi_monthly KPIs, hence not in the seed: their definitions follow kpi-spec.md.
EXTRA_DEFINITIONS: dict[str, tuple[str, str]] = {
    "reactivation_rate_pct": ("Reactivation rate", "R / S x 100: members reactivated in the month over S."),
    "base_flow": (
        "Member base flow",
        "S (active on the day before the month) - C (churned) + N (new active) + R (reactivated) = E "
        "(active at the month's end).",
    ),
    "tier_share": (
        "Tier distribution",
        "Enrolled members per tier at the month's end (share_pct sums to 100).",
    ),
    "tier_migration": (
        "Tier migration",
        "Enrolled members whose tier at the month's end is above (upgrades) or below (downgrades) their tier "
        "on the day before the month.",
    ),
    "cohort_retention": (
        "Cohort retention",
        "Members of a first-purchase cohort active at the end of each month since, over the cohort size,"
        " x 100.",
    ),
    "points_by_source": (
        "Points earned by source",
        "Points earned in the month per source (purchase, promotion, signup, ...); redeemed and expired"
        " below 0; liability at the month's end.",
    ),
    "mean_predicted_clv": (
        "Mean predicted CLV",
        "Mean over the scored members of predicted_clv: the expected margin of the next clv_horizon_months"
        " months (BG/NBD + Gamma-Gamma, as of A).",
    ),
    "new_enrollments_by_channel": (
        "New enrollments by channel",
        "Members enrolled in the month, per channel.",
    ),
}

TILE_KPIS = (
    "crr_pct",
    "churn_rate_pct",
    "active_members",
    "active_rate_pct",
    "aov",
    "member_aov_lift_pct",
    "clv_formula",
    "nps",
    "redemption_rate_pct",
)

# The raw table each optional chart or tile needs, and the mart column that is null throughout without it.
OPTIONAL_SOURCES: dict[str, tuple[str, str, str]] = {
    "points": ("point_events", "points_monthly", "points_issued"),
    "survey": ("survey_responses", "survey_monthly", "responses"),
    "spend": ("marketing_spend", "acquisition_monthly", "marketing_spend"),
}
TILE_SOURCES = {"nps": "survey", "redemption_rate_pct": "points"}

COLORS = {"better": "#1a7f37", "worse": "#cf222e"}


@dataclass(frozen=True)
class KpiDefinition:
    """A row of the kpi_definitions seed."""

    name: str
    label: str
    unit: str
    definition: str
    direction: str


@dataclass(frozen=True)
class Tile:
    """A headline KPI of the last complete month, with its change from the month before."""

    kpi: str
    label: str
    unit: str
    definition: str
    value: float | None
    previous: float | None
    direction: str
    missing_table: str | None = None

    @property
    def change(self) -> float | None:
        """value - previous (percentage points for percentages)."""
        return None if self.value is None or self.previous is None else self.value - self.previous

    @property
    def verdict(self) -> str:
        """better, worse or unchanged, from the change and the KPI's direction."""
        change = self.change
        if not change:
            return "unchanged"
        return "better" if (change > 0) == (self.direction == "higher") else "worse"


@dataclass(frozen=True)
class Rendered:
    """A rendered report: the HTML page, its tiles, the headline and incomplete months, the as-of date."""

    page: str
    tiles: list[Tile]
    headline_month: date | None
    incomplete_month: date | None
    as_of: date | None


@dataclass(frozen=True)
class Report:
    """What one report run wrote."""

    path: Path
    size_bytes: int
    headline_month: date | None
    tiles: list[Tile]


def load_definitions(path: Path = KPI_DEFINITIONS_SEED) -> dict[str, KpiDefinition]:
    """The KPI catalogue (the seed's CSV, the same file dbt seeds)."""
    with path.open(newline="", encoding="utf-8") as handle:
        return {row["name"]: KpiDefinition(**row) for row in csv.DictReader(handle)}


def _label(definitions: dict[str, KpiDefinition], name: str) -> tuple[str, str]:
    if name in definitions:
        return definitions[name].label, definitions[name].definition
    return EXTRA_DEFINITIONS[name]


def format_value(value: float | None, unit: str) -> str:
    """A KPI value as shown on a tile."""
    if value is None:
        return "—"
    if unit in ("members", "orders", "points"):
        return f"{value:,.0f}"
    if unit == "percent":
        return f"{value:,.1f}%"
    return f"{value:,.2f}" if unit in ("currency", "ratio") else f"{value:,.1f}"


def format_change(change: float, unit: str) -> str:
    """A tile's change from the month before (pp for percentages)."""
    sign = "+" if change > 0 else "-" if change < 0 else "±"
    magnitude = format_value(abs(change), unit).rstrip("%")
    return f"{sign}{magnitude}{' pp' if unit == 'percent' else ''}"


class _Marts:
    """Read-only queries on the published marts."""

    def __init__(self, con: duckdb.DuckDBPyConnection) -> None:
        self.con = con
        self.tables = {
            row[0]
            for row in con.execute(
                "select table_name from duckdb_tables() where schema_name = ?", [MARTS_SCHEMA]
            ).fetchall()
        }

    def rows(self, sql: str) -> list[dict[str, Any]]:
        cursor = self.con.execute(sql)
        names = [column[0] for column in cursor.description]
        return [dict(zip(names, row, strict=True)) for row in cursor.fetchall()]

    def scalar(self, sql: str) -> Any:
        row = self.con.execute(sql).fetchone()
        return row[0] if row else None

    def has_data(self, source: str) -> bool:
        """Whether the optional raw table behind `source` had rows (its mart column is not all null)."""
        _, mart, column = OPTIONAL_SOURCES[source]
        return mart in self.tables and bool(self.scalar(f"select count({column}) from {MARTS_SCHEMA}.{mart}"))


def _number(value: Any) -> float | None:
    return None if value is None else float(value)


def _month(value: date) -> str:
    return f"{value:%Y-%m}"


def build_tiles(
    months: list[dict[str, Any]], definitions: dict[str, KpiDefinition], marts: _Marts
) -> list[Tile]:
    """The headline tiles of the last complete month (and mean predicted CLV when the CLV marts have it)."""
    complete = [month for month in months if month["is_complete_month"]]
    if not complete:
        return []
    last, previous = complete[-1], (complete[-2] if len(complete) > 1 else {})
    tiles = []
    for kpi in TILE_KPIS:
        source = TILE_SOURCES.get(kpi)
        missing = OPTIONAL_SOURCES[source][0] if source and not marts.has_data(source) else None
        spec = definitions[kpi]
        tiles.append(
            Tile(
                kpi,
                spec.label,
                spec.unit,
                spec.definition,
                _number(last[kpi]),
                _number(previous.get(kpi)),
                spec.direction,
                missing,
            )
        )
    if "member_clv_predicted" in marts.tables:
        mean_clv = _number(
            marts.scalar(f"select avg(predicted_clv) from {MARTS_SCHEMA}.member_clv_predicted")
        )
        if mean_clv is not None:
            label, definition = EXTRA_DEFINITIONS["mean_predicted_clv"]
            tiles.append(Tile("mean_predicted_clv", label, "currency", definition, mean_clv, None, "higher"))
    return tiles


def _layout(figure: go.Figure, **kwargs: Any) -> go.Figure:
    layout: dict[str, Any] = {
        "template": "plotly_white",
        "height": 360,
        "margin": {"l": 60, "r": 30, "t": 40, "b": 40},
        "legend": {"orientation": "h", "y": -0.15},
    }
    figure.update_layout(**(layout | kwargs))
    return figure


def _mark_incomplete(
    figure: go.Figure, incomplete: date | None, as_of: date | None, first: date | None
) -> go.Figure:
    """Shade the month holding the as-of date and label it incomplete (x axes are month starts)."""
    if incomplete is None or first is None:
        return figure
    label = f"incomplete month (to {as_of})" if as_of else "incomplete month"
    figure.add_vrect(
        x0=incomplete - timedelta(days=15),
        x1=incomplete + timedelta(days=15),
        fillcolor="#888",
        opacity=0.15,
        line_width=0,
        annotation_text=label,
        annotation_position="top right",
    )
    # a shape widens the autorange: keep the axis to the months
    figure.update_xaxes(range=[first - timedelta(days=20), incomplete + timedelta(days=20)])
    return figure


def _lines(rows: list[dict[str, Any]], series: dict[str, str], **kwargs: Any) -> list[go.Scatter]:
    x = [row["month_start"] for row in rows]
    return [
        go.Scatter(x=x, y=[_number(row[column]) for row in rows], name=name, mode="lines+markers", **kwargs)
        for column, name in series.items()
    ]


def _waterfall(flow: list[dict[str, Any]], chosen: date | None) -> go.Figure:
    """The base flow S → -C → +N → +R → E, one trace per month, a dropdown to choose the month."""
    figure = go.Figure()
    for row in flow:
        steps = [
            row["start_active"],
            -row["churned"],
            row["new_active"],
            row["reactivated"],
            row["end_active"],
        ]
        figure.add_trace(
            go.Waterfall(
                name=_month(row["month_start"]),
                x=["S (start)", "- churned", "+ new", "+ reactivated", "E (end)"],
                y=steps,
                measure=["absolute", "relative", "relative", "relative", "total"],
                visible=row["month_start"] == chosen,
                textposition="outside",
                text=[f"{step:,}" for step in steps],
            )
        )
    buttons = [
        {
            "label": _month(row["month_start"]) + ("" if row["is_complete_month"] else " (incomplete)"),
            "method": "update",
            "args": [{"visible": [other is row for other in flow]}],
        }
        for row in flow
    ]
    active = next((i for i, row in enumerate(flow) if row["month_start"] == chosen), len(flow) - 1)
    return _layout(
        figure,
        showlegend=False,
        updatemenus=[{"buttons": buttons, "active": active, "x": 1, "xanchor": "right", "y": 1.15}],
    )


def _heatmap(cohorts: list[dict[str, Any]]) -> go.Figure:
    cohort_months = sorted({row["cohort_month"] for row in cohorts})
    offsets = sorted({row["months_since_first_purchase"] for row in cohorts})
    index = {month: i for i, month in enumerate(cohort_months)}
    column = {offset: i for i, offset in enumerate(offsets)}
    z: list[list[float | None]] = [[None] * len(offsets) for _ in cohort_months]
    for row in cohorts:
        z[index[row["cohort_month"]]][column[row["months_since_first_purchase"]]] = _number(
            row["retention_pct"]
        )
    figure = go.Figure(
        go.Heatmap(
            x=offsets,
            y=[_month(month) for month in cohort_months],
            z=z,
            colorscale="Blues",
            zmin=0,
            zmax=100,
            colorbar={"title": "%"},
            hovertemplate="cohort %{y}, month %{x}: %{z:.1f}%<extra></extra>",
        )
    )
    return _layout(
        figure,
        height=max(360, 14 * len(cohort_months) + 100),
        xaxis_title="months since first purchase",
        yaxis={"autorange": "reversed", "type": "category"},
    )


@dataclass(frozen=True)
class Section:
    """A chart (or a no-data panel) with its KPIs' labels and definitions."""

    key: str
    kpis: tuple[str, ...]
    figure: go.Figure | None
    missing_table: str | None = None


def _sections(
    marts: _Marts,
    months: list[dict[str, Any]],
    flow: list[dict[str, Any]],
    incomplete: date | None,
    as_of: date | None,
) -> list[Section]:
    first = months[0]["month_start"] if months else None
    mark = partial(_mark_incomplete, incomplete=incomplete, as_of=as_of, first=first)
    complete = [row["month_start"] for row in flow if row["is_complete_month"]]
    sections = [
        Section(
            "retention",
            ("crr_pct", "churn_rate_pct", "reactivation_rate_pct"),
            mark(
                _layout(
                    go.Figure(
                        _lines(
                            flow,
                            {
                                "crr_pct": "CRR %",
                                "churn_rate_pct": "Churn %",
                                "reactivation_rate_pct": "Reactivation %",
                            },
                        )
                    ),
                    yaxis_title="%",
                )
            ),
        ),
        Section("base_flow", ("base_flow",), _waterfall(flow, complete[-1] if complete else None)),
        Section(
            "members",
            ("enrolled_members", "active_members", "active_rate_pct"),
            mark(
                _layout(
                    go.Figure(
                        [
                            *_lines(months, {"enrolled_members": "Enrolled", "active_members": "Active"}),
                            *_lines(
                                months, {"active_rate_pct": "Active rate %"}, yaxis="y2", line={"dash": "dot"}
                            ),
                        ]
                    ),
                    yaxis_title="members",
                    yaxis2={"title": "%", "overlaying": "y", "side": "right", "rangemode": "tozero"},
                )
            ),
        ),
    ]
    tiers = marts.rows(
        f"select month_start, tier, tier_rank, members from {MARTS_SCHEMA}.tier_distribution_monthly "
        "order by tier_rank, month_start"
    )
    tier_figure = go.Figure()
    for tier in dict.fromkeys(row["tier"] for row in tiers):
        of_tier = [row for row in tiers if row["tier"] == tier]
        tier_figure.add_bar(
            x=[row["month_start"] for row in of_tier], y=[row["members"] for row in of_tier], name=tier
        )
    sections.append(
        Section("tiers", ("tier_share",), mark(_layout(tier_figure, barmode="stack", yaxis_title="members")))
    )
    migration = marts.rows(
        f"""
        select
            months.month_start,
            coalesce(sum(upgrades), 0) as upgrades,
            coalesce(sum(downgrades), 0) as downgrades
        from (select distinct month_start from {MARTS_SCHEMA}.tier_distribution_monthly) as months
        left join {MARTS_SCHEMA}.tier_migration_monthly using (month_start)
        group by months.month_start order by months.month_start
        """
    )
    x = [row["month_start"] for row in migration]
    sections.append(
        Section(
            "tier_migration",
            ("tier_migration",),
            mark(
                _layout(
                    go.Figure(
                        [
                            go.Bar(
                                x=x,
                                y=[row["upgrades"] for row in migration],
                                name="Upgrades",
                                marker_color=COLORS["better"],
                            ),
                            go.Bar(
                                x=x,
                                y=[-row["downgrades"] for row in migration],
                                name="Downgrades",
                                marker_color=COLORS["worse"],
                            ),
                        ]
                    ),
                    barmode="relative",
                    yaxis_title="members",
                )
            ),
        )
    )
    cohorts = marts.rows(
        "select cohort_month, months_since_first_purchase, retention_pct "
        f"from {MARTS_SCHEMA}.cohort_retention_monthly"
    )
    sections.append(Section("cohorts", ("cohort_retention",), _heatmap(cohorts)))
    sections.append(_points_section(marts, mark))
    if marts.has_data("survey"):
        survey = marts.rows(
            f"select month_start, nps, customer_loyalty_index from {MARTS_SCHEMA}.survey_monthly order by 1"
        )
        survey_figure = mark(
            _layout(
                go.Figure(_lines(survey, {"nps": "NPS", "customer_loyalty_index": "Loyalty index"})),
                yaxis_title="score",
            )
        )
        sections.append(Section("survey", ("nps", "customer_loyalty_index"), survey_figure))
    else:
        sections.append(Section("survey", ("nps", "customer_loyalty_index"), None, "survey_responses"))
    sections.extend(_acquisition_sections(marts, mark))
    return sections


def _points_section(marts: _Marts, mark: Callable[[go.Figure], go.Figure]) -> Section:
    kpis = ("points_by_source", "points_redeemed", "points_expired", "points_liability")
    if not marts.has_data("points"):
        return Section("points", kpis, None, OPTIONAL_SOURCES["points"][0])
    by_source = marts.rows(
        "select month_start, point_source, points_issued "
        f"from {MARTS_SCHEMA}.points_earned_by_source_monthly "
        "order by point_source, month_start"
    )
    points = marts.rows(
        "select month_start, points_redeemed, points_expired, points_liability "
        f"from {MARTS_SCHEMA}.points_monthly "
        "order by month_start"
    )
    figure = go.Figure()
    for source in dict.fromkeys(row["point_source"] for row in by_source):
        of_source = [row for row in by_source if row["point_source"] == source]
        figure.add_bar(
            x=[row["month_start"] for row in of_source],
            y=[row["points_issued"] for row in of_source],
            name=f"earned: {source}",
        )
    x = [row["month_start"] for row in points]
    for column, name in (("points_redeemed", "redeemed"), ("points_expired", "expired")):
        figure.add_bar(x=x, y=[-(row[column] or 0) for row in points], name=name)
    figure.add_scatter(
        x=x,
        y=[_number(row["points_liability"]) for row in points],
        name="liability",
        yaxis="y2",
        mode="lines",
        line={"color": "black"},
    )
    return Section(
        "points",
        kpis,
        mark(
            _layout(
                figure,
                barmode="relative",
                yaxis_title="points",
                yaxis2={"title": "liability", "overlaying": "y", "side": "right", "rangemode": "tozero"},
            )
        ),
    )


def _acquisition_sections(marts: _Marts, mark: Callable[[go.Figure], go.Figure]) -> list[Section]:
    rows = marts.rows(
        "select month_start, enrollment_channel, new_enrollments, cac "
        f"from {MARTS_SCHEMA}.acquisition_monthly "
        "order by enrollment_channel, month_start"
    )
    channels = list(dict.fromkeys(row["enrollment_channel"] for row in rows))
    enrollments = go.Figure()
    cac = go.Figure()
    for channel in channels:
        of_channel = [row for row in rows if row["enrollment_channel"] == channel]
        x = [row["month_start"] for row in of_channel]
        enrollments.add_bar(x=x, y=[row["new_enrollments"] for row in of_channel], name=channel)
        cac.add_scatter(
            x=x, y=[_number(row["cac"]) for row in of_channel], name=channel, mode="lines+markers"
        )
    spend = marts.has_data("spend")
    return [
        Section(
            "acquisition",
            ("new_enrollments_by_channel",),
            mark(_layout(enrollments, barmode="stack", yaxis_title="members")),
        ),
        Section(
            "cac",
            ("cac",),
            mark(_layout(cac, yaxis_title="currency")) if spend else None,
            None if spend else OPTIONAL_SOURCES["spend"][0],
        ),
    ]


STYLE = """
body{font-family:system-ui,sans-serif;margin:0 auto;max-width:1200px;padding:1rem 2rem;color:#1f2328}
h1{margin-bottom:.2rem}.meta{color:#59636e;margin-top:0}
.incomplete-note{background:#eee;border-left:4px solid #888;padding:.4rem .8rem}
.tiles{display:grid;grid-template-columns:repeat(auto-fill,minmax(200px,1fr));gap:.8rem}
.tile{border:1px solid #d1d9e0;border-radius:8px;padding:.6rem .8rem}
.tile .label{font-size:.85rem;color:#59636e}.tile .value{font-size:1.6rem;font-weight:600}
.tile .change{font-size:.85rem}.better{color:#1a7f37}.worse{color:#cf222e}.unchanged{color:#59636e}
section.chart{margin-top:1.6rem}section.chart h2{margin-bottom:.2rem;font-size:1.2rem}
dl.definitions{font-size:.85rem;color:#59636e;margin:.2rem 0 .4rem}
dl.definitions dt{display:inline;font-weight:600}
dl.definitions dd{display:inline;margin:0 0 0 .3rem}dl.definitions dd::after{content:"";display:block}
.no-data{border:2px dashed #d1d9e0;border-radius:8px;padding:2rem;text-align:center;color:#59636e}
"""


def _tile_html(tile: Tile) -> str:
    if tile.missing_table:
        value, change = "no data", f"raw table {tile.missing_table} is absent"
        verdict = "unchanged"
    else:
        value, verdict = format_value(tile.value, tile.unit), tile.verdict
        if tile.kpi == "mean_predicted_clv":
            change = "as of the as-of date"
        elif tile.change is None:
            change = "no previous value"
        else:
            change = f"{format_change(tile.change, tile.unit)} vs previous month"
            change += f" ({verdict})" if tile.change else ""
    data_value = "" if tile.value is None else f' data-value="{tile.value!r}"'
    return (
        f'<div class="tile" data-kpi="{tile.kpi}"{data_value} title="{html.escape(tile.definition)}">'
        f'<div class="label">{html.escape(tile.label)}</div><div class="value">{html.escape(value)}</div>'
        f'<div class="change {verdict}">{html.escape(change)}</div></div>'
    )


def _section_html(section: Section, definitions: dict[str, KpiDefinition]) -> str:
    labels = [_label(definitions, kpi) for kpi in section.kpis]
    title = " · ".join(label for label, _ in labels)
    terms = "".join(f"<dt>{html.escape(label)}</dt><dd>{html.escape(text)}</dd>" for label, text in labels)
    if section.figure is None:
        body = (
            f'<div class="no-data" data-missing-table="{section.missing_table}">No data: the raw table '
            f"<code>{section.missing_table}</code> is absent, so these KPIs are null.</div>"
        )
    else:
        body = section.figure.to_html(
            full_html=False,
            include_plotlyjs=False,
            div_id=f"chart-{section.key}",
            config={"displaylogo": False, "responsive": True},
        )
    return (
        f'<section class="chart" id="section-{section.key}">'
        f"<h2>{html.escape(title)}</h2>"
        f'<dl class="definitions">{terms}</dl>{body}</section>'
    )


def render(publish_dir: Path, definitions: dict[str, KpiDefinition] | None = None) -> Rendered:
    """The report's HTML from the published marts, with its tiles and months."""
    definitions = definitions or load_definitions()
    database = publish_dir / PUBLISHED_FILE
    if not database.is_file():
        raise FileNotFoundError(f"No published marts at {database}: build and publish first (make job).")
    with duckdb.connect(str(database), read_only=True) as con:
        marts = _Marts(con)
        months = marts.rows(f"select * from {MARTS_SCHEMA}.kpi_monthly order by month_start")
        flow = marts.rows(f"select * from {MARTS_SCHEMA}.member_base_flow_monthly order by month_start")
        # A, which no mart publishes: a purchaser's last purchase day + recency_days (an aggregate, no rows)
        as_of = marts.scalar(
            f"select max(last_purchase_date + cast(recency_days as integer)) from {MARTS_SCHEMA}.members"
        )
        incomplete = next((row["month_start"] for row in months if not row["is_complete_month"]), None)
        tiles = build_tiles(months, definitions, marts)
        sections = _sections(marts, months, flow, incomplete, as_of)
        build_id = marts.scalar(f"select min(build_id) from {MARTS_SCHEMA}.publish_metadata")
    complete = [row["month_start"] for row in months if row["is_complete_month"]]
    headline = (
        f"Headline KPIs — {_month(complete[-1])} (last complete month)"
        if complete
        else "No complete month yet"
    )
    note = (
        f'<p class="incomplete-note" id="incomplete-month" data-month="{_month(incomplete)}">'
        f"{_month(incomplete)} is incomplete (data to {as_of}): shaded grey in the charts, "
        "never a headline tile.</p>"
        if incomplete
        else ""
    )
    period = f"months {_month(months[0]['month_start'])} to {_month(months[-1]['month_start'])}"
    page = f"""<!DOCTYPE html>
<html lang="en"><head><meta charset="utf-8"><title>Loyalty KPI report</title>
<style>{STYLE}</style>
<script type="text/javascript">{get_plotlyjs()}</script></head>
<body><h1>Loyalty KPI report</h1>
<p class="meta">Published build {html.escape(str(build_id))} · as-of date {as_of} · {period}</p>
{note}
<h2>{headline}</h2>
<div class="tiles">{"".join(_tile_html(tile) for tile in tiles)}</div>
{"".join(_section_html(section, definitions) for section in sections)}
</body></html>
"""
    return Rendered(page, tiles, complete[-1] if complete else None, incomplete, as_of)


def write_report(publish_dir: Path, out: Path) -> Report:
    """Render the report from the published marts and write it to `out` (atomically)."""
    rendered = render(publish_dir)
    out.parent.mkdir(parents=True, exist_ok=True)
    staging = out.with_name(f".{out.name}.{os.getpid()}.tmp")
    staging.write_text(rendered.page, encoding="utf-8")
    os.replace(staging, out)
    return Report(out, out.stat().st_size, rendered.headline_month, rendered.tiles)


def tiles_markdown(tiles: list[Tile]) -> str:
    """The headline tiles as a markdown table (the Dagster asset's preview)."""
    lines = ["| KPI | value | change vs previous month | better / worse |", "|---|---:|---:|---|"]
    for tile in tiles:
        if tile.missing_table:
            lines.append(f"| {tile.label} | no data | raw table {tile.missing_table} absent | |")
        else:
            change = "" if tile.change is None else format_change(tile.change, tile.unit)
            verdict = tile.verdict if tile.change else ""
            lines.append(f"| {tile.label} | {format_value(tile.value, tile.unit)} | {change} | {verdict} |")
    return "\n".join(lines)
