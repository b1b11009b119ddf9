"""Every dbt seed, model and snapshot as a Dagster asset; dbt data tests as asset checks (error-severity
tests blocking). The marts carry the headline KPIs as materialization metadata."""

import json
from collections.abc import Iterable, Iterator, Mapping
from typing import Any

from dagster import (
    AssetCheckKey,
    AssetExecutionContext,
    AssetKey,
    AssetsDefinition,
    Backoff,
    Failure,
    Output,
    RetryPolicy,
    RetryRequested,
)
from dagster_dbt import (
    DagsterDbtTranslator,
    DagsterDbtTranslatorSettings,
    DbtCliResource,
    asset_utils,
    dbt_assets,
)
from dagster_dbt.asset_utils import (
    get_dbt_test_names_for_check_keys,
    get_manifest_and_translator_from_dbt_assets,
)

from loyalty_kpi.dbt import WITHOUT_UNIT_TESTS
from orchestration.assets.raw import raw_asset_key
from orchestration.clv_metadata import CLV_ASSETS, clv_metadata
from orchestration.headlines import headline_metadata
from orchestration.project import loyalty_project
from orchestration.resources import LOCK_MESSAGE, LoyaltyWarehouse

WAREHOUSE_POOL = "loyalty_warehouse"

# dagster-dbt runs a step that selects more than 200 dbt resources (the first dbt step of the job off DuckDB:
# its models and the source tests) against a selectors.yml in a temporary copy of the whole project
# directory, which it never removes: here .venv, .git and data/ (the DuckDB warehouse), GBs per run. This
# project's largest selection, every node's name, is about 25 kB: one command-line argument may be 128 kB
# on Linux, so selections stay on the command line (test_orchestration checks the bound).
SELECTION_ARGS_LIMIT = 1_000
asset_utils._SELECTION_ARGS_THRESHOLD = SELECTION_ARGS_LIMIT  # type: ignore[misc]


def mart_key(name: str) -> AssetKey:
    """The asset key of a mart (dbt's default keys are schema / model name)."""
    return AssetKey(["marts", name])


HEADLINE_ASSETS = {mart_key("kpi_monthly"), mart_key("member_base_flow_monthly")}
# Marts whose materialization carries metadata read from the warehouse once dbt has finished.
METADATA_ASSETS = HEADLINE_ASSETS | CLV_ASSETS
DEFAULT_OWNER = "team:analytics-engineering"


class LoyaltyDbtTranslator(DagsterDbtTranslator):
    """Sources map onto the raw file assets (or the key their meta names: the CLV step's tables); groups
    by layer; owners and tags from dbt meta."""

    def get_asset_key(self, dbt_resource_props: Mapping[str, Any]) -> AssetKey:
        meta = dbt_resource_props.get("config", {}).get("meta") or dbt_resource_props.get("meta", {})
        named = meta.get("dagster", {}).get("asset_key")
        if dbt_resource_props["resource_type"] == "source" and not named:
            return raw_asset_key(dbt_resource_props["name"])
        return super().get_asset_key(dbt_resource_props)

    def get_group_name(self, dbt_resource_props: Mapping[str, Any]) -> str | None:
        resource_type = dbt_resource_props["resource_type"]
        if resource_type in ("seed", "snapshot"):
            return f"{resource_type}s"
        fqn = dbt_resource_props["fqn"]
        return fqn[1] if len(fqn) > 2 else "models"

    def get_owners(self, dbt_resource_props: Mapping[str, Any]) -> list[str] | None:
        owner = dbt_resource_props.get("config", {}).get("meta", {}).get("owner")
        return [owner or DEFAULT_OWNER]

    def get_tags(self, dbt_resource_props: Mapping[str, Any]) -> Mapping[str, str]:
        tags = dict(super().get_tags(dbt_resource_props))
        group = self.get_group_name(dbt_resource_props)
        if group:
            tags["layer"] = group
        return tags


TRANSLATOR = LoyaltyDbtTranslator(settings=DagsterDbtTranslatorSettings(enable_asset_checks=True))


def _failed_nodes(invocation: Any) -> list[str]:
    try:
        run_results = invocation.get_artifact("run_results.json")
    except FileNotFoundError:
        return []
    return [
        f"{result['unique_id']} ({result['status']}): {(result.get('message') or '').strip()[:300]}"
        for result in run_results.get("results", [])
        if result.get("status") in ("error", "fail")
    ]


def step_test_selection(assets_def: AssetsDefinition, check_keys: Iterable[AssetCheckKey]) -> list[str]:
    """dbt arguments that make a step running part of the dbt assets test exactly its selected checks.

    Dagster runs the dbt assets in several steps when another asset sits between them (off DuckDB, the CLV
    step). dbt's default (eager) indirect selection would run, in the step of the seeds, every test with a
    seed among its parents, e.g. the relationships test of stg_loyalty__members on tiers, before that model
    is built; and `buildable` would skip tests whose other parents were built in an earlier step (e.g.
    assert_no_pii_in_marts). Dagster places each check in the step after all its parents: select those.
    The whole, unsubsetted dbt asset keeps dbt's default."""
    if (
        assets_def.keys_by_output_name == assets_def.node_keys_by_output_name
        and assets_def.check_specs_by_output_name == assets_def.node_check_specs_by_output_name
    ):
        return []
    manifest, _, _ = get_manifest_and_translator_from_dbt_assets([assets_def])
    tests = get_dbt_test_names_for_check_keys(TRANSLATOR, manifest, assets_def, check_keys)
    return ["--indirect-selection", "empty", *(["--select", " ".join(tests)] if tests else [])]


def build_args(
    warehouse: LoyaltyWarehouse, assets_def: AssetsDefinition, check_keys: Iterable[AssetCheckKey]
) -> list[str]:
    """The `dbt build` arguments of a step (dagster-dbt adds its selection): the warehouse's vars, the unit
    tests only if the warehouse resource asks for them, the step's data tests (step_test_selection)."""
    return [
        "build",
        "--vars",
        json.dumps(warehouse.dbt_vars()),
        *([] if warehouse.unit_tests else WITHOUT_UNIT_TESTS),
        *step_test_selection(assets_def, check_keys),
    ]


@dbt_assets(
    manifest=loyalty_project.manifest_path,
    project=loyalty_project,
    dagster_dbt_translator=TRANSLATOR,
    retry_policy=RetryPolicy(max_retries=2, delay=15, backoff=Backoff.EXPONENTIAL),
    pool=WAREHOUSE_POOL,
)
def loyalty_dbt_assets(
    context: AssetExecutionContext, dbt: DbtCliResource, warehouse: LoyaltyWarehouse
) -> Iterator[Any]:
    """`dbt build` of the selected nodes on the configured warehouse (build_args)."""
    invocation = dbt.cli(
        build_args(warehouse, context.assets_def, context.selected_asset_check_keys),
        context=context,
        raise_on_error=False,
    )
    held: list[Output] = []
    # the metadata is read from the DuckDB file: on another target there is none to read
    reads_duckdb = (dbt.target or "duckdb") == "duckdb"
    for event in invocation.stream():
        if isinstance(event, Output) and (
            held or (reads_duckdb and context.asset_key_for_output(event.output_name) in METADATA_ASSETS)
        ):
            # the warehouse is locked by dbt until it exits; the outputs after a held one wait too, so that
            # they still come in topological order (e.g. kpi_monthly_long after kpi_monthly)
            held.append(event)
        else:
            yield event
    if held:
        keys = {context.asset_key_for_output(event.output_name) for event in held} & METADATA_ASSETS
        extra: dict[AssetKey, dict[str, Any]] = {}
        with warehouse.read_only() as con:
            if keys & HEADLINE_ASSETS:
                extra.update(dict.fromkeys(HEADLINE_ASSETS, headline_metadata(con)))
            if keys & CLV_ASSETS:
                extra.update(clv_metadata(con))
        for event in held:
            key = context.asset_key_for_output(event.output_name)
            yield event.with_metadata({**event.metadata, **extra[key]}) if key in extra else event
    error = invocation.get_error()
    if error is None:
        return
    if LOCK_MESSAGE in str(error):
        raise RetryRequested(max_retries=3, seconds_to_wait=30) from error
    failed = _failed_nodes(invocation)
    raise Failure(
        description="dbt build failed: " + ("; ".join(failed) if failed else str(error)),
        metadata={"failed_nodes": "\n".join(failed) or "see the dbt log"},
    )
