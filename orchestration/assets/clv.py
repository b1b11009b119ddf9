"""Predictive CLV where dbt Python models do not run (PostgreSQL, Spark): the CLV marts as one Python
multi-asset that reads `int_clv_calibration_summary` from the target warehouse, calls
loyalty_kpi.clv.run (what the DuckDB Python models call) and writes the three marts there
(loyalty_kpi.clv_warehouse).

On DuckDB the dbt assets are those marts already, so this asset is not defined: either way the graph has
`marts/clv_model_fit`, `marts/member_clv_predicted` and `marts/clv_holdout_validation`, downstream of
`intermediate/int_clv_calibration_summary`."""

from collections.abc import Collection, Iterator
from typing import Any

import duckdb
import pandas as pd
from dagster import AssetExecutionContext, AssetKey, AssetSpec, MaterializeResult, multi_asset

from loyalty_kpi.clv_warehouse import TARGETS, run_on_target
from orchestration.clv_metadata import CLV_FIT, CLV_HOLDOUT, CLV_MEMBERS, clv_metadata
from orchestration.resources import LoyaltyWarehouse

SUMMARY_KEY = AssetKey(["intermediate", "int_clv_calibration_summary"])
DESCRIPTIONS = {
    CLV_FIT: "BG/NBD and Gamma-Gamma parameters as of A (written by Python: no dbt Python models here).",
    CLV_MEMBERS: "Predictive CLV per member (written by Python: no dbt Python models here).",
    CLV_HOLDOUT: "BG/NBD holdout validation by calibration frequency (written by Python).",
}
ENGINE_KIND = {"postgres": "postgres", "spark_session": "spark", "spark_thrift": "spark"}


def _metadata(marts: dict[str, pd.DataFrame]) -> dict[AssetKey, dict[str, Any]]:
    """The DuckDB build's CLV metadata, computed on the marts just written (an in-memory copy)."""
    with duckdb.connect() as con:
        con.execute("create schema marts")
        for name, frame in marts.items():
            con.register(f"frame_{name}", frame)
            con.execute(f"create table marts.{name} as select * from frame_{name}")
        return clv_metadata(con)


def build_clv_asset(dbt_target: str, pool: str, dbt_keys: Collection[AssetKey]) -> Any | None:
    """The CLV marts as a Python asset on a target without dbt Python models; None on DuckDB (or whenever
    the dbt assets, `dbt_keys`, are the CLV marts already)."""
    if dbt_target not in TARGETS or set(DESCRIPTIONS) & set(dbt_keys):
        return None
    kind = ENGINE_KIND[dbt_target]

    @multi_asset(
        name="predictive_clv_marts",
        specs=[
            AssetSpec(key, deps=[SUMMARY_KEY], group_name="marts", kinds={"python", kind}, description=text)
            for key, text in DESCRIPTIONS.items()
        ],
        pool=pool,
    )
    def predictive_clv_marts(
        context: AssetExecutionContext, warehouse: LoyaltyWarehouse
    ) -> Iterator[MaterializeResult]:
        dbt_vars = {name: value for name, value in warehouse.dbt_vars().items() if name.startswith("clv_")}
        marts = run_on_target(dbt_target, dbt_vars)
        context.log.info(
            f"CLV marts written to {dbt_target}: "
            + ", ".join(f"{name} ({len(frame)} rows)" for name, frame in marts.items())
        )
        extra = _metadata(marts)
        for key in DESCRIPTIONS:
            yield MaterializeResult(
                asset_key=key, metadata={"rows": len(marts[key.path[-1]]), "target": dbt_target, **extra[key]}
            )

    return predictive_clv_marts
