"""The dbt project as Dagster sees it. Its manifest is prepared automatically: on every reload under
`dagster dev`, and once at import anywhere else when target/manifest.json is missing (a deployment
prepares it at build time with `dagster-dbt project prepare-and-package`)."""

import os
import shutil
from pathlib import Path

from dagster_dbt import DbtProject

from loyalty_kpi.dbt import dbt_executable
from loyalty_kpi.paths import PROJECT_DIR

# dagster-dbt's manifest preparer runs `dbt` from PATH: make it the dbt beside this interpreter.
if shutil.which("dbt") != dbt_executable():
    os.environ["PATH"] = f"{Path(dbt_executable()).parent}{os.pathsep}{os.environ.get('PATH', '')}"

_target = os.environ.get("LOYALTY_DBT_TARGET", "duckdb")
loyalty_project = DbtProject(
    project_dir=PROJECT_DIR,
    profiles_dir=PROJECT_DIR,
    target=_target,
    # a target path of its own, so that dbt runs in the project do not overwrite Dagster's manifest; one
    # per dbt target (the manifests differ: the DuckDB-only Python models), so that switching
    # LOYALTY_DBT_TARGET never loads another target's manifest
    target_path=PROJECT_DIR / "target" / ("dagster" if _target == "duckdb" else f"dagster-{_target}"),
)
loyalty_project.prepare_if_dev()
if not loyalty_project.manifest_path.exists():
    loyalty_project.preparer.prepare(loyalty_project)
