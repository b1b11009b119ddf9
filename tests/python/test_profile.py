"""The DuckDB profile: memory, threads and spilling come from env vars, with DuckDB's own defaults for
where and how much it spills."""

import json
from pathlib import Path

import yaml

from loyalty_kpi.dbt import run_dbt
from loyalty_kpi.paths import PROJECT_DIR

SETTINGS = (
    "select current_setting('memory_limit') as memory_limit, current_setting('threads') as threads,"
    " current_setting('temp_directory') as temp_directory,"
    " current_setting('max_temp_directory_size') as max_temp_directory_size"
)


def _settings(tmp_path: Path, env: dict[str, str]) -> dict[str, object]:
    result = run_dbt(
        ["show", "--inline", SETTINGS, "--output", "json", "--quiet"],
        raw_dir=tmp_path,
        duckdb_path=tmp_path / "warehouse.duckdb",
        work_dir=tmp_path,
        env=env,
    )
    assert result.returncode == 0, result.stdout + result.stderr
    return json.loads(result.stdout)["show"][0]


def test_the_duckdb_settings_follow_the_env_vars(tmp_path: Path) -> None:
    spill = tmp_path / "spill"
    settings = _settings(
        tmp_path,
        {
            "LOYALTY_DUCKDB_MEMORY_LIMIT": "1GiB",
            "LOYALTY_DUCKDB_THREADS": "1",
            "LOYALTY_DUCKDB_TEMP_DIRECTORY": str(spill),
            "LOYALTY_DUCKDB_MAX_TEMP_SIZE": "3GiB",
        },
    )
    assert settings == {
        "memory_limit": "1.0 GiB",
        "threads": 1,
        "temp_directory": str(spill),
        "max_temp_directory_size": "3.0 GiB",
    }


def test_by_default_duckdb_spills_next_to_the_warehouse(tmp_path: Path) -> None:
    settings = _settings(tmp_path, {})
    assert settings["temp_directory"] == f"{tmp_path / 'warehouse.duckdb'}.tmp"
    assert settings["max_temp_directory_size"] == "90% of available disk space"


def test_the_spill_directory_is_set_once_when_the_database_opens() -> None:
    """dbt-duckdb runs `settings` again on every cursor, and DuckDB refuses to set temp_directory again once
    it has spilled: the spill settings must be `config_options`, given when the database opens."""
    duckdb_target = yaml.safe_load((PROJECT_DIR / "profiles.yml").read_text())["loyalty_kpi"]["outputs"][
        "duckdb"
    ]
    spill = {"temp_directory", "max_temp_directory_size"}
    assert spill <= set(duckdb_target["config_options"])
    assert not spill & set(duckdb_target["settings"])
