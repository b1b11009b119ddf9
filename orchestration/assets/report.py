"""The HTML KPI report (loyalty_kpi.report), rebuilt from the published marts after every publish."""

from pathlib import Path

from dagster import AssetExecutionContext, AssetKey, MaterializeResult, MetadataValue, asset

from loyalty_kpi.report import tiles_markdown, write_report

PUBLISHED_MARTS = AssetKey(["published", "marts"])


def build_report_asset(publish_dir: Path, report_path: Path):
    """The report asset, downstream of the published marts."""

    @asset(
        key=AssetKey(["published", "kpi_report"]),
        group_name="published",
        deps=[PUBLISHED_MARTS],
        kinds={"html", "plotly"},
        description=f"Self-contained HTML KPI report at {report_path}, read from the marts in {publish_dir}.",
    )
    def kpi_report(context: AssetExecutionContext) -> MaterializeResult:
        report = write_report(publish_dir, report_path)
        context.log.info(f"wrote {report.path} ({report.size_bytes:,} bytes)")
        month = f"{report.headline_month:%Y-%m}" if report.headline_month else "no complete month yet"
        return MaterializeResult(
            metadata={
                "path": MetadataValue.path(str(report.path)),
                "size_bytes": report.size_bytes,
                "headline_month": month,
                "preview": MetadataValue.md(f"**Headline KPIs, {month}**\n\n{tiles_markdown(report.tiles)}"),
            }
        )

    return kpi_report
