"""Bad raw input: every class of bad row is quarantined with its reason or normalised, nothing is lost
(raw = valid + quarantined + duplicates), and no KPI moves — the worked example's marts stay exact."""

import csv
import shutil
from pathlib import Path

import pandas as pd
import pytest

from tests.python.reference import compare_frames
from tests.python.support import WORKED_EXAMPLE, Build, BuildFn

BAD_TRANSACTIONS = [
    # (transaction_id, member_id, transacted_at, amount, transaction_type, channel) -> expected reason
    (("", "M01", "2024-02-01 10:00:00", "10.0", "purchase", "web"), "missing_transaction_id"),
    (("T001", "M01", "2024-01-05 12:00:00", "30.0", "purchase", "store"), "identical_duplicate"),
    (("T002", "M01", "2024-02-09 12:00:00", "99.0", "purchase", "store"), "conflicting_duplicate"),
    (("B004", "M99", "2024-03-01 10:00:00", "10.0", "purchase", "web"), "unknown_member"),
    (("B005", "M01", "2024-03-01 10:00:00", "-5.0", "purchase", "web"), "negative_amount"),
    (("B006", "M01", "2024-03-01 10:00:00", "ten", "purchase", "web"), "invalid_amount"),
    (("B007", "M01", "2024-03-01 10:00:00", "", "purchase", "web"), "missing_amount"),
    (("B008", "M01", "2024-03-01 10:00:00", "10.0", "gift", "web"), "unknown_transaction_type"),
    (("B009", "M01", "2099-01-01 10:00:00", "10.0", "purchase", "web"), "future_timestamp"),
    (("B010", "M01", "1980-01-01 10:00:00", "10.0", "purchase", "web"), "timestamp_before_program_start"),
    (("B011", "M01", "31/02/2024 10:00", "10.0", "purchase", "web"), "unparseable_timestamp"),
    (("B012", "M01", "", "10.0", "purchase", "web"), "missing_timestamp"),
]
BAD_MEMBERS = [
    # (member_id, enrolled_at, enrollment_channel, tier, referred_by_member_id, email, cancelled_at)
    (("", "2024-01-02 09:00:00", "web", "bronze", "", "x@example.com", ""), "missing_member_id"),
    (("M01", "2024-01-02 09:00:00", "web", "bronze", "", "m01@example.com", ""), "identical_duplicate"),
    (
        ("B20", "2024-03-01 10:00:00", "web", "bronze", "", "", "2024-02-01 10:00:00"),
        "cancelled_before_enrolled",
    ),
    (("B21", "2024-03-01 10:00:00", "web", "diamond", "", "", ""), "unknown_tier"),
    (("B22", "yesterday", "web", "bronze", "", "", ""), "unparseable_timestamp"),
]

# The optional tables, absent from the worked example, delivered with bad rows only: every row is
# quarantined, so the KPIs are those of the absent tables. (Duplicates and versions are the same macro as
# for members and transactions, tested there.)
BAD_OPTIONAL_ROWS: dict[str, tuple[tuple[str, ...], list[tuple[tuple[str, ...], str]]]] = {
    "survey_responses": (
        (
            "response_id",
            "member_id",
            "responded_at",
            "recommend_score",
            "repurchase_score",
            "upsell_score",
            "comment",
        ),
        [
            (("S1", "M01", "2024-02-01 10:00:00", "11", "", "", ""), "score_out_of_range"),
            (("S2", "M01", "2024-02-01 10:00:00", "9", "0", "", "great"), "score_out_of_range"),
            (("S3", "M01", "2024-02-01 10:00:00", "9", "", "7", ""), "score_out_of_range"),
            (("S4", "M01", "2024-02-01 10:00:00", "nine", "", "", ""), "invalid_score"),
            (("S5", "M01", "2024-02-01 10:00:00", "", "3", "", ""), "missing_score"),
            (("S6", "M99", "2024-02-01 10:00:00", "9", "", "", ""), "unknown_member"),
            (("", "M01", "2024-02-01 10:00:00", "9", "", "", ""), "missing_key"),
            (("S7", "M01", "2099-02-01 10:00:00", "9", "", "", ""), "future_timestamp"),
        ],
    ),
    "tier_changes": (
        ("tier_change_id", "member_id", "changed_at", "from_tier", "to_tier", "reason"),
        [
            (("C1", "M01", "2024-02-01 10:00:00", "bronze", "diamond", ""), "unknown_tier"),
            (("C2", "M99", "2024-02-01 10:00:00", "bronze", "silver", ""), "unknown_member"),
            (("C3", "M01", "not a date", "bronze", "silver", ""), "unparseable_timestamp"),
            (("C4", "", "2024-02-01 10:00:00", "bronze", "silver", ""), "missing_member_id"),
        ],
    ),
    "order_lines": (
        ("order_line_id", "transaction_id", "product_id", "category", "quantity", "line_amount"),
        [
            (("L1", "T999", "P1", "shoes", "1", "10.00"), "unknown_transaction"),
            (("L2", "B005", "P1", "shoes", "1", "10.00"), "unknown_transaction"),  # a quarantined purchase
            (("L3", "T001", "P1", "shoes", "0", "10.00"), "invalid_count"),
            (("L4", "T001", "P1", "shoes", "1", "-1"), "negative_amount"),
            (("L5", "T001", "P1", "shoes", "1", "abc"), "invalid_amount"),
            (("", "T001", "P1", "shoes", "1", "5"), "missing_key"),
        ],
    ),
    "marketing_spend": (  # with a column that is not in the contract (schema drift: ignored, reported)
        ("spend_date", "channel", "amount", "campaign"),
        [
            (("2024-02-30", "web", "100", "spring"), "unparseable_timestamp"),
            (("2024-02-01", "web", "-100", "spring"), "negative_amount"),
            (("", "web", "100", "spring"), "missing_timestamp"),
        ],
    ),
    "program_visits": (
        ("visit_date", "channel", "visitors"),
        [
            (("2024-02-01", "web", "-3"), "invalid_count"),
            (("2024-02-01", "store", "3.5"), "invalid_count"),
            (("2099-02-01", "web", "3"), "future_timestamp"),
        ],
    ),
}

# The event tables, absent from the worked example, delivered with good rows (expected reason None) and
# bad ones: the good ones count once in the points and engagement marts, the bad ones are quarantined.
EVENT_ROWS: dict[str, tuple[tuple[str, ...], list[tuple[tuple[str, ...], str | None]]]] = {
    "point_events": (
        ("point_event_id", "member_id", "occurred_at", "event_type", "points", "source", "transaction_id"),
        [
            (("E1", "M01", "2024-01-05 12:00:00", "earn", "100", "purchase", "T001"), None),
            (("E1", "M01", "2024-01-05 12:00:00", "earn", "100", "purchase", "T001"), "identical_duplicate"),
            (("E2", "M01", "2024-02-10 12:00:00", "redeem", "-30", "reward", ""), "conflicting_duplicate"),
            (("E2", "M01", "2024-02-11 12:00:00", "redeem", "-40", "reward", ""), None),  # latest wins
            (("E3", "M99", "2024-01-05 12:00:00", "earn", "10", "purchase", ""), "unknown_member"),
            (("E4", "M01", "2024-01-05 12:00:00", "gift", "10", "promotion", ""), "unknown_event_type"),
            (("E5", "M01", "2024-01-05 12:00:00", "earn", "12.5", "purchase", ""), "invalid_points"),
            (("E6", "M01", "2099-01-05 12:00:00", "earn", "10", "purchase", ""), "future_timestamp"),
            (("", "M01", "2024-01-05 12:00:00", "earn", "10", "purchase", ""), "missing_key"),
            (("E7", "M02", "2024-01-20 10:00:00", " Earn ", "50", "birthday", ""), None),  # normalised
        ],
    ),
    "engagement_events": (
        ("engagement_event_id", "member_id", "occurred_at", "event_type", "channel"),
        [
            (("G1", "M01", "2024-01-06 10:00:00", "app_open", "app"), None),
            (("G1", "M01", "2024-01-06 10:00:00", "app_open", "app"), "identical_duplicate"),
            (("G2", "M02", "2024-01-07 10:00:00", "email_click", "email"), "conflicting_duplicate"),
            (("G2", "M02", "2024-01-08 10:00:00", " Review ", "web"), None),  # latest wins, normalised
            (("G3", "M99", "2024-01-06 10:00:00", "app_open", "app"), "unknown_member"),
            (("G4", "M01", "2024-01-06 10:00:00", "purchase", "web"), "unknown_event_type"),
            (("G5", "M01", "2024-01-06 10:00:00", " ", "web"), "unknown_event_type"),
            (("G6", "M01", "2099-01-06 10:00:00", "app_open", "app"), "future_timestamp"),
            (("G7", "M01", "not a date", "app_open", "app"), "unparseable_timestamp"),
        ],
    ),
}


def _append(path: Path, rows: list[tuple[str, ...]]) -> None:
    with path.open("a", newline="") as out:
        csv.writer(out, lineterminator="\n").writerows(rows)


@pytest.fixture(scope="module")
def dirty_raw(tmp_path_factory: pytest.TempPathFactory) -> Path:
    raw = tmp_path_factory.mktemp("dirty") / "raw"
    shutil.copytree(WORKED_EXAMPLE / "raw", raw)
    transactions = pd.read_csv(raw / "transactions.csv", dtype=str, keep_default_na=False)
    # enum variants are normalised, not quarantined
    transactions.loc[transactions["transaction_id"] == "T011", "transaction_type"] = "  Refund "
    transactions.loc[transactions["transaction_id"] == "T001", "transaction_type"] = "PURCHASE"
    transactions.to_csv(raw / "transactions.csv", index=False)
    # the duplicate of T001 must be identical to the row as delivered (after the edit above)
    bad_transactions = [
        tuple("PURCHASE" if (row[0] == "T001" and i == 4) else value for i, value in enumerate(row))
        for row, _ in BAD_TRANSACTIONS
    ]
    _append(raw / "transactions.csv", bad_transactions)
    _append(raw / "members.csv", [row for row, _ in BAD_MEMBERS])
    for table, (header, rows) in BAD_OPTIONAL_ROWS.items():
        _append(raw / f"{table}.csv", [header, *(row for row, _ in rows)])
    for table, (header, event_rows) in EVENT_ROWS.items():
        _append(raw / f"{table}.csv", [header, *(row for row, _ in event_rows)])
    return raw


@pytest.fixture(scope="module")
def dirty_build(dbt_build: BuildFn, dirty_raw: Path) -> Build:
    build = dbt_build(dirty_raw, dbt_vars={"quarantine_error_pct": 100})
    assert build.returncode == 0, build.output
    return build


def test_every_bad_row_is_quarantined_with_its_reason(dirty_build: Build) -> None:
    quarantine = dirty_build.table("quarantine", schema="quarantine")
    found = sorted(zip(quarantine["raw_table"], quarantine["reason"], strict=True))
    expected = sorted(
        [("transactions", reason) for _, reason in BAD_TRANSACTIONS]
        + [("members", reason) for _, reason in BAD_MEMBERS]
        + [(table, reason) for table, (_, rows) in BAD_OPTIONAL_ROWS.items() for _, reason in rows]
        + [(table, r) for table, (_, rows) in EVENT_ROWS.items() for _, r in rows if r is not None]
    )
    assert found == expected
    assert quarantine["message"].notna().all()
    assert not quarantine["original_values"].str.contains("@example.com").any(), "PII left in the quarantine"


def test_the_quarantine_keeps_the_values_as_delivered(dirty_build: Build) -> None:
    """Each row that is not staged carries its raw values as delivered, read again from the raw files by
    (delivery, row hash): the base models do not carry them past the verdict."""
    quarantine = dirty_build.table("quarantine", schema="quarantine")
    assert quarantine["original_values"].notna().all()
    for table, (header, event_rows) in EVENT_ROWS.items():
        shown = quarantine[quarantine["raw_table"] == table]
        expected = [
            (reason, "; ".join(f"{name}={raw or '<null>'}" for name, raw in zip(header, row, strict=True)))
            for row, reason in event_rows
            if reason is not None
        ]
        assert sorted(zip(shown["reason"], shown["original_values"], strict=True)) == sorted(expected)
    rows = quarantine[quarantine["raw_table"] == "transactions"]
    transactions = rows.set_index("reason")["original_values"]
    assert "amount=ten" in transactions["invalid_amount"]
    assert "transacted_at=31/02/2024 10:00" in transactions["unparseable_timestamp"]
    assert "amount=99.0" in transactions["conflicting_duplicate"]
    assert transactions["identical_duplicate"].startswith("transaction_id=T001; ")


def test_nothing_is_lost(dirty_build: Build) -> None:
    reconciliation = dirty_build.table("raw_reconciliation").set_index("raw_table")
    assert (reconciliation["unaccounted_rows"] == 0).all()
    members = reconciliation.loc["members"]
    assert (members.raw_rows, members.valid_rows, members.quarantined_rows, members.duplicate_rows) == (
        17,
        12,
        4,
        1,
    )
    transactions = reconciliation.loc["transactions"]
    assert (transactions.raw_rows, transactions.valid_rows) == (37, 25)
    assert (transactions.quarantined_rows, transactions.duplicate_rows) == (11, 1)
    for table, (_, rows) in BAD_OPTIONAL_ROWS.items():
        optional = reconciliation.loc[table]
        assert (optional.raw_rows, optional.valid_rows, optional.quarantined_rows) == (
            len(rows),
            0,
            len(rows),
        )
    for table, (_, event_rows) in EVENT_ROWS.items():
        reasons = [reason for _, reason in event_rows]
        events = reconciliation.loc[table]
        assert (events.raw_rows, events.valid_rows, events.quarantined_rows, events.duplicate_rows) == (
            len(reasons),
            reasons.count(None),
            len(reasons) - reasons.count(None) - reasons.count("identical_duplicate"),
            reasons.count("identical_duplicate"),
        )


def test_events_count_once_and_only_when_valid(dirty_build: Build) -> None:
    """A re-delivered event counts once, of two versions the latest, and no quarantined event counts."""
    points = dirty_build.table("points_monthly").set_index("month_start")
    january, february = points.loc[pd.Timestamp("2024-01-01")], points.loc[pd.Timestamp("2024-02-01")]
    assert (january.points_issued, january.points_redeemed) == (150, 0)  # E1 once + E7
    assert (february.points_issued, february.points_redeemed) == (0, 40)  # E2's latest version
    engagement = dirty_build.table("engagement_monthly")
    january_events = engagement[engagement["month_start"] == pd.Timestamp("2024-01-01")]
    by_type = dict(zip(january_events["event_type"], january_events["events"], strict=True))
    assert by_type.pop("purchase") > 0
    assert by_type == {"app_open": 1, "review": 1}  # G1 once; G2's latest version


@pytest.mark.parametrize(
    ("mart", "keys"),
    [
        ("member_base_flow_monthly", ["month_start"]),
        ("kpi_monthly", ["month_start"]),
        ("members", ["member_id"]),
        ("cohort_retention_monthly", ["cohort_month", "months_since_first_purchase"]),
    ],
)
def test_no_kpi_moves(dirty_build: Build, mart: str, keys: list[str]) -> None:
    expected = pd.read_csv(WORKED_EXAMPLE / "expected" / f"{mart}.csv", dtype=str, keep_default_na=False)
    differences = compare_frames(dirty_build.table(mart), expected, keys)
    assert not differences, "\n".join(differences)


def test_quarantine_above_the_threshold_fails_the_build(dbt_build: BuildFn, dirty_raw: Path) -> None:
    build = dbt_build(dirty_raw)  # default quarantine_error_pct: 5
    assert build.returncode != 0
    assert "raw_reconciliation_quarantine_rate_below_threshold" in build.output


def test_an_extra_column_is_ignored_and_reported(dirty_build: Build) -> None:
    assert "marketing_spend.csv' has columns that are not in the raw contract, ignored: campaign" in " ".join(
        dirty_build.output.split()
    )


@pytest.fixture(scope="module")
def two_deliveries(dbt_build: BuildFn, tmp_path_factory: pytest.TempPathFactory) -> Build:
    """The worked example with transactions delivered as a directory of two files (docs/raw_contract.md
    "Deliveries"): the original rows, then a file re-delivering three of them and an orphan."""
    raw = tmp_path_factory.mktemp("deliveries") / "raw"
    shutil.copytree(WORKED_EXAMPLE / "raw", raw)
    transactions = pd.read_csv(raw / "transactions.csv", dtype=str, keep_default_na=False)
    (raw / "transactions.csv").unlink()
    (raw / "transactions").mkdir()
    transactions.to_csv(raw / "transactions" / "2024-06-01.csv", index=False)
    second = pd.concat(
        [
            transactions.head(3),
            pd.DataFrame(
                [["B100", "M99", "2024-03-01 10:00:00", "10.0", "purchase", "web"]],
                columns=transactions.columns,
            ),
        ]
    )
    second.to_csv(raw / "transactions" / "2024-06-02.csv", index=False)
    build = dbt_build(raw, dbt_vars={"quarantine_error_pct": 100})
    assert build.returncode == 0, build.output
    return build


def test_each_delivery_is_reconciled(two_deliveries: Build) -> None:
    reconciliation = two_deliveries.table("raw_reconciliation")
    assert (reconciliation["unaccounted_rows"] == 0).all()
    rows = {
        (row.raw_table, row.delivery): (
            row.raw_rows,
            row.valid_rows,
            row.quarantined_rows,
            row.duplicate_rows,
        )
        for row in reconciliation.itertuples()
        if row.raw_table in ("transactions", "members")
    }
    assert rows == {
        ("members", "members.csv"): (12, 12, 0, 0),
        ("transactions", "transactions/2024-06-01.csv"): (25, 25, 0, 0),
        # the re-delivered rows collapse into the first delivery's, the orphan is quarantined
        ("transactions", "transactions/2024-06-02.csv"): (4, 0, 1, 3),
    }
    quarantine = two_deliveries.table("quarantine", schema="quarantine")
    assert set(quarantine["delivery"]) == {"transactions/2024-06-02.csv"}
    # an absent optional table: one row, no delivery
    absent = reconciliation[reconciliation["raw_table"] == "point_events"]
    assert absent["delivery"].isna().all() and len(absent) == 1


def test_deliveries_move_no_kpi(two_deliveries: Build) -> None:
    expected = pd.read_csv(WORKED_EXAMPLE / "expected" / "kpi_monthly.csv", dtype=str, keep_default_na=False)
    differences = compare_frames(two_deliveries.table("kpi_monthly"), expected, ["month_start"])
    assert not differences, "\n".join(differences)
