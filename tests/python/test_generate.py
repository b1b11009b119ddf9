"""The demo-data generator: deterministic, exactly the raw contract, and believable data."""

from __future__ import annotations

import re
from collections.abc import Iterator
from datetime import date, datetime
from pathlib import Path

import duckdb
import pyarrow as pa
import pyarrow.csv as pacsv
import pyarrow.parquet as pq
import pytest

from loyalty_kpi.generate import SCHEMAS, Tiers, generate

CONTRACT = Path(__file__).resolve().parents[2] / "docs" / "raw_contract.md"
START, END = datetime(2024, 1, 1), datetime(2025, 7, 1)  # 18 months up to 2025-06-30
SMALL = {"members": 1_500, "months": 18, "end_date": date(2025, 6, 30)}


def contract_columns() -> dict[str, dict[str, str]]:
    """Column name -> type cell, per table, read from the raw contract's tables."""
    tables: dict[str, dict[str, str]] = {}
    current: dict[str, str] | None = None
    for line in CONTRACT.read_text().splitlines():
        if heading := re.match(r"## `(\w+)`", line):
            current = tables.setdefault(heading.group(1), {})
        elif current is not None and (row := re.match(r"\| `(\w+)` \| ([^|]+) \|", line)):
            current[row.group(1)] = row.group(2).strip()
    return tables


@pytest.fixture(scope="module")
def raw(tmp_path_factory: pytest.TempPathFactory) -> tuple[Path, dict[str, int]]:
    out = tmp_path_factory.mktemp("raw")
    return out, generate(out, seed=11, **SMALL)


@pytest.fixture(scope="module")
def db(raw: tuple[Path, dict[str, int]]) -> Iterator[duckdb.DuckDBPyConnection]:
    con = duckdb.connect()
    for table in SCHEMAS:
        con.execute(f"create view {table} as select * from read_parquet('{raw[0] / table}.parquet')")
    yield con
    con.close()


def values(db: duckdb.DuckDBPyConnection, table: str, column: str) -> set[object]:
    return {row[0] for row in db.execute(f"select distinct {column} from {table}").fetchall()}


def scalar(db: duckdb.DuckDBPyConnection, sql: str) -> object:
    row = db.execute(sql).fetchone()
    assert row is not None
    return row[0]


def test_same_seed_same_files_other_seed_other_data(tmp_path: Path) -> None:
    small = {"members": 300, "months": 14}
    generate(tmp_path / "a", seed=3, **small)
    generate(tmp_path / "b", seed=3, **small)
    generate(tmp_path / "c", seed=4, **small)
    for table in SCHEMAS:
        name = f"{table}.parquet"
        assert (tmp_path / "a" / name).read_bytes() == (tmp_path / "b" / name).read_bytes(), table
    assert not pq.read_table(tmp_path / "a" / "transactions.parquet").equals(
        pq.read_table(tmp_path / "c" / "transactions.parquet")
    )


# Not program data: the demo forgets nobody (test_privacy.py feeds erasure requests).
NOT_GENERATED = {"erasure_requests"}


def test_every_table_has_exactly_the_contract_columns_and_types(raw: tuple[Path, dict[str, int]]) -> None:
    out, rows = raw
    contract = {table: columns for table, columns in contract_columns().items() if table not in NOT_GENERATED}
    assert set(contract_columns()) >= NOT_GENERATED
    assert set(contract) == set(SCHEMAS) == set(rows)
    kinds = {
        "string": pa.types.is_string,
        "timestamp": lambda t: t == pa.timestamp("us"),
        "decimal": pa.types.is_decimal,
        "integer": pa.types.is_integer,
        "date": pa.types.is_date32,
    }
    for table, columns in contract.items():
        data = pq.read_table(out / f"{table}.parquet")
        assert data.column_names == list(columns), table
        assert data.num_rows == rows[table] > 0, table
        for name, cell in columns.items():
            column = data.column(name)
            assert kinds[cell.split()[0].rstrip(",")](column.type), (table, name, column.type)
            if "nullable" not in cell:
                assert column.null_count == 0, (table, name)


def test_ids_are_unique(db: duckdb.DuckDBPyConnection) -> None:
    for table, key in [
        ("members", "member_id"),
        ("transactions", "transaction_id"),
        ("tier_changes", "tier_change_id"),
        ("point_events", "point_event_id"),
        ("engagement_events", "engagement_event_id"),
        ("survey_responses", "response_id"),
    ]:
        assert scalar(db, f"select count(*) - count(distinct {key}) from {table}") == 0, table


def test_everything_happens_within_the_period(db: duckdb.DuckDBPyConnection) -> None:
    for table, column in [
        ("members", "enrolled_at"),
        ("members", "cancelled_at"),
        ("transactions", "transacted_at"),
        ("tier_changes", "changed_at"),
        ("point_events", "occurred_at"),
        ("engagement_events", "occurred_at"),
        ("survey_responses", "responded_at"),
        ("marketing_spend", "spend_date"),
        ("program_visits", "visit_date"),
    ]:
        low, high = (
            db.execute(f"select min({column})::timestamp, max({column})::timestamp from {table}").fetchone()
            or ()
        )
        assert low >= START and high < END, (table, column, low, high)


def test_transactions(db: duckdb.DuckDBPyConnection) -> None:
    assert scalar(db, "select count(*) from transactions where amount < 0") == 0
    assert values(db, "transactions", "transaction_type") == {
        "purchase",
        "refund",
    }
    assert values(db, "transactions", "channel") == {"app", "store", "web"}
    orphans = """
        select count(*) from transactions
        where member_id is not null and member_id not in (select member_id from members)
    """
    assert scalar(db, orphans) == 0
    guest_share = scalar(
        db, "select avg((member_id is null)::int) from transactions where transaction_type = 'purchase'"
    )
    assert 0.10 < guest_share < 0.20
    refund_share = scalar(db, "select avg((transaction_type = 'refund')::int) from transactions")
    assert 0.01 < refund_share < 0.05
    # every member refund follows a purchase of the same member of at least its amount
    unmatched = """
        select count(*) from transactions r
        where r.transaction_type = 'refund' and r.member_id is not null and not exists (
            select 1 from transactions p
            where p.member_id = r.member_id and p.transaction_type = 'purchase'
              and p.transacted_at < r.transacted_at and p.amount >= r.amount)
    """
    assert scalar(db, unmatched) == 0
    outside = """
        select count(*) from transactions t join members m using (member_id)
        where t.transaction_type = 'purchase'
          and (t.transacted_at < m.enrolled_at or t.transacted_at >= m.cancelled_at)
    """
    assert scalar(db, outside) == 0


def test_purchase_behaviour_is_believable(db: duckdb.DuckDBPyConnection) -> None:
    per_buyer = scalar(
        db,
        """select avg(n) from (select count(*) n from transactions
           where transaction_type = 'purchase' and member_id is not null group by member_id)""",
    )
    assert 4 < per_buyer < 25
    never_bought = scalar(
        db,
        """select count(*) from members
           where member_id not in (select member_id from transactions where member_id is not null)""",
    )
    assert never_bought > 0
    december, november = (
        db.execute(
            """select count(*) filter (where month(transacted_at) = 12),
                      count(*) filter (where month(transacted_at) = 11)
               from transactions where year(transacted_at) = 2024"""
        ).fetchone()
        or ()
    )
    assert december > november


def test_members(db: duckdb.DuckDBPyConnection) -> None:
    assert scalar(db, "select count(*) from members where cancelled_at <= enrolled_at") == 0
    assert 0.03 < scalar(db, "select avg((cancelled_at is not null)::int) from members") < 0.15
    assert 0.15 < scalar(db, "select avg((referred_by_member_id is not null)::int) from members") < 0.25
    bad_referrals = """
        select count(*) from members m left join members r on r.member_id = m.referred_by_member_id
        where m.referred_by_member_id is not null
          and (r.member_id is null or r.enrolled_at >= m.enrolled_at or m.enrollment_channel <> 'referral')
    """
    assert scalar(db, bad_referrals) == 0
    channels = values(db, "members", "enrollment_channel")
    assert channels == {"app", "partner", "referral", "store", "web"}
    assert scalar(db, "select count(*) from members where email not similar to 'm[0-9]+@example.com'") == 0


def test_tiers_follow_the_seed_in_consistent_chains(db: duckdb.DuckDBPyConnection) -> None:
    names = list(Tiers.load().names)
    assert values(db, "members", "tier") <= set(names)
    assert scalar(db, "select count(*) from tier_changes where to_tier = 'silver'") > 0
    assert scalar(db, "select count(*) from tier_changes where reason = 'requalification'") > 0
    broken = """
        select count(*) from (
            select from_tier, to_tier,
                   lag(to_tier, 1, 'bronze') over (partition by member_id order by changed_at) prev
            from tier_changes)
        where from_tier <> prev or from_tier = to_tier
    """
    assert scalar(db, broken) == 0
    current = """
        select count(*) from members m
        left join (
            select member_id, arg_max(to_tier, changed_at) last_tier from tier_changes group by 1
        ) c using (member_id)
        where m.tier <> coalesce(c.last_tier, 'bronze')
    """
    assert scalar(db, current) == 0


def test_point_balances_never_go_negative(db: duckdb.DuckDBPyConnection) -> None:
    lowest = """
        select min(balance) from (
            select sum(points) over (partition by member_id order by occurred_at, point_event_id) balance
            from point_events)
    """
    assert scalar(db, lowest) == 0
    signs = """
        select count(*) from point_events
        where (event_type = 'earn' and points <= 0) or (event_type in ('redeem', 'expire') and points >= 0)
           or (event_type = 'adjust' and points = 0)
    """
    assert scalar(db, signs) == 0
    kinds = scalar(db, "select list(distinct event_type || ':' || source order by 1) from point_events")
    assert {"earn:purchase", "earn:signup", "redeem:reward", "expire:expiry", "adjust:service"} <= set(kinds)


def test_purchase_points_use_the_tier_of_the_day(db: duckdb.DuckDBPyConnection) -> None:
    seed = Path(__file__).resolve().parents[2] / "seeds" / "tiers.csv"
    checked, wrong = (
        db.execute(f"""
        with tiers as (select tier, earn_multiplier::decimal(4, 2) multiplier from read_csv('{seed}')),
        earns as (
            select e.points, t.amount, t.member_id, t.transacted_at
            from point_events e join transactions t using (transaction_id)
            where e.event_type = 'earn' and e.source = 'purchase'),
        tiered as (
            select e.*, coalesce((
                select arg_max(c.to_tier, c.changed_at) from tier_changes c
                where c.member_id = e.member_id and c.changed_at::date <= e.transacted_at::date
            ), 'bronze') tier
            from earns e)
        select count(*), count(*) filter (where points <> floor(amount * multiplier))
        from tiered join tiers using (tier)
    """).fetchone()
        or ()
    )
    assert checked == scalar(db, "select count(*) from point_events where source = 'purchase'") > 0
    assert wrong == 0


def test_surveys_and_engagement(db: duckdb.DuckDBPyConnection) -> None:
    out_of_range = """
        select count(*) from survey_responses
        where recommend_score not between 0 and 10 or repurchase_score not between 1 and 6
           or upsell_score not between 1 and 6
    """
    assert scalar(db, out_of_range) == 0
    assert scalar(db, "select count(*) - count(repurchase_score) from survey_responses") > 0
    event_types = values(db, "engagement_events", "event_type")
    assert event_types == {"app_open", "email_click", "game_play", "review", "social_share"}


def test_enrolment_rate_is_plausible(db: duckdb.DuckDBPyConnection) -> None:
    rate = scalar(db, "select (select count(*) from members) / sum(visitors) from program_visits")
    assert 0.02 < rate < 0.10
    assert scalar(db, "select count(*) from marketing_spend where amount < 0") == 0


def test_csv_is_readable_and_replaces_parquet(tmp_path: Path) -> None:
    generate(tmp_path, members=200, months=13)
    rows = generate(tmp_path, members=200, months=13, fmt="csv")
    assert sorted(p.name for p in tmp_path.iterdir()) == sorted(f"{t}.csv" for t in SCHEMAS)
    for table, schema in SCHEMAS.items():
        data = pacsv.read_csv(tmp_path / f"{table}.csv")
        assert data.column_names == schema.names
        assert data.num_rows == rows[table]
    first = (tmp_path / "transactions.csv").read_text().splitlines()[1]
    assert re.search(r",\d{4}-\d\d-\d\d \d\d:\d\d:\d\d,", first)
