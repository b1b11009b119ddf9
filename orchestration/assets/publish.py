"""Publishing for BI readers: after the marts and their blocking checks, copy them into the publish
directory (a DuckDB file and Parquet files swapped in atomically: loyalty_kpi.publish). On PostgreSQL and
Spark the marts are read from the target into frames and published from those: the same files."""

from pathlib import Path

from dagster import AssetExecutionContext, AssetKey, MaterializeResult, MetadataValue, asset

from loyalty_kpi.publish import publish, publish_frames
from orchestration.resources import LoyaltyWarehouse


def build_publish_asset(mart_keys: list[AssetKey], publish_dir: Path):
    """The publish asset, downstream of every mart."""

    @asset(
        key=AssetKey(["published", "marts"]),
        group_name="published",
        deps=mart_keys,
        kinds={"duckdb", "parquet"},
        description=f"The marts for BI readers in {publish_dir} (read-only copies, swapped in atomically).",
    )
    def published_marts(context: AssetExecutionContext, warehouse: LoyaltyWarehouse) -> MaterializeResult:
        if warehouse.target == "duckdb":
            with warehouse.read_only():  # waits while a writer still holds the warehouse
                pass
            publication = publish(Path(warehouse.duckdb_path), publish_dir)
        else:
            # PostgreSQL, Spark: the marts are read into frames and published from those (the same files)
            publication = publish_frames(
                warehouse.read_marts(), publish_dir, source=f"target {warehouse.target}"
            )
        context.log.info(f"published build {publication.build_id} from {warehouse.target} to {publish_dir}")
        return MaterializeResult(
            metadata={
                "build_id": publication.build_id,
                "duckdb_file": MetadataValue.path(str(publication.duckdb_file)),
                "parquet_dir": MetadataValue.path(str(publication.parquet_dir)),
                **{f"rows/{mart}": rows for mart, rows in publication.row_counts.items()},
            }
        )

    return published_marts
