"""Where the project, its raw data and its warehouse are: one place that reads the env vars."""

from __future__ import annotations

import os
from pathlib import Path

PROJECT_DIR = Path(__file__).resolve().parent.parent


def raw_dir() -> Path:
    """The raw-data directory: LOYALTY_RAW_DIR, default data/raw under the project."""
    return Path(os.environ.get("LOYALTY_RAW_DIR", PROJECT_DIR / "data" / "raw"))


def duckdb_path() -> Path:
    """The DuckDB warehouse file: LOYALTY_DUCKDB_PATH, default data/warehouse.duckdb under the project."""
    return Path(os.environ.get("LOYALTY_DUCKDB_PATH", PROJECT_DIR / "data" / "warehouse.duckdb"))


def publish_dir() -> Path:
    """Where the published marts for BI readers go: LOYALTY_PUBLISH_DIR, default data/published."""
    return Path(os.environ.get("LOYALTY_PUBLISH_DIR", PROJECT_DIR / "data" / "published"))


def report_path() -> Path:
    """The HTML KPI report: LOYALTY_REPORT_PATH, default data/report/loyalty_kpi_report.html."""
    return Path(
        os.environ.get("LOYALTY_REPORT_PATH", PROJECT_DIR / "data" / "report" / "loyalty_kpi_report.html")
    )
