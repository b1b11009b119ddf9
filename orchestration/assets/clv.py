"""Predictive CLV where dbt Python models do not run (PostgreSQL, Spark): the fit and the member
predictions as one Python multi-asset that reads `int_clv_calibration_summary` from the target warehouse,
calls loyalty_kpi.clv.run (what the DuckDB Python models call) and writes `intermediate.int_clv_fit` and
`intermediate.int_clv_member_predictions` there (loyalty_kpi.clv_warehouse). The dbt CLV marts read them
as source `clv_step`, whose asset keys are these, so Dagster runs the marts (and their tests) after it.

On DuckDB the dbt Python models are those assets already, so this asset is not defined: either way the
graph has `intermediate/int_clv_fit` and `intermediate/int_clv_member_predictions` between
`intermediate/int_clv_calibration_summary` and the CLV marts."""

from collections.abc import Collection, Iterator
from typing import Any

import duckdb
import pandas as pd
from dagster import AssetExecutionContext, AssetKey, AssetSpec, MaterializeResult, multi_asset

from loyalty_kpi.clv import AS_OF
from loyalty_kpi.clv_warehouse import TARGETS, run_on_target
from orchestration.clv_metadata import fit_metadata
from orchestration.resources import LoyaltyWarehouse

SUMMARY_KEY = AssetKey(["intermediate", "int_clv_calibration_summary"])
FIT_KEY = AssetKey(["intermediate", "int_clv_fit"])
PREDICTIONS_KEY = AssetKey(["intermediate", "int_clv_member_predictions"])
# as in DuckDB's dbt graph: the predictions read the fit too
DEPS = {FIT_KEY: [SUMMARY_KEY], PREDICTIONS_KEY: [SUMMARY_KEY, FIT_KEY]}
DESCRIPTIONS = {
    FIT_KEY: "BG/NBD and Gamma-Gamma fits per calibration (written by Python: no dbt Python models here).",
    PREDICTIONS_KEY: "Members scored with the fits (written by Python: no dbt Python models here).",
}
ENGINE_KIND = {"postgres": "postgres", "spark_session": "spark", "spark_thrift": "spark"}


def step_fit_metadata(fit: pd.DataFrame) -> dict[str, Any]:
    """The as-of estimates, log-likelihoods and populations of the step's fit: what `marts/clv_model_fit`
    carries on DuckDB (read here from an in-memory copy)."""
    with duckdb.connect() as con:
        con.register("as_of_fit", fit[fit["calibration"] == AS_OF])
        con.execute("create schema marts")
        con.execute("create table marts.clv_model_fit as select * from as_of_fit")
        return fit_metadata(con)


def build_clv_asset(dbt_target: str, pool: str, dbt_keys: Collection[AssetKey]) -> Any | None:
    """The CLV fit and predictions as a Python asset on a target without dbt Python models; None on DuckDB
    (or whenever the dbt assets, `dbt_keys`, are those tables already)."""
    if dbt_target not in TARGETS or set(DESCRIPTIONS) & set(dbt_keys):
        return None
    kind = ENGINE_KIND[dbt_target]

    @multi_asset(
        name="predictive_clv_step",
        specs=[
            AssetSpec(
                key, deps=DEPS[key], group_name="intermediate", kinds={"python", kind}, description=text
            )
            for key, text in DESCRIPTIONS.items()
        ],
        pool=pool,
    )
    def predictive_clv_step(
        context: AssetExecutionContext, warehouse: LoyaltyWarehouse
    ) -> Iterator[MaterializeResult]:
        dbt_vars = {name: value for name, value in warehouse.dbt_vars().items() if name.startswith("clv_")}
        tables = run_on_target(dbt_target, dbt_vars)
        context.log.info(
            f"CLV step written to {dbt_target}: "
            + ", ".join(f"{name} ({len(frame)} rows)" for name, frame in tables.items())
        )
        for key in DESCRIPTIONS:
            extra = step_fit_metadata(tables["int_clv_fit"]) if key == FIT_KEY else {}
            yield MaterializeResult(
                asset_key=key, metadata={"rows": len(tables[key.path[-1]]), "target": dbt_target, **extra}
            )

    return predictive_clv_step
