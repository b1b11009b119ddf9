"""Both tier histories (DECISIONS.md "Tier history without tier_changes"): raw `tier_changes` when it has
rows, else the `members_snapshot` snapshot of members.tier, which records a change at each run that sees
a new tier. Two runs on one warehouse with a tier edited in between must give the tier marts that raw
tier_changes holding those changes would give (the brute-force reference)."""

from __future__ import annotations

import csv
import shutil
from datetime import UTC, datetime, timedelta
from pathlib import Path

import pandas as pd

from loyalty_kpi.dbt import run_dbt
from tests.python.reference import compare_frames, compute_reference
from tests.python.support import WORKED_EXAMPLE, Build

TIER_MARTS = {
    "tier_distribution_monthly": ["month_start", "tier"],
    "tier_migration_monthly": ["month_start", "from_tier", "to_tier"],
}
NEW_TIERS = {"M01": "gold", "M02": "silver"}


def _set_tiers(members_csv: Path, tiers: dict[str, str]) -> None:
    rows = list(csv.DictReader(members_csv.open(encoding="utf-8")))
    for row in rows:
        row["tier"] = tiers.get(row["member_id"], row["tier"])
    with members_csv.open("w", newline="", encoding="utf-8") as handle:
        writer = csv.DictWriter(handle, fieldnames=list(rows[0]))
        writer.writeheader()
        writer.writerows(rows)


def test_snapshot_builds_the_tier_history_without_tier_changes(tmp_path: Path) -> None:
    raw = tmp_path / "raw"
    raw.mkdir()
    for table in ("members", "transactions"):
        shutil.copy(WORKED_EXAMPLE / "raw" / f"{table}.csv", raw)
    as_of = (datetime.now(UTC) + timedelta(days=1)).date()  # the snapshot's changes are dated "now"
    warehouse = tmp_path / "warehouse.duckdb"
    args = (
        "build", "--select", "+tier_distribution_monthly", "+tier_migration_monthly",
        "--resource-type", "seed", "--resource-type", "snapshot", "--resource-type", "model",
    )  # fmt: skip
    dbt_vars = {"as_of_date": as_of.isoformat()}

    first = run_dbt(args, raw_dir=raw, duckdb_path=warehouse, dbt_vars=dbt_vars, work_dir=tmp_path)
    assert first.returncode == 0, first.stdout + first.stderr
    _set_tiers(raw / "members.csv", NEW_TIERS)
    second = run_dbt(args, raw_dir=raw, duckdb_path=warehouse, dbt_vars=dbt_vars, work_dir=tmp_path)
    assert second.returncode == 0, second.stdout + second.stderr
    build = Build(warehouse, second.returncode, second.stdout)

    changes = build.table("int_member_tier_changes", schema="intermediate")
    assert sorted(changes["member_id"]) == sorted(NEW_TIERS)
    assert set(changes["change_source"]) == {"members_snapshot"}
    assert dict(zip(changes["member_id"], changes["to_tier"], strict=True)) == NEW_TIERS

    # the same history as a raw tier_changes table, through the reference
    as_raw = tmp_path / "as_raw"
    shutil.copytree(raw, as_raw)
    history = changes[["tier_change_id", "member_id", "changed_at", "from_tier", "to_tier"]]
    history.to_csv(as_raw / "tier_changes.csv", index=False)
    reference = compute_reference(as_raw, as_of_date=as_of)
    for mart, keys in TIER_MARTS.items():
        differences = compare_frames(build.table(mart), reference[mart], keys)
        assert not differences, "\n".join(differences[:20])
    migration = build.table("tier_migration_monthly")
    month = pd.Timestamp(changes["changed_on"].iloc[0]).replace(day=1)
    moved = migration[(pd.to_datetime(migration["month_start"]) == month) & (migration["members"] > 0)]
    assert moved["upgrades"].sum() == 2 and moved["downgrades"].sum() == 0
