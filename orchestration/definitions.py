"""The code location: assembles assets, checks, the job, the schedule, sensors and resources."""

from dagster import Definitions

from orchestration.assets.clv import build_clv_asset
from orchestration.assets.dbt import WAREHOUSE_POOL, loyalty_dbt_assets
from orchestration.assets.publish import build_publish_asset
from orchestration.assets.raw import build_raw_assets
from orchestration.assets.report import build_report_asset
from orchestration.checks import build_kpi_checks
from orchestration.jobs import loyalty_build_job
from orchestration.resources import build_resources
from orchestration.schedules import build_daily_schedule
from orchestration.sensors import alert_on_run_failure, build_raw_files_sensor
from orchestration.settings import Settings


def build_definitions(settings: Settings) -> Definitions:
    """The Definitions for the given settings (tests pass their own)."""
    # the CLV fit and scoring: dbt Python models on DuckDB, the CLV step's asset elsewhere (same keys)
    clv_step = build_clv_asset(settings.dbt_target, WAREHOUSE_POOL, loyalty_dbt_assets.keys)
    mart_keys = [key for key in loyalty_dbt_assets.keys if key.path[0] == "marts"]
    return Definitions(
        assets=[
            *build_raw_assets(settings),
            loyalty_dbt_assets,
            *([clv_step] if clv_step is not None else []),
            build_publish_asset(mart_keys, settings.publish_dir),
            build_report_asset(settings.publish_dir, settings.report_path),
        ],
        asset_checks=build_kpi_checks(settings),
        jobs=[loyalty_build_job],
        schedules=[build_daily_schedule(settings)],
        sensors=[build_raw_files_sensor(settings), alert_on_run_failure],
        resources=build_resources(settings),
    )


defs = build_definitions(Settings.from_env())
