"""Independent brute-force reference implementation of the loyalty KPI spec (sections 1 to 5).

Reads the raw files of ``docs/raw_contract.md`` and recomputes the marts member by member and month by
month in plain Python, so that pytest can check the dbt models against it. It shares no SQL with the
models; where ``kpi-spec.md`` is silent it follows ``DECISIONS.md``. Correctness and readability come
before speed: the test data sets are small.

Reading choices beyond the spec and DECISIONS.md (see also the module's tests):

- ``A`` defaults to the latest day of any raw transaction row; the month spine starts at the earliest
  enrolment or transaction day that is not after ``A``.
- Transactions with a ``transaction_type`` other than purchase/refund are ignored; a null ``amount``
  counts as 0. Member ids are compared exactly; a blank ``member_id`` is null (a guest).
- Money sums over an empty set are 0 (``member_net_revenue``); every ratio with a 0 denominator is null.
- ``members``: one row per raw member (also one enrolled after ``A``); ``recency_days``, ``frequency`` and
  ``monetary`` are null for a member without a purchase day up to ``A``.
- ``member_base_flow_monthly_by_channel``: members with a null channel form their own group (channel
  null), so that the channels always sum to the overall table.
- Optional tables (point_events, engagement_events, survey_responses, marketing_spend, program_visits)
  count only rows up to ``A`` (point and engagement events: of known members); a table with no such row
  is "absent" and the KPIs it feeds are null. Referral KPIs are null when no member enrolled up to ``A``
  names a referrer.
"""

from __future__ import annotations

import bisect
import math
import re
from collections import defaultdict
from collections.abc import Iterable, Sequence
from dataclasses import dataclass, field
from datetime import date, datetime, timedelta
from decimal import Decimal
from pathlib import Path
from typing import Any

import numpy as np
import pandas as pd

DEFAULT_TIERS: tuple[str, ...] = ("bronze", "silver", "gold", "platinum")

_FLOW_COLUMNS = [
    "start_active", "end_active", "new_active", "reactivated", "churned", "retained",
    "crr_pct", "churn_rate_pct", "reactivation_rate_pct", "churn_reduction_pp", "is_complete_month",
]  # fmt: skip

COLUMNS: dict[str, list[str]] = {
    "member_base_flow_monthly": ["month_start", *_FLOW_COLUMNS],
    "member_base_flow_monthly_by_channel": ["month_start", "enrollment_channel", *_FLOW_COLUMNS],
    "kpi_monthly": [
        "month_start", "enrolled_members", "active_members", "active_rate_pct", "new_enrollments",
        "cancellations", "member_orders", "member_net_revenue", "aov", "non_member_aov",
        "member_aov_lift_pct", "repeat_purchase_rate_pct", "repeat_buyer_ratio", "one_and_done_rate_pct",
        "crr_pct", "churn_rate_pct", "churn_reduction_pp", "clv_formula", "nps", "customer_loyalty_index",
        "points_issued", "points_redeemed", "points_expired", "redemption_rate_pct",
        "redemption_participation_pct", "points_liability", "engagement_rate_pct", "referral_rate_pct",
        "enrollment_rate_pct", "cac", "is_complete_month",
    ],
    "members": [
        "member_id", "enrolled_at", "enrollment_channel", "current_tier", "is_enrolled",
        "first_purchase_date", "last_purchase_date", "lifetime_orders", "lifetime_purchase_days",
        "historical_clv", "is_active", "recency_days", "frequency", "monetary", "r_score", "f_score",
        "m_score", "rfm_segment",
    ],
    "tier_distribution_monthly": ["month_start", "tier", "tier_rank", "members", "share_pct"],
    "tier_migration_monthly": [
        "month_start", "from_tier", "from_tier_rank", "to_tier", "to_tier_rank", "members", "upgrades",
        "downgrades", "is_complete_month",
    ],
    "cohort_retention_monthly": [
        "cohort_month", "months_since_first_purchase", "cohort_size", "active_members", "retention_pct",
    ],
}  # fmt: skip
"""The spec's column names, in order, of every mart the reference computes."""

PURCHASE, REFUND = "purchase", "refund"
MEMBER, GUEST, ORPHAN = "member", "guest", "orphan"


# --------------------------------------------------------------------------------------------- raw input


def _is_null(value: Any) -> bool:
    """True for None, NaN, NaT, pd.NA and blank strings."""
    if isinstance(value, str):
        return not value.strip()
    return value is None or (pd.api.types.is_scalar(value) and bool(pd.isna(value)))


def _text(value: Any, *, lower: bool = False) -> str | None:
    """A trimmed (optionally lower-cased) string; None for null or blank."""
    if _is_null(value):
        return None
    text = str(value).strip()
    return text.lower() if lower else text


def _member_id(value: Any) -> str | None:
    """A member id as written; a null or blank id is None (a guest, per DECISIONS.md)."""
    return None if _is_null(value) else str(value)


def _utc(value: Any) -> pd.Timestamp | None:
    """A timestamp as tz-naive UTC: an offset is converted to UTC, a naive value is taken as UTC."""
    if _is_null(value):
        return None
    stamp = pd.Timestamp(value.strip() if isinstance(value, str) else value)
    stamp = stamp.tz_localize("UTC") if stamp.tzinfo is None else stamp.tz_convert("UTC")
    return stamp.tz_localize(None)


def _utc_day(value: Any) -> date | None:
    """The UTC calendar day of a timestamp."""
    stamp = _utc(value)
    return None if stamp is None else stamp.date()


def _amount(value: Any) -> float:
    """A money amount as float; null counts as 0."""
    return 0.0 if _is_null(value) else float(value)


def _read_table(raw_dir: Path, name: str, *, required: bool) -> pd.DataFrame | None:
    """``<name>.parquet`` (wins) or ``<name>.csv`` read as text; None if an optional table is absent."""
    parquet, csv = raw_dir / f"{name}.parquet", raw_dir / f"{name}.csv"
    if parquet.exists():
        frame = pd.read_parquet(parquet)
    elif csv.exists():
        frame = pd.read_csv(csv, dtype=object, keep_default_na=False, encoding="utf-8")
    elif required:
        raise FileNotFoundError(f"raw table {name!r}: neither {name}.parquet nor {name}.csv in {raw_dir}")
    else:
        return None
    frame.columns = [str(column).strip().lower() for column in frame.columns]
    return frame


def _records(frame: pd.DataFrame | None) -> list[dict[str, Any]]:
    """The rows of a frame as dicts (no rows for an absent table)."""
    return [] if frame is None else frame.to_dict("records")


# ----------------------------------------------------------------------------------------- domain objects


@dataclass(frozen=True)
class Transaction:
    """A raw transaction, classified by buyer (member, guest or orphan) and kind (purchase, refund)."""

    member_id: str | None
    day: date
    amount: float
    kind: str
    buyer: str


@dataclass(frozen=True)
class TierChange:
    """A raw tier change; the new tier is effective from ``day``."""

    changed_at: pd.Timestamp
    tier_change_id: str
    from_tier: str | None
    to_tier: str | None

    @property
    def day(self) -> date:
        return self.changed_at.date()


@dataclass
class Member:
    """A raw member with everything the marts need about them (transactions up to A only)."""

    member_id: str
    enrolled_at: pd.Timestamp | None
    cancelled_at: pd.Timestamp | None
    channel: str | None
    tier: str | None
    referred_by: str | None = None
    purchase_days: list[date] = field(default_factory=list)  # sorted, distinct
    orders: int = 0
    net_revenue: float = 0.0
    exact_net_revenue: Decimal = Decimal(0)  # the same, exact: orders members by monetary value (RFM)
    tier_changes: list[TierChange] = field(default_factory=list)  # sorted by (changed_at, id)

    @property
    def enrolled_day(self) -> date | None:
        return None if self.enrolled_at is None else self.enrolled_at.date()

    @property
    def cancelled_day(self) -> date | None:
        return None if self.cancelled_at is None else self.cancelled_at.date()

    @property
    def first_purchase_day(self) -> date | None:
        return self.purchase_days[0] if self.purchase_days else None

    @property
    def last_purchase_day(self) -> date | None:
        return self.purchase_days[-1] if self.purchase_days else None

    def enrolled_on(self, day: date) -> bool:
        """Enrolled on d: enrolled_at day <= d and (no cancellation or its day > d)."""
        enrolled, cancelled = self.enrolled_day, self.cancelled_day
        return enrolled is not None and enrolled <= day and (cancelled is None or cancelled > day)

    def purchase_days_up_to(self, day: date) -> int:
        """Number of distinct purchase days on or before ``day``."""
        return bisect.bisect_right(self.purchase_days, day)

    def active_on(self, day: date, window: int) -> bool:
        """Active on d: a purchase day in [d - W + 1, d]."""
        count = self.purchase_days_up_to(day)
        return count > 0 and self.purchase_days[count - 1] >= day - timedelta(days=window - 1)

    def tier_on(self, day: date) -> str | None:
        """The latest tier change effective on or before d; before the first, its from_tier."""
        if not self.tier_changes:
            return self.tier
        effective = [change for change in self.tier_changes if change.day <= day]
        return effective[-1].to_tier if effective else self.tier_changes[0].from_tier


@dataclass(frozen=True)
class Month:
    """Period k: ``start``..``end``, its end of period ``e`` = min(end, A) and ``s`` = start - 1 day."""

    start: date
    end: date
    as_of: date

    @property
    def e(self) -> date:
        return min(self.end, self.as_of)

    @property
    def s(self) -> date:
        return self.start - timedelta(days=1)

    @property
    def is_complete(self) -> bool:
        return self.end <= self.as_of

    def holds(self, day: date | None) -> bool:
        """True when ``day`` is in [start, e]."""
        return day is not None and self.start <= day <= self.e


def _month_start(day: date) -> date:
    return day.replace(day=1)


def _next_month(month_start: date) -> date:
    return (month_start + timedelta(days=32)).replace(day=1)


def _month_spine(first_day: date, as_of: date) -> list[Month]:
    """Calendar months from the month of ``first_day`` to the month holding ``as_of``."""
    months, start = [], _month_start(first_day)
    while start <= as_of:
        following = _next_month(start)
        months.append(Month(start, following - timedelta(days=1), as_of))
        start = following
    return months


@dataclass(frozen=True)
class PointEvent:
    """A point event of a known member: ``points`` as written (signed)."""

    member_id: str
    day: date
    event_type: str | None
    points: int


@dataclass(frozen=True)
class Response:
    """A survey response; scores outside their scale are None."""

    day: date
    recommend: int | None
    repurchase: int | None
    upsell: int | None


@dataclass
class Raw:
    """Normalised raw data, cut at the as-of date."""

    as_of: date
    members: list[Member]
    transactions: list[Transaction]  # member and guest rows with day <= A; orphans dropped
    months: list[Month]
    point_events: list[PointEvent] = field(default_factory=list)  # known members, day <= A
    engagement: list[tuple[str, date]] = field(default_factory=list)  # (member, day): known, day <= A
    responses: list[Response] = field(default_factory=list)  # day <= A
    spend: list[tuple[date, float]] = field(default_factory=list)  # day <= A
    visits: list[tuple[date, int]] = field(default_factory=list)  # day <= A


def _score(value: Any, low: int, high: int) -> int | None:
    """An integer survey score in [low, high]; None when null or off the scale."""
    if _is_null(value):
        return None
    score = int(float(value))
    return score if low <= score <= high else None


def _day(value: Any) -> date | None:
    """A date column's day."""
    return None if _is_null(value) else pd.Timestamp(value).date()


def _load_optional(raw: Raw, raw_dir: Path) -> None:
    """The optional tables beyond tier_changes, cut at A (point and engagement events: known members)."""
    known = {member.member_id for member in raw.members}
    for row in _records(_read_table(raw_dir, "point_events", required=False)):
        member_id, day = _member_id(row.get("member_id")), _utc_day(row.get("occurred_at"))
        if member_id in known and day is not None and day <= raw.as_of:
            points = 0 if _is_null(row.get("points")) else int(float(row["points"]))
            raw.point_events.append(
                PointEvent(member_id, day, _text(row.get("event_type"), lower=True), points)
            )
    for row in _records(_read_table(raw_dir, "engagement_events", required=False)):
        member_id, day = _member_id(row.get("member_id")), _utc_day(row.get("occurred_at"))
        if member_id in known and day is not None and day <= raw.as_of:
            raw.engagement.append((member_id, day))
    for row in _records(_read_table(raw_dir, "survey_responses", required=False)):
        day = _utc_day(row.get("responded_at"))
        if day is not None and day <= raw.as_of:
            raw.responses.append(
                Response(
                    day,
                    _score(row.get("recommend_score"), 0, 10),
                    _score(row.get("repurchase_score"), 1, 6),
                    _score(row.get("upsell_score"), 1, 6),
                )
            )
    for row in _records(_read_table(raw_dir, "marketing_spend", required=False)):
        day = _day(row.get("spend_date"))
        if day is not None and day <= raw.as_of:
            raw.spend.append((day, _amount(row.get("amount"))))
    for row in _records(_read_table(raw_dir, "program_visits", required=False)):
        day = _day(row.get("visit_date"))
        if day is not None and day <= raw.as_of:
            raw.visits.append((day, 0 if _is_null(row.get("visitors")) else int(float(row["visitors"]))))


def load_raw(raw_dir: Path, as_of_date: date | None = None) -> Raw:
    """Read and normalise the raw tables, resolve A, attach each member's purchases and tier changes."""
    raw_dir = Path(raw_dir)
    members = [
        Member(
            member_id=_member_id(row["member_id"]) or "",
            enrolled_at=_utc(row.get("enrolled_at")),
            cancelled_at=_utc(row.get("cancelled_at")),
            channel=_text(row.get("enrollment_channel"), lower=True),
            tier=_text(row.get("tier"), lower=True),
            referred_by=_member_id(row.get("referred_by_member_id")),
        )
        for row in _records(_read_table(raw_dir, "members", required=True))
    ]
    by_id = {member.member_id: member for member in members}

    all_rows = [
        (row, day)
        for row in _records(_read_table(raw_dir, "transactions", required=True))
        if (day := _utc_day(row.get("transacted_at"))) is not None
    ]
    if as_of_date is not None:
        as_of = pd.Timestamp(as_of_date).date()  # also accepts a datetime or an ISO string
    elif all_rows:
        as_of = max(day for _, day in all_rows)
    else:
        raise ValueError("no transactions to take the as-of date from: pass as_of_date")

    transactions = []
    for row, day in all_rows:
        kind = _text(row.get("transaction_type"), lower=True)
        member_id = _member_id(row.get("member_id"))
        buyer = GUEST if member_id is None else MEMBER if member_id in by_id else ORPHAN
        if day > as_of or kind not in (PURCHASE, REFUND) or buyer == ORPHAN:
            continue
        transactions.append(Transaction(member_id, day, _amount(row.get("amount")), kind, buyer))

    own: dict[str | None, list[Transaction]] = defaultdict(list)
    for tx in transactions:
        own[tx.member_id].append(tx)
    for member in members:
        purchases = [tx for tx in own[member.member_id] if tx.kind == PURCHASE]
        member.orders = len(purchases)
        member.net_revenue = _net_revenue(own[member.member_id])
        member.exact_net_revenue = sum(
            (Decimal(str(tx.amount)) * (1 if tx.kind == PURCHASE else -1) for tx in own[member.member_id]),
            Decimal(0),
        )
        member.purchase_days = sorted({tx.day for tx in purchases})

    for row in _records(_read_table(raw_dir, "tier_changes", required=False)):
        member_id, changed_at = _member_id(row.get("member_id")), _utc(row.get("changed_at"))
        if member_id in by_id and changed_at is not None:
            change = TierChange(
                changed_at=changed_at,
                tier_change_id=str(_text(row.get("tier_change_id")) or ""),
                from_tier=_text(row.get("from_tier"), lower=True),
                to_tier=_text(row.get("to_tier"), lower=True),
            )
            by_id[member_id].tier_changes.append(change)
    for member in members:
        member.tier_changes.sort(key=lambda change: (change.changed_at, change.tier_change_id))

    starts = [m.enrolled_day for m in members if m.enrolled_day is not None] + [day for _, day in all_rows]
    starts = [day for day in starts if day <= as_of]
    months = _month_spine(min(starts), as_of) if starts else []
    raw = Raw(as_of, members, transactions, months)
    _load_optional(raw, raw_dir)
    return raw


# --------------------------------------------------------------------------------------------- arithmetic


def _ratio(numerator: float | None, denominator: float | None) -> float | None:
    """numerator / denominator; None when either is None or the denominator is 0 (DECISIONS.md)."""
    if numerator is None or denominator is None or denominator == 0:
        return None
    return numerator / denominator


def _pct(numerator: float | None, denominator: float | None) -> float | None:
    """numerator / denominator * 100, or None."""
    ratio = _ratio(numerator, denominator)
    return None if ratio is None else ratio * 100


def _net_revenue(transactions: Iterable[Transaction]) -> float:
    """Purchase amounts minus refund amounts."""
    return math.fsum(tx.amount if tx.kind == PURCHASE else -tx.amount for tx in transactions)


# ------------------------------------------------------------------------------------------------- marts


def _base_flow(members: Sequence[Member], months: Sequence[Month], window: int) -> list[dict[str, Any]]:
    """Spec §1 for one set of members: a row per month."""
    rows: list[dict[str, Any]] = []
    previous_churn: float | None = None
    for index, month in enumerate(months):
        s = e = n = r = c = 0
        for member in members:
            on_s, on_e = member.active_on(month.s, window), member.active_on(month.e, window)
            first = member.first_purchase_day
            s += on_s
            e += on_e
            n += on_e and month.holds(first)
            r += on_e and not on_s and first is not None and first < month.start
            c += on_s and not on_e
        churn = _pct(c, s)
        reduction = None if index == 0 or previous_churn is None or churn is None else previous_churn - churn
        rows.append(
            {
                "month_start": month.start,
                "start_active": s,
                "end_active": e,
                "new_active": n,
                "reactivated": r,
                "churned": c,
                "retained": s - c,
                "crr_pct": _pct(e - n, s),
                "churn_rate_pct": churn,
                "reactivation_rate_pct": _pct(r, s),
                "churn_reduction_pp": reduction,
                "is_complete_month": month.is_complete,
            }
        )
        previous_churn = churn
    return rows


def _base_flow_by_channel(raw: Raw, window: int) -> list[dict[str, Any]]:
    """Spec §1 per enrolment channel: every channel of ``members`` every month (null channel a group)."""
    channels = sorted({m.channel for m in raw.members}, key=lambda ch: (ch is None, ch or ""))
    rows = []
    for channel in channels:
        group = [m for m in raw.members if m.channel == channel]
        rows += [{**row, "enrollment_channel": channel} for row in _base_flow(group, raw.months, window)]
    return sorted(rows, key=lambda row: (row["month_start"], channels.index(row["enrollment_channel"])))


def _clv_formula(
    raw: Raw, flow: Sequence[dict[str, Any]], index: int, gross_margin_pct: float
) -> float | None:
    """Spec §2 ``clv_formula`` for month ``index`` over T = months index-11..index (None before the 12th)."""
    if index < 11:
        return None
    window_months = {month.start for month in raw.months[index - 11 : index + 1]}
    in_t = [tx for tx in raw.transactions if tx.buyer == MEMBER and _month_start(tx.day) in window_months]
    purchases = [tx for tx in in_t if tx.kind == PURCHASE]
    aov_12m = _ratio(_net_revenue(in_t), len(purchases))
    frequency_12m = _ratio(len(purchases), len({tx.member_id for tx in purchases}))
    churn_rates = [
        row["churn_rate_pct"] / 100 for row in flow[index - 11 : index + 1] if row["start_active"] > 0
    ]
    mean_churn = math.fsum(churn_rates) / len(churn_rates) if churn_rates else None
    lifespan_years = _ratio(1, None if mean_churn is None else 12 * mean_churn)
    if aov_12m is None or frequency_12m is None or lifespan_years is None:
        return None
    return aov_12m * frequency_12m * lifespan_years * gross_margin_pct / 100


def _balance_change(event: PointEvent) -> int:
    """What an event does to the balance: earn +, redeem and expire - (whatever the sign), adjust signed."""
    if event.event_type == "earn":
        return event.points
    if event.event_type in ("redeem", "expire"):
        return -abs(event.points)
    return event.points if event.event_type == "adjust" else 0


def _program_kpis(
    raw: Raw, month: Month, flow_row: dict[str, Any], enrolled: int, new_enrollments: int, point_value: float
) -> dict[str, Any]:
    """Spec §2's columns from the optional tables (null where the table is absent)."""
    responses = [r for r in raw.responses if month.holds(r.day) and r.recommend is not None]
    promoters = sum(r.recommend >= 9 for r in responses)  # type: ignore[operator]
    detractors = sum(r.recommend <= 6 for r in responses)  # type: ignore[operator]
    indexed = [r for r in responses if r.repurchase is not None and r.upsell is not None]
    indexes = [
        (r.recommend / 10 + (r.repurchase - 1) / 5 + (r.upsell - 1) / 5) / 3 * 100  # type: ignore[operator]
        for r in indexed
    ]
    kpis: dict[str, Any] = {
        "nps": _pct(promoters - detractors, len(responses)),
        "customer_loyalty_index": math.fsum(indexes) / len(indexes) if indexes else None,
    }

    events = [event for event in raw.point_events if month.holds(event.day)]
    issued = sum(event.points for event in events if event.event_type == "earn")
    redeemed = sum(abs(event.points) for event in events if event.event_type == "redeem")
    redeemers = len({event.member_id for event in events if event.event_type == "redeem"})
    outstanding = sum(_balance_change(event) for event in raw.point_events if event.day <= month.e)
    has_points = bool(raw.point_events)
    kpis |= {
        "points_issued": issued if has_points else None,
        "points_redeemed": redeemed if has_points else None,
        "points_expired": (
            sum(abs(event.points) for event in events if event.event_type == "expire") if has_points else None
        ),
        "redemption_rate_pct": _pct(redeemed, issued) if has_points else None,
        "redemption_participation_pct": _pct(redeemers, flow_row["end_active"]) if has_points else None,
        "points_liability": (float(Decimal(outstanding) * Decimal(str(point_value))) if has_points else None),
    }

    engaged = {member_id for member_id, day in raw.engagement if month.holds(day)}
    engaged |= {tx.member_id for tx in raw.transactions if tx.buyer == MEMBER and tx.kind == PURCHASE
                and month.holds(tx.day)}  # fmt: skip
    referred = [m for m in raw.members if m.referred_by is not None and m.enrolled_day is not None
                and m.enrolled_day <= raw.as_of]  # fmt: skip
    referrers = {m.referred_by for m in referred if month.holds(m.enrolled_day)}
    visitors = sum(count for day, count in raw.visits if month.holds(day))
    spend = math.fsum(amount for day, amount in raw.spend if month.holds(day))
    return kpis | {
        "engagement_rate_pct": _pct(len(engaged), enrolled) if raw.engagement else None,
        "referral_rate_pct": _pct(len(referrers), enrolled) if referred else None,
        "enrollment_rate_pct": _pct(new_enrollments, visitors) if raw.visits else None,
        "cac": _ratio(spend, new_enrollments) if raw.spend else None,
    }


def _kpi_monthly(
    raw: Raw, flow: Sequence[dict[str, Any]], window: int, gross_margin_pct: float, point_value: float = 0.01
) -> list[dict[str, Any]]:
    """Spec §2: one row per month."""
    by_month: dict[date, list[Transaction]] = defaultdict(list)
    for tx in raw.transactions:
        by_month[_month_start(tx.day)].append(tx)

    rows = []
    for index, (month, flow_row) in enumerate(zip(raw.months, flow, strict=True)):
        enrolled = sum(m.enrolled_on(month.e) for m in raw.members)
        member_tx = [tx for tx in by_month[month.start] if tx.buyer == MEMBER]
        guest_tx = [tx for tx in by_month[month.start] if tx.buyer == GUEST]
        member_orders = sum(tx.kind == PURCHASE for tx in member_tx)
        guest_orders = sum(tx.kind == PURCHASE for tx in guest_tx)
        member_net_revenue = _net_revenue(member_tx)
        aov = _ratio(member_net_revenue, member_orders)
        non_member_aov = _ratio(_net_revenue(guest_tx), guest_orders)
        lift = _ratio(aov, non_member_aov)

        days_up_to_e = [m.purchase_days_up_to(month.e) for m in raw.members]
        buyers = sum(days >= 1 for days in days_up_to_e)
        repeaters = sum(days >= 2 for days in days_up_to_e)
        one_timers = sum(days == 1 for days in days_up_to_e)
        settled = [
            m for m in raw.members
            if m.first_purchase_day is not None and m.first_purchase_day <= month.e - timedelta(days=window)
        ]  # fmt: skip
        settled_one_timers = sum(m.purchase_days_up_to(month.e) == 1 for m in settled)
        new_enrollments = sum(month.holds(m.enrolled_day) for m in raw.members)

        rows.append(
            {
                "month_start": month.start,
                "enrolled_members": enrolled,
                "active_members": flow_row["end_active"],
                "active_rate_pct": _pct(flow_row["end_active"], enrolled),
                "new_enrollments": new_enrollments,
                "cancellations": sum(month.holds(m.cancelled_day) for m in raw.members),
                "member_orders": member_orders,
                "member_net_revenue": member_net_revenue,
                "aov": aov,
                "non_member_aov": non_member_aov,
                "member_aov_lift_pct": None if lift is None else (lift - 1) * 100,
                "repeat_purchase_rate_pct": _pct(repeaters, buyers),
                "repeat_buyer_ratio": _ratio(repeaters, one_timers),
                "one_and_done_rate_pct": _pct(settled_one_timers, len(settled)),
                "crr_pct": flow_row["crr_pct"],
                "churn_rate_pct": flow_row["churn_rate_pct"],
                "churn_reduction_pp": flow_row["churn_reduction_pp"],
                "clv_formula": _clv_formula(raw, flow, index, gross_margin_pct),
                **_program_kpis(raw, month, flow_row, enrolled, new_enrollments, point_value),
                "is_complete_month": month.is_complete,
            }
        )
    return rows


RFM_SEED = Path(__file__).resolve().parents[2] / "seeds" / "rfm_segments.csv"


def _quintiles(ordered: Sequence[str]) -> dict[str, int]:
    """SQL's ntile(5) over members already in order: 1 … 5, the first n mod 5 groups one larger."""
    n = len(ordered)
    size, larger = divmod(n, 5)
    scores, position = {}, 0
    for group in range(1, 6):
        for _ in range(size + (group <= larger)):
            scores[ordered[position]] = group
            position += 1
    return scores


def _rfm(raw: Raw) -> dict[str, dict[str, Any]]:
    """DECISIONS.md "RFM scores": quintiles over buyers (ties by member_id) and the first matching rule."""
    buyers = [m for m in raw.members if m.purchase_days]
    recency = {m.member_id: (raw.as_of - m.purchase_days[-1]).days for m in buyers}
    r = _quintiles([m.member_id for m in sorted(buyers, key=lambda m: (-recency[m.member_id], m.member_id))])
    f = _quintiles([m.member_id for m in sorted(buyers, key=lambda m: (len(m.purchase_days), m.member_id))])
    mon = _quintiles([m.member_id for m in sorted(buyers, key=lambda m: (m.exact_net_revenue, m.member_id))])
    rules = sorted(pd.read_csv(RFM_SEED).to_dict("records"), key=lambda rule: rule["priority"])
    result = {}
    for m in buyers:
        key = m.member_id
        segment = next(
            (
                rule["segment"]
                for rule in rules
                if rule["r_score_min"] <= r[key] <= rule["r_score_max"]
                and rule["f_score_min"] <= f[key] <= rule["f_score_max"]
            ),
            "other",
        )
        result[key] = {"r_score": r[key], "f_score": f[key], "m_score": mon[key], "rfm_segment": segment}
    return result


def _members(raw: Raw, window: int) -> list[dict[str, Any]]:
    """Spec §4: one row per member, lifetime figures up to A, RFM scores and segment."""
    rows = []
    rfm = _rfm(raw)
    no_rfm = {"r_score": None, "f_score": None, "m_score": None, "rfm_segment": "no_purchase"}
    for m in sorted(raw.members, key=lambda member: member.member_id):
        has_purchase = bool(m.purchase_days)
        rows.append(
            {
                "member_id": m.member_id,
                "enrolled_at": m.enrolled_at,
                "enrollment_channel": m.channel,
                "current_tier": m.tier,
                "is_enrolled": m.enrolled_on(raw.as_of),
                "first_purchase_date": m.first_purchase_day,
                "last_purchase_date": m.last_purchase_day,
                "lifetime_orders": m.orders,
                "lifetime_purchase_days": len(m.purchase_days),
                "historical_clv": m.net_revenue,
                "is_active": m.active_on(raw.as_of, window),
                "recency_days": (raw.as_of - m.purchase_days[-1]).days if has_purchase else None,
                "frequency": len(m.purchase_days) if has_purchase else None,
                "monetary": m.net_revenue if has_purchase else None,
                **rfm.get(m.member_id, no_rfm),
            }
        )
    return rows


def _tier_distribution(raw: Raw, tiers: Sequence[str]) -> list[dict[str, Any]]:
    """Spec §3: members enrolled on e per tier (tier on e); every tier every month."""
    rows = []
    for month in raw.months:
        enrolled = [m for m in raw.members if m.enrolled_on(month.e)]
        for rank, tier in enumerate(tiers, start=1):
            count = sum(m.tier_on(month.e) == tier for m in enrolled)
            rows.append(
                {
                    "month_start": month.start,
                    "tier": tier,
                    "tier_rank": rank,
                    "members": count,
                    "share_pct": _pct(count, len(enrolled)),
                }
            )
    return rows


def _tier_migration(raw: Raw, tiers: Sequence[str]) -> list[dict[str, Any]]:
    """Spec §3: members enrolled on s and on e whose tier on s differs from their tier on e, per pair."""
    rows = []
    rank = {tier: position for position, tier in enumerate(tiers, start=1)}
    for month in raw.months:
        moves: dict[tuple[str | None, str | None], int] = defaultdict(int)
        for m in raw.members:
            if m.enrolled_on(month.s) and m.enrolled_on(month.e) and m.tier_on(month.s) != m.tier_on(month.e):
                moves[(m.tier_on(month.s), m.tier_on(month.e))] += 1
        for from_tier in tiers:
            for to_tier in tiers:
                if from_tier == to_tier:
                    continue
                count = moves[(from_tier, to_tier)]
                rows.append(
                    {
                        "month_start": month.start,
                        "from_tier": from_tier,
                        "from_tier_rank": rank[from_tier],
                        "to_tier": to_tier,
                        "to_tier_rank": rank[to_tier],
                        "members": count,
                        "upgrades": count if rank[to_tier] > rank[from_tier] else 0,
                        "downgrades": count if rank[to_tier] < rank[from_tier] else 0,
                        "is_complete_month": month.is_complete,
                    }
                )
    return rows


def _cohort_retention(raw: Raw, window: int) -> list[dict[str, Any]]:
    """Spec §5: cohorts by month of first purchase; a row per month up to A's month, zeros included."""
    cohorts: dict[date, list[Member]] = defaultdict(list)
    for m in raw.members:
        if m.first_purchase_day is not None:
            cohorts[_month_start(m.first_purchase_day)].append(m)
    rows = []
    for cohort_month in sorted(cohorts):
        cohort = cohorts[cohort_month]
        later = [month for month in raw.months if month.start >= cohort_month]
        for months_since, month in enumerate(later):
            active = sum(m.active_on(month.e, window) for m in cohort)
            rows.append(
                {
                    "cohort_month": cohort_month,
                    "months_since_first_purchase": months_since,
                    "cohort_size": len(cohort),
                    "active_members": active,
                    "retention_pct": _pct(active, len(cohort)),
                }
            )
    return rows


# ------------------------------------------------------------------------------------------------ output

_INT = {
    "start_active", "end_active", "new_active", "reactivated", "churned", "retained", "enrolled_members",
    "active_members", "new_enrollments", "cancellations", "member_orders", "lifetime_orders",
    "lifetime_purchase_days", "tier_rank", "members", "months_since_first_purchase", "cohort_size",
    "from_tier_rank", "to_tier_rank", "upgrades", "downgrades",
}  # fmt: skip
_NULLABLE_INT = {
    "recency_days", "frequency", "r_score", "f_score", "m_score", "points_issued", "points_redeemed",
    "points_expired",
}  # fmt: skip
_BOOL = {"is_complete_month", "is_enrolled", "is_active"}
_DATE = {"month_start", "cohort_month", "first_purchase_date", "last_purchase_date"}


def _frame(rows: list[dict[str, Any]], name: str) -> pd.DataFrame:
    """Rows as a frame with the mart's columns: int64, Int64 (nullable), bool, float64 or object dates."""
    columns = COLUMNS[name]
    frame = pd.DataFrame(rows, columns=columns)
    for column in columns:
        if column in _INT:
            frame[column] = frame[column].astype("int64")
        elif column in _NULLABLE_INT:
            frame[column] = frame[column].astype("Int64")
        elif column in _BOOL:
            frame[column] = frame[column].astype(bool)
        elif column in _DATE:
            frame[column] = frame[column].astype(object)
        elif column == "enrolled_at":
            frame[column] = pd.to_datetime(frame[column])
        elif column.endswith(("_pct", "_pp", "_ratio")) or column in {
            "member_net_revenue", "aov", "non_member_aov", "clv_formula", "historical_clv", "monetary", "nps",
            "customer_loyalty_index", "points_liability", "cac",
        }:  # fmt: skip
            frame[column] = frame[column].astype("float64")
    return frame


def compute_reference(
    raw_dir: Path,
    as_of_date: date | None = None,
    churn_window_days: int = 90,
    gross_margin_pct: float = 100.0,
    tiers: Sequence[str] = DEFAULT_TIERS,
    point_value: float = 0.01,
) -> dict[str, pd.DataFrame]:
    """Compute the spec's marts (sections 1 to 5) from the raw files in ``raw_dir``, by brute force."""
    if churn_window_days < 1:
        raise ValueError("churn_window_days must be >= 1")
    raw = load_raw(Path(raw_dir), as_of_date)
    window = churn_window_days
    flow = _base_flow(raw.members, raw.months, window)
    tier_names = [str(_text(tier, lower=True)) for tier in tiers]
    return {
        "member_base_flow_monthly": _frame(flow, "member_base_flow_monthly"),
        "member_base_flow_monthly_by_channel": _frame(
            _base_flow_by_channel(raw, window), "member_base_flow_monthly_by_channel"
        ),
        "kpi_monthly": _frame(_kpi_monthly(raw, flow, window, gross_margin_pct, point_value), "kpi_monthly"),
        "members": _frame(_members(raw, window), "members"),
        "tier_distribution_monthly": _frame(_tier_distribution(raw, tier_names), "tier_distribution_monthly"),
        "tier_migration_monthly": _frame(_tier_migration(raw, tier_names), "tier_migration_monthly"),
        "cohort_retention_monthly": _frame(_cohort_retention(raw, window), "cohort_retention_monthly"),
    }


# ------------------------------------------------------------------------------------------- comparison

_INT_TEXT = re.compile(r"^[+-]?\d+$")
_DATE_TEXT = re.compile(r"^\d{4}-\d{2}-\d{2}([ T]\d{2}:\d{2}(:\d{2}(\.\d+)?)?)?(Z|[+-]\d{2}:?\d{2})?$")


def _canonical(value: Any) -> Any:
    """A cell as None, bool, int, float, pd.Timestamp (tz-naive UTC) or str; text is parsed (CSV)."""
    if _is_null(value):
        return None
    if isinstance(value, bool | np.bool_):
        return bool(value)
    if isinstance(value, int | np.integer):
        return int(value)
    if isinstance(value, float | np.floating | Decimal):
        return float(value)
    if isinstance(value, datetime | date | np.datetime64):
        return _utc(value)
    if isinstance(value, str):
        text = value.strip()
        if text.lower() in ("true", "false"):
            return text.lower() == "true"
        if _INT_TEXT.match(text):
            return int(text)
        if _DATE_TEXT.match(text):
            return _utc(text)
        try:
            number = float(text)
        except ValueError:
            return text
        return None if math.isnan(number) else number
    return value


def _key(values: Iterable[Any]) -> tuple[Any, ...]:
    """A row key: canonical values, integral floats as ints."""
    return tuple(int(v) if isinstance(v, float) and v.is_integer() else v for v in map(_canonical, values))


def _show(value: Any) -> str:
    """A canonical value for a message; midnight timestamps as dates."""
    if isinstance(value, pd.Timestamp) and value == value.normalize():
        return value.date().isoformat()
    return "null" if value is None else repr(value) if isinstance(value, str) else str(value)


def _same(actual: Any, expected: Any, rel_tol: float, abs_tol: float) -> bool:
    """Equality of canonical values: exact, except floats to ``rel_tol`` (``abs_tol`` near 0)."""
    if actual is None or expected is None:
        return actual is None and expected is None
    if isinstance(actual, bool) or isinstance(expected, bool):
        as_bools = [
            v if isinstance(v, bool) else bool(v) if v in (0, 1) else None for v in (actual, expected)
        ]
        return None not in as_bools and as_bools[0] == as_bools[1]
    if isinstance(actual, int | float) and isinstance(expected, int | float):
        if isinstance(actual, int) and isinstance(expected, int):
            return actual == expected
        return math.isclose(actual, expected, rel_tol=rel_tol, abs_tol=abs_tol)
    if isinstance(actual, pd.Timestamp) and isinstance(expected, pd.Timestamp):
        return actual == expected
    return type(actual) is type(expected) and actual == expected


def compare_frames(
    actual: pd.DataFrame,
    expected: pd.DataFrame,
    keys: list[str],
    *,
    rel_tol: float = 1e-9,
    abs_tol: float = 1e-12,
) -> list[str]:
    """Human-readable differences between two tables, matched on ``keys``, over ``expected``'s columns.

    Ints, dates, bools and strings compare exactly, floats to ``rel_tol`` relative (``abs_tol`` only
    absorbs float noise around 0), null equals null. Cells are normalised first, so a CSV read as text,
    a DuckDB result and this module's frames compare alike (``"2024-01-01"`` = ``date(2024, 1, 1)``,
    ``"True"`` = ``True``, ``""`` = NaN = None, Decimal = float). An empty list means equal.
    """
    problems = [f"column {c!r} missing from actual" for c in expected.columns if c not in actual.columns]
    problems += [f"key column {k!r} missing from expected" for k in keys if k not in expected.columns]
    if any(k not in actual.columns or k not in expected.columns for k in keys):
        return problems

    def by_key(frame: pd.DataFrame, side: str) -> dict[tuple[Any, ...], dict[str, Any]]:
        rows: dict[tuple[Any, ...], dict[str, Any]] = {}
        for row in frame.to_dict("records"):
            key = _key(row[k] for k in keys)
            if key in rows:
                problems.append(f"{side}: duplicate key {describe(key)}")
            rows[key] = row
        return rows

    def describe(key: tuple[Any, ...]) -> str:
        return ", ".join(f"{k}={_show(v)}" for k, v in zip(keys, key, strict=True))

    def order(key: tuple[Any, ...]) -> tuple[Any, ...]:
        return tuple((v is None, str(v)) for v in key)

    actual_rows, expected_rows = by_key(actual, "actual"), by_key(expected, "expected")
    problems += [
        f"row missing from actual: {describe(k)}"
        for k in sorted(expected_rows.keys() - actual_rows.keys(), key=order)
    ]
    problems += [
        f"unexpected row in actual: {describe(k)}"
        for k in sorted(actual_rows.keys() - expected_rows.keys(), key=order)
    ]
    value_columns = [c for c in expected.columns if c not in keys and c in actual.columns]
    for key in sorted(expected_rows.keys() & actual_rows.keys(), key=order):
        for column in value_columns:
            got, want = _canonical(actual_rows[key][column]), _canonical(expected_rows[key][column])
            if not _same(got, want, rel_tol, abs_tol):
                problems.append(f"{describe(key)}: {column} = {_show(got)}, expected {_show(want)}")
    return problems
