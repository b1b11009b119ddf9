"""One asset per raw table of the contract: it observes the delivered file (rows, size, latest event
time) and checks it against the raw contract before dbt reads it. The contract check is blocking, so a
malformed delivery stops the run before any model or mart changes."""

from datetime import UTC, date, datetime, timedelta
from pathlib import Path

from dagster import (
    AssetCheckResult,
    AssetCheckSeverity,
    AssetCheckSpec,
    AssetKey,
    AssetsDefinition,
    MaterializeResult,
    MetadataValue,
    asset,
)

from loyalty_kpi.raw_contract import RawTable, raw_contract
from loyalty_kpi.raw_inspection import FileReport, inspect_raw_file
from orchestration.resources import LoyaltyWarehouse
from orchestration.settings import Settings

RAW_GROUP = "raw"
CONTRACT_CHECK = "matches_raw_contract"
FRESHNESS_CHECK = "is_fresh"


def raw_asset_key(table: str) -> AssetKey:
    """The asset key of a raw table (also what the dbt sources map to)."""
    return AssetKey([RAW_GROUP, table])


def _metadata(report: FileReport) -> dict[str, object]:
    return {
        "path": MetadataValue.path(str(report.path)) if report.path else "absent",
        "dagster/row_count": report.rows,
        "size_bytes": report.size_bytes,
        "max_event_time": str(report.max_event_time) if report.max_event_time else "none",
        "extra_columns_ignored": ", ".join(report.extra_columns) or "none",
    }


def _freshness(report: FileReport, as_of_date: str | None, max_days: int) -> AssetCheckResult:
    reference = date.fromisoformat(as_of_date) if as_of_date else datetime.now(UTC).date()
    latest = report.max_event_time.date() if report.max_event_time else None
    fresh = latest is not None and latest >= reference - timedelta(days=max_days)
    return AssetCheckResult(
        check_name=FRESHNESS_CHECK,
        passed=fresh,
        severity=AssetCheckSeverity.WARN,
        description=(
            f"latest transaction day {latest} vs reference date {reference} "
            f"({'as-of date' if as_of_date else 'today'}); allowed lag {max_days} days"
        ),
        metadata={"latest_transaction_day": str(latest), "reference_date": str(reference)},
    )


def build_raw_asset(table: RawTable, settings: Settings) -> AssetsDefinition:
    """The asset (with its checks) of one raw table."""
    check_specs = [AssetCheckSpec(CONTRACT_CHECK, asset=raw_asset_key(table.name), blocking=True)]
    if table.name == "transactions":
        check_specs.append(AssetCheckSpec(FRESHNESS_CHECK, asset=raw_asset_key(table.name)))

    @asset(
        key=raw_asset_key(table.name),
        group_name=RAW_GROUP,
        description=(
            f"Raw `{table.name}` file in LOYALTY_RAW_DIR ({'required' if table.required else 'optional'}; "
            f"columns: {', '.join(column.name for column in table.columns)})."
        ),
        check_specs=check_specs,
        kinds={"file"},
        tags={"layer": "raw"},
    )
    def raw_table(warehouse: LoyaltyWarehouse) -> MaterializeResult:
        report = inspect_raw_file(Path(warehouse.raw_dir), table)
        checks = [
            AssetCheckResult(
                check_name=CONTRACT_CHECK,
                passed=report.ok,
                description="; ".join(report.problems) or "file matches the raw contract",
                metadata={"problems": "\n".join(report.problems) or "none"},
            )
        ]
        if table.name == "transactions":
            checks.append(_freshness(report, warehouse.as_of_date, settings.freshness_max_days))
        return MaterializeResult(metadata=_metadata(report), check_results=checks)

    return raw_table


def build_raw_assets(settings: Settings) -> list[AssetsDefinition]:
    """An asset for every table of the raw contract."""
    return [build_raw_asset(table, settings) for table in raw_contract()]
