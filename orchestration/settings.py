"""Every setting of the orchestration, read from env vars in this one place."""

from __future__ import annotations

import os
from dataclasses import dataclass
from pathlib import Path

from loyalty_kpi.paths import duckdb_path, publish_dir, raw_dir, report_path


@dataclass(frozen=True)
class Settings:
    """What the code location needs to know about its environment."""

    raw_dir: Path
    duckdb_path: Path
    publish_dir: Path
    report_path: Path
    as_of_date: str | None
    dbt_target: str
    dbt_unit_tests: bool
    schedule_cron: str
    schedule_timezone: str
    schedule_running: bool
    freshness_max_days: int
    active_change_warn_pct: float
    alert_webhook_url: str | None

    @classmethod
    def from_env(cls) -> Settings:
        """Settings from LOYALTY_* env vars, with the project's local defaults."""
        return cls(
            raw_dir=raw_dir().resolve(),
            duckdb_path=duckdb_path().resolve(),
            publish_dir=publish_dir().resolve(),
            report_path=report_path().resolve(),
            as_of_date=os.environ.get("LOYALTY_AS_OF_DATE") or None,
            dbt_target=os.environ.get("LOYALTY_DBT_TARGET", "duckdb"),
            dbt_unit_tests=os.environ.get("LOYALTY_DBT_UNIT_TESTS", "false").lower() == "true",
            schedule_cron=os.environ.get("LOYALTY_SCHEDULE_CRON", "0 6 * * *"),
            schedule_timezone=os.environ.get("LOYALTY_SCHEDULE_TIMEZONE", "UTC"),
            schedule_running=os.environ.get("LOYALTY_SCHEDULE_RUNNING", "false").lower() == "true",
            freshness_max_days=int(os.environ.get("LOYALTY_FRESHNESS_MAX_DAYS", "3")),
            active_change_warn_pct=float(os.environ.get("LOYALTY_ACTIVE_CHANGE_WARN_PCT", "25")),
            alert_webhook_url=os.environ.get("LOYALTY_ALERT_WEBHOOK_URL") or None,
        )
