"""The build job: raw file checks, then `dbt build`, then the KPI checks."""

from dagster import AssetSelection, define_asset_job, in_process_executor

# Runs carrying this tag never overlap (dagster.yaml: tag_concurrency_limits), so only one run at a
# time writes the DuckDB file.
WAREHOUSE_TAG = {"loyalty/warehouse": "writer"}

loyalty_build_job = define_asset_job(
    name="loyalty_build",
    selection=AssetSelection.all(),
    description="Check the raw files, build every dbt node (dbt build), check the KPIs.",
    tags=WAREHOUSE_TAG,
    # one process: the steps are quick file checks around one dbt invocation (itself multi-threaded),
    # and a subprocess per step would spend more time importing than working
    executor_def=in_process_executor,
)
