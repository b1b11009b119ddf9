"""Tests of the brute-force reference (reference.py): the worked example and small hand-made cases."""

from __future__ import annotations

import csv
import math
from datetime import date, timedelta
from decimal import Decimal
from pathlib import Path

import numpy as np
import pandas as pd
import pytest

from tests.python.reference import COLUMNS, compare_frames, compute_reference

EXAMPLE = Path(__file__).resolve().parents[1] / "fixtures" / "kpi_example"
EXPECTED_KEYS = {
    "member_base_flow_monthly": ["month_start"],
    "kpi_monthly": ["month_start"],
    "members": ["member_id"],
    "cohort_retention_monthly": ["cohort_month", "months_since_first_purchase"],
}
ALL_KEYS = {
    **EXPECTED_KEYS,
    "member_base_flow_monthly_by_channel": ["month_start", "enrollment_channel"],
    "tier_distribution_monthly": ["month_start", "tier"],
}
MEMBER_HEADER = ["member_id", "enrolled_at", "enrollment_channel", "tier", "cancelled_at"]
TX_HEADER = ["transaction_id", "member_id", "transacted_at", "amount", "transaction_type"]
TIER_HEADER = ["tier_change_id", "member_id", "changed_at", "from_tier", "to_tier"]


def write_csv(path: Path, header: list[str], rows: list[tuple[object, ...]]) -> None:
    """Write a raw CSV table (None is written as an empty cell)."""
    with path.open("w", newline="", encoding="utf-8") as handle:
        writer = csv.writer(handle)
        writer.writerow(header)
        writer.writerows([["" if v is None else v for v in row] for row in rows])


def write_raw(
    raw_dir: Path,
    members: list[tuple[object, ...]],
    transactions: list[tuple[object, ...]],
    tier_changes: list[tuple[object, ...]] | None = None,
) -> Path:
    """A raw directory with members, transactions and optionally tier_changes."""
    raw_dir.mkdir(parents=True, exist_ok=True)
    write_csv(raw_dir / "members.csv", MEMBER_HEADER, members)
    write_csv(raw_dir / "transactions.csv", TX_HEADER, transactions)
    if tier_changes is not None:
        write_csv(raw_dir / "tier_changes.csv", TIER_HEADER, tier_changes)
    return raw_dir


def by_month(frame: pd.DataFrame) -> dict[date, dict[str, object]]:
    """A monthly mart as {month_start: row}."""
    return {row["month_start"]: row for row in frame.to_dict("records")}


def is_null(value: object) -> bool:
    return value is None or (isinstance(value, float) and math.isnan(value)) or value is pd.NA


def assert_flow_identities(result: dict[str, pd.DataFrame]) -> None:
    """E = S - C + N + R and crr = 100 - churn + reactivation on every row; channels sum to the total."""
    for name in ("member_base_flow_monthly", "member_base_flow_monthly_by_channel"):
        for row in result[name].to_dict("records"):
            s, e, n, r, c = (
                row[k] for k in ("start_active", "end_active", "new_active", "reactivated", "churned")
            )
            assert e == s - c + n + r, row
            assert row["retained"] == s - c
            if s > 0:
                assert row["crr_pct"] == pytest.approx(
                    100 - row["churn_rate_pct"] + row["reactivation_rate_pct"]
                )
            else:
                assert all(is_null(row[k]) for k in ("crr_pct", "churn_rate_pct", "reactivation_rate_pct"))
    counts = ["start_active", "end_active", "new_active", "reactivated", "churned", "retained"]
    summed = result["member_base_flow_monthly_by_channel"].groupby("month_start")[counts].sum()
    overall = result["member_base_flow_monthly"].set_index("month_start")[counts]
    pd.testing.assert_frame_equal(summed.sort_index(), overall.sort_index(), check_names=False)


# ------------------------------------------------------------------------------------- worked example


@pytest.fixture(scope="module")
def example() -> dict[str, pd.DataFrame]:
    return compute_reference(EXAMPLE / "raw")


@pytest.mark.parametrize("name", sorted(EXPECTED_KEYS))
def test_worked_example_matches_expected(example: dict[str, pd.DataFrame], name: str) -> None:
    expected = pd.read_csv(EXAMPLE / "expected" / f"{name}.csv", dtype=object, keep_default_na=False)
    assert set(expected.columns) <= set(example[name].columns)
    assert compare_frames(example[name], expected, EXPECTED_KEYS[name]) == []


def test_marts_have_spec_columns(example: dict[str, pd.DataFrame]) -> None:
    assert set(example) == set(COLUMNS)
    for name, frame in example.items():
        assert list(frame.columns) == COLUMNS[name], name


def test_worked_example_identities_and_channels(example: dict[str, pd.DataFrame]) -> None:
    assert_flow_identities(example)
    channels = example["member_base_flow_monthly_by_channel"]
    assert sorted(channels["enrollment_channel"].unique()) == ["app", "store", "web"]
    assert len(channels) == 3 * len(example["member_base_flow_monthly"])  # every channel every month


def test_worked_example_types(example: dict[str, pd.DataFrame]) -> None:
    kpi = example["kpi_monthly"]
    assert all(type(v) is date for v in kpi["month_start"])
    assert kpi["is_complete_month"].dtype == bool
    m10 = example["members"].set_index("member_id").loc["M10"]
    assert m10["first_purchase_date"] == date(2024, 4, 1)  # 2024-03-31T22:15:00-03:00
    assert m10["enrolled_at"] == pd.Timestamp("2024-04-01 01:30:00")  # 2024-03-31T23:30:00-02:00, naive UTC


def test_as_of_date_cuts_later_rows() -> None:
    result = compute_reference(EXAMPLE / "raw", as_of_date=date(2024, 6, 30))
    kpi = by_month(result["kpi_monthly"])
    assert max(kpi) == date(2024, 6, 1) and kpi[date(2024, 6, 1)]["is_complete_month"]
    members = result["members"].set_index("member_id")
    assert members.loc["M12", "historical_clv"] == 55.0  # the July refund is after A
    assert members.loc["M11", "last_purchase_date"] == date(2024, 5, 3)
    assert members.loc["M11", "recency_days"] == (date(2024, 6, 30) - date(2024, 5, 3)).days


def test_parquet_wins_over_csv_and_gives_same_marts(tmp_path: Path, example: dict[str, pd.DataFrame]) -> None:
    """Parquet input with tz-aware timestamps (in a non-UTC zone) gives the same marts as the CSV input."""
    for name, stamps in (("members", ["enrolled_at", "cancelled_at"]), ("transactions", ["transacted_at"])):
        frame = pd.read_csv(EXAMPLE / "raw" / f"{name}.csv", dtype=object, keep_default_na=False)
        frame = frame.replace("", None)
        for column in stamps:
            utc = pd.to_datetime(frame[column], utc=True, format="ISO8601")
            frame[column] = utc.dt.tz_convert("America/Sao_Paulo")
        if name == "transactions":
            frame["amount"] = frame["amount"].astype(float)
        frame.to_parquet(tmp_path / f"{name}.parquet")
    write_csv(tmp_path / "transactions.csv", TX_HEADER, [])  # would change everything if it were read
    result = compute_reference(tmp_path)
    for name, keys in ALL_KEYS.items():
        assert compare_frames(result[name], example[name], keys) == [], name


# ----------------------------------------------------------------------------------- hand-made cases


def test_tier_change_mid_month(tmp_path: Path) -> None:
    """Tier on e: latest change effective on or before e; before the first change, its from_tier."""
    raw = write_raw(
        tmp_path,
        members=[
            ("T1", "2024-01-01 09:00:00", "web", " Silver ", None),
            ("T2", "2024-01-05 09:00:00", "APP", "platinum", None),
            ("T3", "2024-01-03 09:00:00", "store", "platinum", None),
            ("T4", "2024-02-20 09:00:00", "store", "bronze", "2024-03-01 08:00:00"),
        ],
        transactions=[("G1", None, "2024-03-10 12:00:00", "20", "purchase")],  # A = 2024-03-10
        tier_changes=[
            ("C1", "T1", "2024-02-15 10:00:00", "bronze", "silver"),  # mid-February
            ("C2", "T2", "2024-01-31T22:00:00-03:00", "gold", "Platinum"),  # = 2024-02-01 01:00 UTC
            ("C4", "T3", "2024-02-10 17:00:00", "silver", "gold"),  # same day, later: wins
            ("C3", "T3", "2024-02-10 08:00:00", "bronze", "silver"),
            ("C5", "T3", "2024-03-20 09:00:00", "gold", "platinum"),  # after A: not seen on 2024-03-10
        ],
    )
    result = compute_reference(raw)
    dist = result["tier_distribution_monthly"]
    counts = {(row["month_start"], row["tier"]): row["members"] for row in dist.to_dict("records")}
    shares = {(row["month_start"], row["tier"]): row["share_pct"] for row in dist.to_dict("records")}
    tiers = ["bronze", "silver", "gold", "platinum"]
    jan, feb, mar = date(2024, 1, 1), date(2024, 2, 1), date(2024, 3, 1)
    # Jan 31: T1 bronze (C1 later), T2 gold (C2 is Feb 1 in UTC), T3 bronze (first change's from_tier).
    assert [counts[jan, t] for t in tiers] == [2, 0, 1, 0]
    # Feb 29: T1 silver, T2 platinum, T3 gold, T4 bronze (no change: members.tier).
    assert [counts[feb, t] for t in tiers] == [1, 1, 1, 1]
    # Mar 10 (= A): T4 cancelled on Mar 1; T3 still gold.
    assert [counts[mar, t] for t in tiers] == [0, 1, 1, 1]
    assert [shares[jan, t] for t in tiers] == pytest.approx([200 / 3, 0, 100 / 3, 0])
    assert [shares[mar, t] for t in tiers] == pytest.approx([0, 100 / 3, 100 / 3, 100 / 3])
    assert list(dist[dist["month_start"] == jan]["tier_rank"]) == [1, 2, 3, 4]
    members = result["members"].set_index("member_id")
    assert members["current_tier"].to_dict() == {
        "T1": "silver",
        "T2": "platinum",
        "T3": "platinum",
        "T4": "bronze",
    }
    assert members.loc["T2", "enrollment_channel"] == "app"


def test_clv_formula_on_13_months(tmp_path: Path) -> None:
    """P buys 10.00 on the 1st of every month Jan 2023 to Jan 2024 and gets a 4.00 refund on 2024-01-01;
    Q buys 40.00 once on 2023-01-01 (active to Mar 31 with W = 90, churned in April: S = 2, C = 1)."""
    firsts = [date(2023 + (i // 12), i % 12 + 1, 1) for i in range(13)]  # 2023-01-01 .. 2024-01-01
    purchases = [(f"P{i:02d}", "P", f"{day} 10:00:00", "10.00", "purchase") for i, day in enumerate(firsts)]
    raw = write_raw(
        tmp_path,
        members=[
            ("P", "2023-01-01 00:00:00", "web", "bronze", None),
            ("Q", "2023-01-01 00:00:00", "web", "bronze", None),
        ],
        transactions=[
            *purchases,
            ("R1", "P", "2024-01-01 12:00:00", "4.00", "refund"),
            ("Q1", "Q", "2023-01-01 11:00:00", "40.00", "purchase"),
        ],
    )
    result = compute_reference(raw)  # A = 2024-01-01
    flow = by_month(result["member_base_flow_monthly"])
    assert flow[date(2023, 4, 1)]["churn_rate_pct"] == 50.0
    assert is_null(flow[date(2023, 1, 1)]["churn_rate_pct"])  # S = 0
    clv = {month: row["clv_formula"] for month, row in by_month(result["kpi_monthly"]).items()}
    assert len(clv) == 13 and all(is_null(clv[date(2023, m, 1)]) for m in range(1, 12))
    # Dec 2023, T = Jan..Dec 2023: net revenue 12*10 + 40 = 160 over 13 purchases by 2 members:
    # aov 160/13, frequency 13/2; months with S > 0 are Feb..Dec (11), churn 0.5 in April only,
    # c = 0.5/11, lifespan = 1/(12c) = 11/6 years. clv = 160/13 * 13/2 * 11/6 = 80 * 11/6 = 146.67.
    assert clv[date(2023, 12, 1)] == pytest.approx(80 * 11 / 6, rel=1e-12)
    # Jan 2024, T = Feb 2023..Jan 2024: 12 purchases of 10 minus the 4 refund = 116, one member:
    # aov 116/12, frequency 12; S > 0 in all 12 months, c = 0.5/12, lifespan = 2. clv = 116 * 2 = 232.
    assert clv[date(2024, 1, 1)] == pytest.approx(232.0, rel=1e-12)
    half = by_month(compute_reference(raw, gross_margin_pct=50.0)["kpi_monthly"])
    assert half[date(2024, 1, 1)]["clv_formula"] == pytest.approx(116.0, rel=1e-12)
    assert_flow_identities(result)


def test_month_with_no_start_actives(tmp_path: Path) -> None:
    """W = 10: X buys 2024-01-25 (active Jan 31, churned Feb); March starts with S = 0, Y buys Mar 5."""
    raw = write_raw(
        tmp_path,
        members=[
            ("X", "2024-01-02 09:00:00", "web", "bronze", None),
            ("Y", "2024-01-02 09:00:00", "", "bronze", None),
        ],
        transactions=[
            ("T1", "X", "2024-01-25 10:00:00", "10", "purchase"),
            ("T2", "Y", "2024-03-05 10:00:00", "20", " Purchase "),
        ],
    )
    result = compute_reference(raw, churn_window_days=10)
    flow = by_month(result["member_base_flow_monthly"])
    jan, feb, mar = (flow[date(2024, m, 1)] for m in (1, 2, 3))
    assert (jan["start_active"], jan["end_active"], jan["new_active"]) == (0, 1, 1)
    assert (feb["start_active"], feb["end_active"], feb["churned"]) == (1, 0, 1)
    assert (feb["crr_pct"], feb["churn_rate_pct"], feb["reactivation_rate_pct"]) == (0.0, 100.0, 0.0)
    assert (mar["start_active"], mar["end_active"], mar["new_active"], mar["churned"]) == (0, 1, 1, 0)
    for row in (jan, mar):
        assert all(is_null(row[k]) for k in ("crr_pct", "churn_rate_pct", "reactivation_rate_pct"))
    assert all(is_null(row["churn_reduction_pp"]) for row in (jan, feb, mar))  # no two defined churn rates
    kpi = by_month(result["kpi_monthly"])
    assert is_null(kpi[date(2024, 3, 1)]["crr_pct"]) and is_null(kpi[date(2024, 3, 1)]["churn_rate_pct"])
    feb_kpi = kpi[date(2024, 2, 1)]
    assert feb_kpi["member_orders"] == 0 and feb_kpi["member_net_revenue"] == 0.0
    assert all(is_null(feb_kpi[k]) for k in ("aov", "non_member_aov", "member_aov_lift_pct"))
    assert feb_kpi["one_and_done_rate_pct"] == 100.0  # X: first purchase <= Feb 29 - 10 days, one day
    assert is_null(kpi[date(2024, 1, 1)]["one_and_done_rate_pct"])  # nobody bought by Jan 21
    assert kpi[date(2024, 3, 1)]["member_orders"] == 1  # ' Purchase ' is a purchase
    channels = result["member_base_flow_monthly_by_channel"]
    assert channels["enrollment_channel"].isna().sum() == 3  # Y's empty channel: its own (null) group
    assert_flow_identities(result)


def test_unknown_member_transactions_are_ignored(tmp_path: Path) -> None:
    """Transactions of member_id ZZ (not in members) change nothing, not even the guest figures."""
    members = [("M1", "2024-01-01 09:00:00", "web", "bronze", None)]
    known = [
        ("T1", "M1", "2024-01-10 10:00:00", "10", "purchase"),
        ("G1", "", "2024-01-20 10:00:00", "20", "purchase"),
        ("T2", "M1", "2024-02-05 10:00:00", "30", "PURCHASE"),
    ]
    orphans = [
        ("O1", "ZZ", "2024-01-15 10:00:00", "1000", "purchase"),
        ("O2", "ZZ", "2024-01-16 10:00:00", "50", "refund"),
    ]
    with_orphans = compute_reference(write_raw(tmp_path / "a", members, known + orphans))
    without = compute_reference(write_raw(tmp_path / "b", members, known))
    for name, keys in ALL_KEYS.items():
        assert compare_frames(with_orphans[name], without[name], keys) == [], name
    jan = by_month(with_orphans["kpi_monthly"])[date(2024, 1, 1)]
    assert (jan["member_orders"], jan["member_net_revenue"], jan["non_member_aov"]) == (1, 10.0, 20.0)
    assert jan["member_aov_lift_pct"] == pytest.approx(-50.0)
    assert list(with_orphans["members"]["member_id"]) == ["M1"]
    assert with_orphans["members"].loc[0, "lifetime_orders"] == 2


def test_base_flow_matches_member_day_grid(tmp_path: Path) -> None:
    """Random data: S, E, N, R, C and cohort actives equal a second derivation on a member x day grid."""
    rng = np.random.default_rng(7)
    window, first_day = 30, date(2023, 1, 1)
    ids = [f"M{i:02d}" for i in range(60)]
    members = [
        (m, f"{first_day + timedelta(days=int(rng.integers(0, 200)))} 08:00:00", "web", "gold", None)
        for m in ids
    ]
    transactions = []
    for i in range(500):
        day = first_day + timedelta(days=int(rng.integers(0, 440)))
        member_id = str(rng.choice([*ids, "", "ORPHAN"]))  # "" = guest, ORPHAN is no member
        transactions.append(
            (f"T{i}", member_id, f"{day} 12:00:00", "5", str(rng.choice(["purchase", "refund"])))
        )
    result = compute_reference(write_raw(tmp_path, members, transactions), churn_window_days=window)

    bought = [(row[1], date.fromisoformat(row[2][:10])) for row in transactions if row[4] == "purchase"]
    as_of = max(date.fromisoformat(row[2][:10]) for row in transactions)
    origin = first_day - timedelta(days=1)  # grid column 0 = s of the first month
    grid = np.zeros((len(ids), (as_of - origin).days + 1), dtype=bool)  # grid[m, d]: a purchase on d
    for member_id, day in bought:
        if member_id in ids:
            grid[ids.index(member_id), (day - origin).days] = True
    active = np.zeros_like(grid)  # active[m, d]: a purchase on one of d - W + 1 .. d
    for lag in range(window):
        active[:, lag:] |= grid[:, : grid.shape[1] - lag]
    first = [int(np.argmax(row)) if row.any() else None for row in grid]

    for row in result["member_base_flow_monthly"].to_dict("records"):
        start = (row["month_start"] - origin).days
        end = min((_next_month_start(row["month_start"]) - origin).days - 1, (as_of - origin).days)
        on_s, on_e = active[:, start - 1], active[:, end]
        new = [on_e[m] and first[m] is not None and start <= first[m] <= end for m in range(len(ids))]
        back = [
            on_e[m] and not on_s[m] and first[m] is not None and first[m] < start for m in range(len(ids))
        ]
        assert row["start_active"] == on_s.sum() and row["end_active"] == on_e.sum(), row
        assert (row["new_active"], row["reactivated"]) == (sum(new), sum(back)), row
        assert row["churned"] == (on_s & ~on_e).sum(), row
    flow = result["member_base_flow_monthly"]
    assert flow["reactivated"].sum() > 0 and flow["churned"].sum() > 0  # the data exercise every flow
    for row in result["cohort_retention_monthly"].to_dict("records"):
        cohort = [m for m in range(len(ids)) if first[m] is not None
                  and _month_of(origin + timedelta(days=first[m])) == row["cohort_month"]]  # fmt: skip
        month = _add_months(row["cohort_month"], row["months_since_first_purchase"])
        end = min((_next_month_start(month) - origin).days - 1, (as_of - origin).days)
        assert (row["cohort_size"], row["active_members"]) == (len(cohort), active[cohort, end].sum()), row
    assert_flow_identities(result)


def _month_of(day: date) -> date:
    return day.replace(day=1)


def _add_months(month: date, count: int) -> date:
    index = month.year * 12 + month.month - 1 + count
    return date(index // 12, index % 12 + 1, 1)


def _next_month_start(month: date) -> date:
    return _add_months(month, 1)


# --------------------------------------------------------------------------------------- compare_frames


def test_compare_frames_normalises_and_reports() -> None:
    actual = pd.DataFrame(
        {
            "month_start": [date(2024, 1, 1), date(2024, 2, 1), date(2024, 3, 1)],
            "members": [5, 6, 7],
            "share_pct": [100 / 3, float("nan"), 1.0],
            "flag": [True, False, True],
        }
    )
    expected = pd.DataFrame(
        {
            "month_start": ["2024-01-01", "2024-02-01", "2024-04-01"],
            "members": ["5", "7", "1"],
            "share_pct": ["33.333333333333336", "", "1.0"],
            "flag": ["True", "False", "True"],
        }
    )
    assert compare_frames(actual, expected, ["month_start"]) == [
        "row missing from actual: month_start=2024-04-01",
        "unexpected row in actual: month_start=2024-03-01",
        "month_start=2024-02-01: members = 6, expected 7",
    ]
    close = actual.assign(share_pct=actual["share_pct"] * (1 + 1e-11))
    assert compare_frames(close, actual, ["month_start"]) == []
    far = actual.assign(share_pct=[33.4, float("nan"), 1.00000001], flag=[True, True, None])
    assert compare_frames(far, actual, ["month_start"]) == [
        "month_start=2024-01-01: share_pct = 33.4, expected 33.333333333333336",
        "month_start=2024-02-01: flag = True, expected False",
        "month_start=2024-03-01: share_pct = 1.00000001, expected 1.0",
        "month_start=2024-03-01: flag = null, expected True",
    ]
    assert compare_frames(actual.drop(columns="flag"), actual, ["month_start"]) == [
        "column 'flag' missing from actual"
    ]
    # DuckDB / pandas cell types: Timestamp = date, Decimal = float, pd.NA = NaN = None.
    duck = pd.DataFrame(
        {"k": [pd.Timestamp("2024-01-01")], "x": [Decimal("0.1")], "y": [pd.NA]}, dtype=object
    )
    ours = pd.DataFrame({"k": [date(2024, 1, 1)], "x": [0.1], "y": [float("nan")]})
    assert compare_frames(duck, ours, ["k"]) == []
