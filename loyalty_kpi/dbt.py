"""Run the dbt project from Python (CLI, tests, benchmark) against a given raw directory and warehouse."""

from __future__ import annotations

import json
import os
import subprocess
import sys
from collections.abc import Mapping, Sequence
from pathlib import Path
from typing import Any

from loyalty_kpi.paths import PROJECT_DIR

# the nightly run (the Dagster job, and the benchmark's increment) leaves out the dbt unit tests, as dbt Labs
# recommends for production: their inputs are fixtures, not the data (`dbt build` and `make test` run them)
WITHOUT_UNIT_TESTS = ("--exclude-resource-type", "unit_test")


def dbt_executable() -> str:
    """The dbt of the running interpreter's environment."""
    return str(Path(sys.executable).with_name("dbt"))


def run_dbt(
    args: Sequence[str],
    *,
    raw_dir: Path,
    duckdb_path: Path | None = None,
    dbt_vars: Mapping[str, Any] | None = None,
    work_dir: Path | None = None,
    capture: bool = True,
    target: str | None = None,
    env: Mapping[str, str] | None = None,
) -> subprocess.CompletedProcess[str]:
    """Run `dbt <args>` in the project with LOYALTY_RAW_DIR (and LOYALTY_DUCKDB_PATH) set.

    `work_dir` keeps target/ and logs/ apart, so that several runs (tests) do not share them; `target`
    picks a profile target (default: LOYALTY_DBT_TARGET, else duckdb); `env` adds env vars (e.g. the
    connection settings of that target).
    """
    env = {
        **os.environ,
        "LOYALTY_RAW_DIR": str(raw_dir),
        "DBT_SEND_ANONYMOUS_USAGE_STATS": "false",
        **(env or {}),
    }
    if duckdb_path is not None:
        env["LOYALTY_DUCKDB_PATH"] = str(duckdb_path)
    command = [dbt_executable(), *args, "--project-dir", str(PROJECT_DIR), "--profiles-dir", str(PROJECT_DIR)]
    if target is not None:
        command += ["--target", target]
    if dbt_vars:
        command += ["--vars", json.dumps(dict(dbt_vars))]
    if work_dir is not None:
        command += ["--target-path", str(work_dir / "target"), "--log-path", str(work_dir / "logs")]
    return subprocess.run(command, cwd=PROJECT_DIR, env=env, text=True, capture_output=capture, check=False)
