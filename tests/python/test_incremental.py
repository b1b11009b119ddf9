"""Incremental runs give the marts a full refresh gives on the same final data, byte for byte.

Generated data are delivered up to day D - 3, built, then delivered day by day up to D with an incremental
`dbt build` after each day: some rows of D - 3 arrive a day late (inside the lookback), a day of
transactions is delivered twice, an already-loaded transaction is re-delivered changed (latest wins), and
a transaction whose member is not delivered yet (quarantined as an orphan) becomes valid when the member
arrives, and so does its order line; order lines and events get the same re-deliveries. Every mart's
content hash must equal a full refresh's on the final files, and so must every verdict of the
incremental base models. All of it twice: every delivery appended to one file per table, and every
delivery a new file (loyalty_kpi.deliveries). PostgreSQL and Spark: test_incremental_engines.py.
"""

from __future__ import annotations

import shutil
from datetime import date, timedelta
from pathlib import Path

import duckdb
import pytest

from loyalty_kpi import deliveries
from loyalty_kpi.dbt import run_dbt
from loyalty_kpi.generate import generate
from tests.python.support import DATA_BUILD, failure_text
from tests.python.test_publish import mart_hashes

END = date(2025, 6, 18)
OLD_PURCHASE_DAY = END - timedelta(days=60)
LATE_MEMBER = "M_LATE_0001"


# The CLV models are tables rebuilt in full every run (only the last run's count), and their fits take
# most of a small build: the runs before the last skip them (no fit below clv_min_members).
NO_CLV_FIT = {"clv_min_members": 10**9}


def _build(
    raw: Path, warehouse: Path, work_dir: Path, *args: str, fit_clv: bool = False, data_tests: bool = True
) -> str:
    """DATA_BUILD; without the data tests (`data_tests=False`) for the runs before the last, whose state
    the tests do not change: the last increment and the full refresh run them all. (Runs with the same
    warehouse and vars share a work_dir: dbt reuses its parse.)"""
    excluded = () if data_tests else ("--exclude-resource-type", "test")
    result = run_dbt(
        [*DATA_BUILD, *excluded, *args],
        raw_dir=raw,
        duckdb_path=warehouse,
        work_dir=work_dir,
        dbt_vars=None if fit_clv else NO_CLV_FIT,
    )
    assert result.returncode == 0, failure_text(result.stdout + result.stderr)
    return result.stdout


def _query(warehouse: Path, sql: str) -> list[tuple[object, ...]]:
    with duckdb.connect(str(warehouse), read_only=True) as con:
        return con.execute(sql).fetchall()


VERDICTS = {
    "transactions": "select verdict_key, transaction_id, member_id, amount, transacted_at, row_hash, "
    "row_status, quarantine_reason from staging.base_loyalty__transactions order by all",
    "point_events": "select verdict_key, member_id, points, occurred_at, row_hash, row_status, "
    "quarantine_reason from staging.base_loyalty__point_events order by all",
    "engagement_events": "select verdict_key, member_id, event_type, occurred_at, row_hash, row_status, "
    "quarantine_reason from staging.base_loyalty__engagement_events order by all",
    "order_lines": "select verdict_key, transaction_id, quantity, line_amount, row_hash, row_status, "
    "quarantine_reason from staging.base_loyalty__order_lines order by all",
}


# The two layouts of the raw files (loyalty_kpi.deliveries): every delivery appended to one file per table
# (a grown delivery: its rows in the lookback window are re-judged), and a new file per delivery (every key
# of a new file is re-judged, the other files are read only for those keys).
ONE_FILE, FILE_PER_DELIVERY = "one file per table", "a file per delivery"


@pytest.fixture(scope="module", params=[ONE_FILE, FILE_PER_DELIVERY])
def layout(request: pytest.FixtureRequest) -> str:
    return str(request.param)


@pytest.fixture(scope="module")
def incremental_and_full(tmp_path_factory: pytest.TempPathFactory, layout: str) -> tuple[Path, Path]:
    """(warehouse built incrementally day by day, warehouse of a full refresh on the same final files)."""
    root = tmp_path_factory.mktemp("incremental")
    full = root / "generated"
    generate(full, members=600, months=30, seed=11, end_date=END)
    raw = root / "raw"
    deliveries.deliver_until(
        full, raw, END - timedelta(days=4), file_per_delivery=layout == FILE_PER_DELIVERY
    )
    warehouse = root / "incremental.duckdb"
    # the first build: up to D - 3, a few transactions and point events of D - 3 held back ...
    held = deliveries.deliver_day(
        full, raw, END - timedelta(days=3), hold_back={"transactions": 3, "point_events": 2}
    )
    _build(raw, warehouse, root / "runs", data_tests=False)
    # D - 2: ... and delivered a day late, inside the lookback
    deliveries.deliver_day(full, raw, END - timedelta(days=2))
    for table, keys in held.items():
        deliveries.deliver_rows(full, raw, table, keys)
    _build(raw, warehouse, root / "runs", data_tests=False)
    # D - 1: the day, D - 2's transactions delivered again (identical duplicates), an old transaction
    # re-delivered changed and dated today (latest wins: the old version turns quarantined), and a
    # transaction of a member not delivered yet (an orphan)
    day = END - timedelta(days=1)
    deliveries.deliver_day(full, raw, day)
    deliveries.append_rows(
        raw,
        "transactions",
        f"select * from {{current}} where cast(transacted_at as date) = '{END - timedelta(days=2)}'",
    )
    deliveries.append_rows(
        raw,
        "transactions",
        "select * replace (amount + 1 as amount, transacted_at + interval 30 day as transacted_at) "
        f"from (select * from {{current}} where member_id is not null and transaction_type = 'purchase' "
        f"and cast(transacted_at as date) = '{END - timedelta(days=31)}' order by transaction_id limit 1)",
    )
    deliveries.append_rows(
        raw,
        "transactions",
        f"select 'T_LATE_0001', '{LATE_MEMBER}', timestamp '{day} 12:00:00', 25.00::decimal(18, 2), "
        "'purchase', 'web'",
    )
    # the same for the events: D - 2 delivered again, an old point event re-delivered changed, and
    # events of the member not delivered yet
    for table in ("point_events", "engagement_events"):
        deliveries.append_rows(
            raw,
            table,
            f"select * from {{current}} where cast(occurred_at as date) = '{END - timedelta(days=2)}'",
        )
    deliveries.append_rows(
        raw,
        "point_events",
        "select * replace (points + 1 as points, occurred_at + interval 30 day as occurred_at) "
        f"from (select * from {{current}} where event_type = 'earn' "
        f"and cast(occurred_at as date) = '{END - timedelta(days=31)}' order by point_event_id limit 1)",
    )
    deliveries.append_rows(
        raw,
        "point_events",
        f"select 'P_LATE_0001', '{LATE_MEMBER}', timestamp '{day} 12:00:00', 'earn', 25, 'purchase', "
        "'T_LATE_0001'",
    )
    deliveries.append_rows(
        raw,
        "engagement_events",
        f"select 'G_LATE_0001', '{LATE_MEMBER}', timestamp '{day} 12:00:00', 'app_open', 'app'",
    )
    # the order lines: D - 2's delivered again, a line of the changed transaction re-delivered changed
    # (no timestamp orders line versions: the greatest row hash wins), and a line of the orphan
    transactions = deliveries.table_rows(raw, "transactions")
    deliveries.append_rows(
        raw,
        "order_lines",
        f"select * from {{current}} where transaction_id in (select transaction_id from {transactions} "
        f"where cast(transacted_at as date) = '{END - timedelta(days=2)}')",
    )
    deliveries.append_rows(
        raw,
        "order_lines",
        "select * replace (quantity + 1 as quantity) from (select * from {current} where transaction_id = "
        f"(select min(transaction_id) from {transactions} where member_id is not null "
        f"and transaction_type = 'purchase' and cast(transacted_at as date) = '{END - timedelta(days=31)}') "
        "order by order_line_id limit 1)",
    )
    deliveries.append_rows(
        raw,
        "order_lines",
        "select 'L_LATE_0001', 'T_LATE_0001', 'PR_LATE', 'grocery', 1::bigint, 25.00::decimal(18, 2)",
    )
    _build(raw, warehouse, root / "runs", data_tests=False)
    orphans = _query(
        warehouse,
        "select record_key, reason from quarantine.quarantine where record_key like '%_LATE_0001' order by 1",
    )
    assert orphans == [
        ("G_LATE_0001", "unknown_member"),
        ("L_LATE_0001", "unknown_transaction"),  # its transaction is the orphan
        ("P_LATE_0001", "unknown_member"),
        ("T_LATE_0001", "unknown_member"),
    ]
    # D: the day and the orphan's member
    deliveries.deliver_day(full, raw, END)
    deliveries.append_rows(
        raw,
        "members",
        f"select '{LATE_MEMBER}', timestamp '{END - timedelta(days=200)}', 'web', 'bronze', null, null, null",
    )
    if layout == FILE_PER_DELIVERY:
        # a purchase two months old, first delivered now, in a file of its own: judged whatever its date
        deliveries.append_rows(
            raw,
            "transactions",
            f"select 'T_OLD_0001', min(member_id), timestamp '{OLD_PURCHASE_DAY} 10:00:00', "
            "12.00::decimal(18, 2), 'purchase', 'web' from {current} where member_id is not null",
        )
    _build(raw, warehouse, root / "run3", fit_clv=True)

    reference = root / "full_refresh.duckdb"
    shutil.copy(warehouse, reference)
    _build(raw, reference, root / "full", "--full-refresh", fit_clv=True)
    return warehouse, reference


def test_every_mart_equals_a_full_refresh(incremental_and_full: tuple[Path, Path]) -> None:
    incremental, full_refresh = incremental_and_full
    incremental_hashes, full_hashes = mart_hashes(incremental), mart_hashes(full_refresh)
    assert len(full_hashes) > 15
    differing = sorted(name for name in full_hashes if incremental_hashes.get(name) != full_hashes[name])
    assert differing == [], f"marts differing from a full refresh: {differing}"


@pytest.mark.parametrize("table", sorted(VERDICTS))
def test_every_verdict_equals_a_full_refresh(incremental_and_full: tuple[Path, Path], table: str) -> None:
    incremental, full_refresh = incremental_and_full
    assert _query(incremental, VERDICTS[table]) == _query(full_refresh, VERDICTS[table])
    base = f"staging.base_loyalty__{table}"
    statuses = dict(_query(incremental, f"select row_status, count(*) from {base} group by 1"))
    reasons = dict(_query(incremental, f"select quarantine_reason, count(*) from {base} group by 1"))
    # the re-delivered day collapsed, the changed re-delivery won, the orphan became valid
    assert statuses["duplicate"] > 0
    if table != "engagement_events":
        assert reasons["conflicting_duplicate"] == 1
    assert "unknown_member" not in reasons
    late = _query(incremental, f"select row_status from {base} where verdict_key like '%_LATE_0001'")
    assert late == [("valid",)]


def test_a_new_delivery_is_judged_whatever_its_dates(
    incremental_and_full: tuple[Path, Path], layout: str
) -> None:
    """A file per delivery: a row dated long before the lookback window, first delivered in a new file, is
    judged (one file per table: appended to a grown file, it would need --full-refresh — README)."""
    if layout == ONE_FILE:
        pytest.skip("one file per table: only the lookback's days of a grown file are read")
    incremental, _ = incremental_and_full
    assert _query(
        incremental,
        "select row_status, transacted_on from staging.base_loyalty__transactions "
        "where verdict_key = 'T_OLD_0001'",
    ) == [("valid", OLD_PURCHASE_DAY)]


def test_the_increment_reads_only_the_window(incremental_and_full: tuple[Path, Path], layout: str) -> None:
    """The last increment rewrote the verdicts of the lookback's days (one file per table) or of the new
    files (a file per delivery), and the keys they touch, not all."""
    incremental, _ = incremental_and_full
    rows = _query(
        incremental,
        "select verdicts_updated_at = max(verdicts_updated_at) over () as rewritten, transacted_on "
        "from staging.base_loyalty__transactions",
    )
    rewritten = {day for is_new, day in rows if is_new}
    window_start = END - timedelta(days=1 + 3)  # the last loaded day before the run, minus the lookback
    assert rewritten, "the last run rewrote nothing"
    # one file: outside the window only the old version of the changed re-delivery, whose key is in the
    # window; a file per delivery: the last delivery's day and the orphan's (its member arrived) only
    if layout == ONE_FILE:
        assert {day for day in rewritten if day < window_start} == {END - timedelta(days=31)}
    else:
        assert rewritten == {END, END - timedelta(days=1), OLD_PURCHASE_DAY}
    recomputed_months = [(date(2025, 5 if layout == ONE_FILE else 4, 1),), (date(2025, 6, 1),)]
    assert sum(1 for is_new, _ in rows if is_new) < len(rows) / 10
    # the order lines re-judged are those of the re-judged transactions (and of unknown ones)
    [(lines, rewritten_lines, stray)] = _query(
        incremental,
        "with lines as (select transaction_id, transactions_seen_at = max(transactions_seen_at) over () "
        "as rewritten from staging.base_loyalty__order_lines), "
        "new_transactions as (select distinct transaction_id from staging.base_loyalty__transactions "
        "where verdicts_updated_at = "
        "(select max(verdicts_updated_at) from staging.base_loyalty__transactions)) "
        "select count(*), count(*) filter (rewritten), count(*) filter (rewritten and transaction_id not in "
        "(select transaction_id from new_transactions) and transaction_id in "
        "(select transaction_id from staging.base_loyalty__transactions)) from lines",
    )
    assert 0 < rewritten_lines < lines / 10
    assert stray == 0
    # the member-month order lines: the months of the re-judged transactions (one file: the window's and
    # the changed re-delivery's old month), and those from the last run's A on (A moved a day)
    recomputed = _query(
        incremental,
        "select distinct month_start from intermediate.int_member_order_lines_monthly where verdicts_seen_at "
        "= (select max(verdicts_seen_at) from intermediate.int_member_order_lines_monthly) order by 1",
    )
    assert recomputed == recomputed_months
    # the member-month engagement: the months of the re-judged engagement events and transactions
    recomputed = _query(
        incremental,
        "select distinct month_start from intermediate.int_member_engagement_monthly "
        "where engagement_verdicts_seen_at = (select max(engagement_verdicts_seen_at) "
        "from intermediate.int_member_engagement_monthly) order by 1",
    )
    assert recomputed == recomputed_months


ORDER_LINES_MONTHLY = (
    "select * exclude (as_of_date, verdicts_seen_at) from intermediate.int_member_order_lines_monthly "
    "order by all"
)
ENGAGEMENT_MONTHLY = (
    "select * exclude (as_of_date, engagement_verdicts_seen_at, transaction_verdicts_seen_at) "
    "from intermediate.int_member_engagement_monthly order by all"
)


def _build_member_months(warehouse: Path, raw: Path, work_dir: Path, as_of: date | None, *args: str) -> None:
    """The member-month order lines and engagement and their marts, with A = `as_of` (None: the default)."""
    as_of_var = {} if as_of is None else {"as_of_date": str(as_of)}
    result = run_dbt(
        [
            "build",
            "--select",
            "+cross_sell_monthly",
            "+engagement_monthly",
            "--exclude-resource-type",
            "test",
            *args,
        ],
        raw_dir=raw,
        duckdb_path=warehouse,
        work_dir=work_dir,
        dbt_vars={**NO_CLV_FIT, **as_of_var},
    )
    assert result.returncode == 0, failure_text(result.stdout)


def _assert_same_member_months(warehouse: Path, expected: Path) -> None:
    for query in (ORDER_LINES_MONTHLY, ENGAGEMENT_MONTHLY):
        assert _query(warehouse, query) == _query(expected, query)
    for mart in ("cross_sell_monthly", "engagement_monthly"):
        query = f"select * from marts.{mart} order by all"
        assert _query(warehouse, query) == _query(expected, query)


def test_an_earlier_as_of_date_is_built_incrementally_as_in_full(
    incremental_and_full: tuple[Path, Path], tmp_path: Path
) -> None:
    """A moved back: the incremental member-month order lines and engagement recompute from the new A's
    month and drop the months after it and a stale month left empty, as a full refresh with that A. A moved
    forward again (to the default): the months after the earlier A are computed again, as in the full build
    (whose A it is)."""
    incremental, full = incremental_and_full
    moved, refreshed = tmp_path / "moved.duckdb", tmp_path / "refreshed.duckdb"
    raw = incremental.parent / "raw"
    shutil.copy(incremental, moved)
    shutil.copy(incremental, refreshed)
    as_of = END - timedelta(days=45)
    # a month computed with an A inside it, that has no rows now: stale, recomputed empty, its rows deleted
    with duckdb.connect(str(moved)) as con:
        for table in ("int_member_order_lines_monthly", "int_member_engagement_monthly"):
            con.execute(
                f"insert into intermediate.{table} select * replace (date '2000-01-01' as month_start, "
                f"date '2000-01-15' as as_of_date) from intermediate.{table} limit 1"
            )
    _build_member_months(moved, raw, tmp_path / "moved", as_of)
    _build_member_months(refreshed, raw, tmp_path / "refreshed", as_of, "--full-refresh")
    _assert_same_member_months(moved, refreshed)
    for table in ("int_member_order_lines_monthly", "int_member_engagement_monthly"):
        assert _query(moved, f"select max(month_start) from intermediate.{table}") == [(date(2025, 5, 1),)]
    _build_member_months(moved, raw, tmp_path / "forward", None)
    _assert_same_member_months(moved, full)
