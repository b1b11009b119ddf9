"""Seeded, deterministic demo data for every table of the raw contract (``docs/raw_contract.md``).

Members enrol over ``months`` months ending at ``end_date`` (growth plus seasonality). Each member buys
like a BG/NBD customer -- a gamma-distributed purchase rate and a beta-distributed chance of dropping out
after each purchase -- some come back after a long gap, and spend per purchase follows the Gamma-Gamma
model. Tiers follow trailing-12-month spend; a points ledger (earn, redeem, expire, adjust) never goes
negative. Members are processed in chunks and every table is streamed to ``<table>.parquet`` or
``<table>.csv``, so memory stays bounded at any size.
"""

from __future__ import annotations

import csv
from collections import deque
from concurrent.futures import Future, ThreadPoolExecutor
from dataclasses import dataclass
from datetime import date
from decimal import Decimal
from pathlib import Path
from typing import Literal

import numpy as np
import pyarrow as pa
import pyarrow.compute as pc
import pyarrow.csv as pacsv
import pyarrow.parquet as pq
from rich.progress import Progress

Format = Literal["parquet", "csv"]

TIERS_SEED = Path(__file__).resolve().parents[1] / "seeds" / "tiers.csv"
CHUNK_MEMBERS = 50_000
ID_WIDTH = 10  # digits of every generated id except member_id

_TS = pa.timestamp("us")
_MONEY = pa.decimal128(18, 2)
SCHEMAS: dict[str, pa.Schema] = {
    "members": pa.schema(
        [
            ("member_id", pa.string()),
            ("enrolled_at", _TS),
            ("enrollment_channel", pa.string()),
            ("tier", pa.string()),
            ("referred_by_member_id", pa.string()),
            ("email", pa.string()),
            ("cancelled_at", _TS),
        ]
    ),
    "transactions": pa.schema(
        [
            ("transaction_id", pa.string()),
            ("member_id", pa.string()),
            ("transacted_at", _TS),
            ("amount", _MONEY),
            ("transaction_type", pa.string()),
            ("channel", pa.string()),
        ]
    ),
    "tier_changes": pa.schema(
        [
            ("tier_change_id", pa.string()),
            ("member_id", pa.string()),
            ("changed_at", _TS),
            ("from_tier", pa.string()),
            ("to_tier", pa.string()),
            ("reason", pa.string()),
        ]
    ),
    "point_events": pa.schema(
        [
            ("point_event_id", pa.string()),
            ("member_id", pa.string()),
            ("occurred_at", _TS),
            ("event_type", pa.string()),
            ("points", pa.int64()),
            ("source", pa.string()),
            ("transaction_id", pa.string()),
        ]
    ),
    "engagement_events": pa.schema(
        [
            ("engagement_event_id", pa.string()),
            ("member_id", pa.string()),
            ("occurred_at", _TS),
            ("event_type", pa.string()),
            ("channel", pa.string()),
        ]
    ),
    "survey_responses": pa.schema(
        [
            ("response_id", pa.string()),
            ("member_id", pa.string()),
            ("responded_at", _TS),
            ("recommend_score", pa.int32()),
            ("repurchase_score", pa.int32()),
            ("upsell_score", pa.int32()),
            ("comment", pa.string()),
        ]
    ),
    "marketing_spend": pa.schema([("spend_date", pa.date32()), ("channel", pa.string()), ("amount", _MONEY)]),
    "program_visits": pa.schema(
        [("visit_date", pa.date32()), ("channel", pa.string()), ("visitors", pa.int64())]
    ),
    "order_lines": pa.schema(
        [
            ("order_line_id", pa.string()),
            ("transaction_id", pa.string()),
            ("product_id", pa.string()),
            ("category", pa.string()),
            ("quantity", pa.int64()),
            ("line_amount", _MONEY),
        ]
    ),
}
ID_PREFIX = {
    "transactions": "T",
    "tier_changes": "C",
    "point_events": "P",
    "engagement_events": "E",
    "survey_responses": "S",
    "order_lines": "L",
}

DAY = 86_400
WEEK_HOURS = 168.0

# Intensity profiles: calendar month (Jan..Dec), weekday (Mon..Sun), hour of day (UTC).
PURCHASE_BY_MONTH = np.array([0.85, 0.8, 0.92, 0.95, 1.0, 0.97, 0.95, 1.0, 0.95, 1.0, 1.2, 1.6])
ENROL_BY_MONTH = np.array([1.15, 0.9, 0.95, 0.95, 1.0, 0.95, 0.9, 0.95, 1.05, 1.0, 1.15, 1.25])
BY_WEEKDAY = np.array([0.85, 0.85, 0.9, 0.95, 1.1, 1.35, 1.0])
# fmt: off
BY_HOUR = np.array([0.05, 0.03, 0.02, 0.02, 0.02, 0.05, 0.15, 0.35, 0.6, 0.85, 1.0, 1.15,
                    1.3, 1.2, 1.1, 1.1, 1.2, 1.4, 1.5, 1.4, 1.1, 0.8, 0.45, 0.2])
# fmt: on
ENROL_GROWTH_PER_YEAR = 0.35  # log growth rate of the enrolment intensity

ACQUISITION = ("store", "web", "app", "referral", "partner")
REFERRAL = ACQUISITION.index("referral")
ACQUISITION_SHARE = np.array([0.42, 0.24, 0.22, 0.0, 0.12])  # of members not referred
REFERRED_SHARE = 0.2
CANCEL_SHARE = 0.085  # drawn; the ones that would fall after end_date are dropped (~8% remain)
EMAIL_MISSING = 0.03

SALES = ("store", "web", "app")
PREFERRED_CHANNEL = 0.75  # share of a member's purchases in the channel they enrolled through
GUEST_SALES_SHARE = np.array([0.65, 0.25, 0.10])

NEVER_BUY = 0.12
RATE_SHAPE, RATE_MEAN = 0.9, 0.4  # gamma purchase rate per week (BG/NBD r; mean r / alpha)
DROPOUT_A, DROPOUT_B = 1.2, 18.0  # beta dropout probability after each purchase (BG/NBD a, b)
REACTIVATE = 0.3  # share of dropped members that come back
REACTIVATION_GAP_DAYS, REACTIVATION_GAP_SCALE = 90, 60.0  # gap = 90 days + gamma(2, 60 days)
REACTIVATED_RATE = 0.8  # purchase rate after coming back, relative to before
SIGNUP_PURCHASE_STORE, SIGNUP_PURCHASE_OTHER = 0.55, 0.2  # first purchase right after enrolling
SPEND_P, SPEND_Q, SPEND_GAMMA = 4.0, 4.0, 40.0  # Gamma-Gamma: mean spend p * gamma / (q - 1) = 53.3
GUEST_SPEND_SHAPE, GUEST_SPEND_MEAN = 2.2, 42.0
GUEST_SHARE = 0.15  # of all purchases
REFUND_SHARE, PARTIAL_REFUND = 0.03, 0.3
REFUND_DELAY_DAYS = 7.0

ENGAGEMENT_TYPES = ("app_open", "email_click", "review", "social_share", "game_play")
ENGAGEMENT_TYPE_SHARE = np.array([0.45, 0.25, 0.07, 0.08, 0.15])
ENGAGEMENT_CHANNELS = ("app", "email", "web", "social")
ENGAGEMENT_CHANNEL_OF_TYPE = np.array([0, 1, 2, 3, 0])
REVIEW = ENGAGEMENT_TYPES.index("review")
ENGAGEMENT_PER_PURCHASE, ENGAGEMENT_BASE_WEEKLY = 0.6, 0.05
ENGAGEMENT_TAIL_DAYS = 45.0  # members keep engaging this long (mean) after their last purchase

EVENT_TYPES = ("earn", "redeem", "expire", "adjust")
SOURCES = (
    "purchase",
    "promotion",
    "signup",
    "birthday",
    "referral",
    "review",
    "reward",
    "expiry",
    "cancellation",
    "service",
)
EARN, REDEEM, EXPIRE, ADJUST = range(4)
SRC = {name: i for i, name in enumerate(SOURCES)}
FIXED_EARN = {"signup": 100, "birthday": 200, "referral": 250, "review": 50}
PROMOTION_NOVEMBER, PROMOTION_OTHER = 0.25, 0.03  # share of purchases earning double points
REDEEMER = 0.55  # share of members who redeem at all
POINT_BLOCK, REDEEM_CAP = 500, 5_000  # rewards cost multiples of 500 points, at most 5,000 at once
ZERO_ORDER = 0.03  # purchases the member would pay fully with points (1 point = 0.01) if the balance allows
EXPIRY_MONTHS = 13  # points earned in month k expire at the start of month k + 13 (older than 12 months)
ADJUST_PER_YEAR, ADJUST_POSITIVE = 0.05, 0.65
ADJUST_POINTS = np.array([50, 100, 250, 500])

CATEGORIES = ("apparel", "footwear", "beauty", "home", "electronics", "grocery")
CATEGORY_PREFIX = ("AP", "FW", "BE", "HO", "EL", "GR")
PRODUCTS_PER_CATEGORY = 40
EXTRA_LINES_MEAN, MAX_LINES = 0.7, 4  # lines per order: 1 + Poisson(0.7), at most 4
FAVOURITE_CATEGORY = 0.6  # share of a member's lines in their favourite category
EXTRA_QUANTITY_MEAN = 0.3  # quantity per line: 1 + Poisson(0.3)

SURVEY_SHARE, SURVEY_ANONYMOUS, SURVEY_COMMENT = 0.12, 0.03, 0.6
SURVEY_SKIP_REPURCHASE, SURVEY_SKIP_UPSELL = 0.1, 0.15  # shares left unanswered
COMMENTS = (
    (  # recommend 0-6
        "Points take forever to add up.",
        "The app keeps logging me out.",
        "Rewards are not worth the effort.",
        "Customer service never answered my e-mail.",
        "Too many e-mails, too few real offers.",
    ),
    (  # recommend 7-8
        "Decent program, nothing special.",
        "Good prices, the rewards could be better.",
        "Fine overall, checkout was a bit slow.",
        "I like it but rarely remember to use my points.",
    ),
    (  # recommend 9-10
        "Love the rewards, I shop here all the time.",
        "Great service and the points add up fast.",
        "Best loyalty program I am a member of.",
        "The birthday bonus was a lovely surprise.",
        "Free delivery for members is fantastic.",
    ),
)

MARKETING = ("store", "web", "app", "partner")
COST_PER_ENROLMENT = np.array([12.0, 28.0, 35.0, 22.0])
VISIT_CONVERSION = np.array([0.08, 0.03, 0.05, 0.09, 0.04])  # per ACQUISITION channel


@dataclass(frozen=True)
class Tiers:
    """The ``tiers`` seed: names by rank, earn multipliers in hundredths, thresholds in cents."""

    names: tuple[str, ...]
    multiplier_pct: np.ndarray
    threshold_cents: np.ndarray

    @classmethod
    def load(cls, path: Path = TIERS_SEED) -> Tiers:
        """Read the seed, ordered by ``tier_rank``."""
        with path.open(newline="") as f:
            rows = sorted(csv.DictReader(f), key=lambda r: int(r["tier_rank"]))
        return cls(
            names=tuple(r["tier"] for r in rows),
            multiplier_pct=np.array([int(Decimal(r["earn_multiplier"]) * 100) for r in rows]),
            threshold_cents=np.array([int(Decimal(r["qualifying_spend_12m"]) * 100) for r in rows]),
        )


@dataclass(frozen=True)
class _Calendar:
    """The period in UTC epoch seconds, with cumulative intensity clocks sampled at every hour."""

    start: int
    end: int  # first second after end_date
    month_edges: np.ndarray  # month starts, then ``end``
    hour_edges: np.ndarray
    purchase_clock: np.ndarray  # seasonality x weekday x hour of day, in mean hours
    enrol_clock: np.ndarray  # the same shapes plus growth

    @classmethod
    def build(cls, end_date: date, months: int) -> _Calendar:
        first = (end_date.year - 1970) * 12 + end_date.month - months  # months since 1970-01
        month_starts = np.arange(first, first + months + 1).astype("datetime64[M]")
        edges = month_starts.astype("datetime64[s]").astype(np.int64)
        start, end = int(edges[0]), (end_date - date(1970, 1, 1)).days * DAY + DAY
        edges[-1] = end
        hour = np.arange((end - start) // 3600)
        hour_start = (start + hour * 3600).astype("datetime64[s]")
        calendar_month = hour_start.astype("datetime64[M]").astype(np.int64) % 12  # 0 = January
        weekday = (start // DAY + hour // 24 + 3) % 7
        shape = BY_WEEKDAY[weekday] * BY_HOUR[hour % 24]
        purchase = PURCHASE_BY_MONTH[calendar_month] * shape
        enrol = ENROL_BY_MONTH[calendar_month] * shape * np.exp(ENROL_GROWTH_PER_YEAR * hour / (24 * 365.25))
        return cls(
            start=start,
            end=end,
            month_edges=edges,
            hour_edges=(start + np.arange(hour.size + 1) * 3600).astype(np.float64),
            purchase_clock=np.concatenate([[0.0], np.cumsum(purchase / purchase.mean())]),
            enrol_clock=np.concatenate([[0.0], np.cumsum(enrol)]),
        )

    @property
    def months(self) -> int:
        return self.month_edges.size - 1

    def to_clock(self, t: np.ndarray, clock: np.ndarray) -> np.ndarray:
        return np.interp(t, self.hour_edges, clock)

    def from_clock(self, x: np.ndarray, clock: np.ndarray) -> np.ndarray:
        return np.interp(x, clock, self.hour_edges).astype(np.int64)

    def month_of(self, t: np.ndarray) -> np.ndarray:
        return np.searchsorted(self.month_edges, t, "right") - 1


@dataclass(frozen=True)
class _Population:
    """Member facts that cross chunks: enrolment order, referrals and cancellations."""

    enrolled: np.ndarray  # sorted; member i is member_id number i + 1
    horizon: np.ndarray  # cancelled_at, else the end of the period
    cancelled: np.ndarray
    channel: np.ndarray
    referrer: np.ndarray  # index of the referring member, -1 if none
    referral_owner: np.ndarray  # per referral, sorted: the referrer ...
    referral_time: np.ndarray  # ... and when the referred member enrolled

    @classmethod
    def draw(cls, cal: _Calendar, members: int, rng: np.random.Generator) -> _Population:
        clock = np.sort(rng.random(members)) * cal.enrol_clock[-1]
        enrolled = np.minimum(cal.from_clock(clock, cal.enrol_clock), cal.end - 1)
        channel = rng.choice(len(ACQUISITION), members, p=ACQUISITION_SHARE).astype(np.int8)
        earlier = np.searchsorted(enrolled, enrolled, "left")  # members enrolled strictly before
        referred = (rng.random(members) < REFERRED_SHARE) & (earlier > 0)
        referrer = np.where(referred, (rng.random(members) * earlier).astype(np.int64), -1)
        channel[referred] = REFERRAL
        # a referrer stays enrolled at least a day past the last enrolment they brought in
        last_referral = np.full(members, -1, np.int64)
        np.maximum.at(last_referral, referrer[referred], enrolled[referred])
        room = np.maximum(cal.end - enrolled - DAY, 0)
        cancel_at = enrolled + DAY + (rng.random(members) * room).astype(np.int64)
        cancel_at = np.maximum(cancel_at, last_referral + DAY)
        cancelled = (rng.random(members) < CANCEL_SHARE) & (cancel_at < cal.end)
        order = np.argsort(referrer[referred], kind="stable")
        return cls(
            enrolled=enrolled,
            horizon=np.where(cancelled, cancel_at, cal.end),
            cancelled=cancelled,
            channel=channel,
            referrer=referrer,
            referral_owner=referrer[referred][order],
            referral_time=enrolled[referred][order],
        )


@dataclass
class _Purchases:
    """A chunk's member purchases, sorted by member then time."""

    member: np.ndarray
    time: np.ndarray
    cents: np.ndarray
    channel: np.ndarray
    alive_until: np.ndarray  # per member: last purchase if they dropped out, else the horizon


@dataclass
class _Ledger:
    """Point events, tier changes and each member's final tier rank of a chunk."""

    points: dict[str, np.ndarray]
    tier_changes: dict[str, np.ndarray]
    final_rank: np.ndarray


class _Rows:
    """Column-wise accumulator of numpy pieces; scalars are broadcast to the piece's length."""

    def __init__(self, *names: str) -> None:
        self._cols: dict[str, list[np.ndarray]] = {name: [] for name in names}

    def add(self, **cols: np.ndarray | int) -> None:
        size = next(len(v) for v in cols.values() if isinstance(v, np.ndarray))
        for name, value in cols.items():
            self._cols[name].append(np.broadcast_to(np.asarray(value, np.int64), (size,)))

    def arrays(self) -> dict[str, np.ndarray]:
        return {name: np.concatenate(parts) for name, parts in self._cols.items()}


def _spell(
    rng: np.random.Generator, x0: np.ndarray, x1: np.ndarray, rate: np.ndarray, dropout: np.ndarray
) -> tuple[np.ndarray, np.ndarray, np.ndarray, np.ndarray]:
    """BG/NBD purchases of each member on the clock interval [x0, x1).

    An alive member buys as a Poisson process; after each purchase they drop out with probability
    ``dropout``. The first min(N, K) of N uniform order statistics (N Poisson, K geometric) are drawn
    exactly from exponential spacings, so no member draws more than it keeps. Returns the owner and
    clock time of each purchase, and per member whether they dropped out and their last clock time.
    """
    span = x1 - x0
    poisson = rng.poisson(rate * span)
    lifetime = rng.geometric(np.maximum(dropout, 1e-9))  # purchases until dropping out
    kept = np.minimum(poisson, lifetime)
    owner = np.repeat(np.arange(x0.size), kept)
    spacing = np.concatenate([[0.0], np.cumsum(rng.exponential(size=owner.size))])
    ends = np.cumsum(kept)
    first = spacing[ends - kept]
    rest = rng.gamma(poisson - kept + 1)  # the remaining spacings up to the (N + 1)-th
    total = spacing[ends] - first + rest
    position = (spacing[1:] - first[owner]) / total[owner]
    last = x0 + (spacing[ends] - first) / total * span
    return owner, x0[owner] + position * span[owner], lifetime <= poisson, last


def _purchases(
    cal: _Calendar, rng: np.random.Generator, t0: np.ndarray, t1: np.ndarray, channel: np.ndarray
) -> _Purchases:
    """Member purchases: a signup purchase for some, a BG/NBD spell, and a second spell after a comeback."""
    n = t0.size
    rate = rng.gamma(RATE_SHAPE, RATE_MEAN / RATE_SHAPE, n) * (rng.random(n) >= NEVER_BUY) / WEEK_HOURS
    dropout = rng.beta(DROPOUT_A, DROPOUT_B, n)
    clock = cal.purchase_clock
    owner1, x1, dropped1, last1 = _spell(rng, cal.to_clock(t0, clock), cal.to_clock(t1, clock), rate, dropout)

    comeback = cal.from_clock(last1, clock) + (
        (REACTIVATION_GAP_DAYS + rng.gamma(2.0, REACTIVATION_GAP_SCALE, n)) * DAY
    ).astype(np.int64)
    back = np.flatnonzero(dropped1 & (rng.random(n) < REACTIVATE) & (comeback < t1))
    owner2, x2, dropped2, _ = _spell(
        rng,
        cal.to_clock(comeback[back], clock),
        cal.to_clock(t1[back], clock),
        rate[back] * REACTIVATED_RATE,
        dropout[back],
    )
    signup_share = np.where(
        channel == ACQUISITION.index("store"), SIGNUP_PURCHASE_STORE, SIGNUP_PURCHASE_OTHER
    )
    signup_time = t0 + rng.integers(120, 2_400, n)
    signup = np.flatnonzero((rate > 0) & (rng.random(n) < signup_share) & (signup_time < t1))

    member = np.concatenate([owner1, back[owner2], signup])
    time = np.concatenate([cal.from_clock(x1, clock), cal.from_clock(x2, clock), signup_time[signup]])
    time = np.clip(time, t0[member], t1[member] - 1)
    order = np.argsort(member * (cal.end - cal.start) + (time - cal.start), kind="stable")
    member, time = member[order], time[order]

    nu = rng.gamma(SPEND_Q, 1 / SPEND_GAMMA, n)
    cents = np.maximum(np.rint(rng.gamma(SPEND_P, 1 / nu[member]) * 100), 1).astype(np.int64)
    preferred = np.where(channel < len(SALES), channel, rng.integers(0, len(SALES), n))
    sales = np.where(
        rng.random(member.size) < PREFERRED_CHANNEL,
        preferred[member],
        rng.integers(0, len(SALES), member.size),
    )
    dropped = dropped1.copy()
    dropped[back] = dropped2 | (np.bincount(owner2, minlength=back.size) == 0)
    count = np.bincount(member, minlength=n)
    alive_until = t1.copy()
    gone = np.flatnonzero(dropped & (count > 0))
    alive_until[gone] = time[np.cumsum(count)[gone] - 1]
    return _Purchases(member, time, cents, sales, alive_until)


def _first_per_member(rows: np.ndarray, member: np.ndarray) -> np.ndarray:
    """The first of ``rows`` (ordered by member) for each member."""
    m = member[rows]
    return rows[np.r_[True, m[1:] != m[:-1]]] if rows.size else rows


class _Points:
    """Point balances kept in buckets by month earned (spent oldest first), and the events changing them."""

    def __init__(self, members: int, months: int) -> None:
        self.bucket = np.zeros((members, months), np.int64)
        self.balance = np.zeros(members, np.int64)
        self.events = _Rows("member", "time", "type", "points", "source", "purchase")

    def expire(self, month: int, time: int) -> None:
        """At the start of ``month``, expire what is left of the points earned EXPIRY_MONTHS earlier."""
        old = month - EXPIRY_MONTHS
        who = np.flatnonzero(self.bucket[:, old])
        points = self.bucket[who, old]
        self.events.add(member=who, time=time, type=EXPIRE, points=-points, source=SRC["expiry"], purchase=-1)
        self.balance[who] -= points
        self.bucket[who, old] = 0

    def take(self, month: int, who: np.ndarray, points: np.ndarray, **event: np.ndarray | int) -> None:
        """Record a debit of distinct members and take it from their oldest unexpired buckets."""
        self.events.add(member=who, points=-points, **event)
        lo = max(0, month - EXPIRY_MONTHS + 1)
        left = np.maximum(np.cumsum(self.bucket[who, lo : month + 1], axis=1) - points[:, None], 0)
        self.bucket[who, lo : month + 1] = np.diff(left, axis=1, prepend=0)
        self.balance[who] -= points

    def credit(self, month: int, points: np.ndarray) -> None:
        """Add every member's earns of ``month`` (their events are recorded by the caller)."""
        self.bucket[:, month] += points
        self.balance += points

    def forfeit(self, who: np.ndarray, time: np.ndarray) -> None:
        """Expire the whole balance of members leaving the program."""
        who = who[self.balance[who] > 0]
        self.events.add(
            member=who,
            time=time[who],
            type=EXPIRE,
            points=-self.balance[who],
            source=SRC["cancellation"],
            purchase=-1,
        )
        self.bucket[who] = 0
        self.balance[who] = 0


def _ledger(
    cal: _Calendar,
    tiers: Tiers,
    rng: np.random.Generator,
    t0: np.ndarray,
    t1: np.ndarray,
    cancelled: np.ndarray,
    buy: _Purchases,
    refunds: tuple[np.ndarray, np.ndarray, np.ndarray],
    fixed_earns: dict[str, np.ndarray],
    adjusts: dict[str, np.ndarray],
) -> _Ledger:
    """Walk the months: tier review at each month start, then expiry, redemptions, adjustments, earns.

    Tier: at 00:00 UTC on the first of every month a member enrolled before it and not cancelled gets
    the highest tier whose ``qualifying_spend_12m`` is at most their net spend (purchases minus refunds)
    of the 12 preceding calendar months. Redemptions and debits of a month never exceed the balance at
    the month's start and earns only add, so no balance ever goes negative. Zeroes ``buy.cents`` of the
    orders paid fully with points.
    """
    n, months = t0.size, cal.months
    member, cents = buy.member, buy.cents
    month = cal.month_of(buy.time)
    by_month = np.argsort(month, kind="stable")  # keeps member-then-time order inside a month
    month_bounds = np.searchsorted(month[by_month], np.arange(months + 1))
    refund_rows, refund_time, refund_cents = refunds
    net = np.bincount(member * months + month, cents, n * months)
    net -= np.bincount(member[refund_rows] * months + cal.month_of(refund_time), refund_cents, n * months)
    net = net.reshape(n, months)
    november = (buy.time.astype("datetime64[s]").astype("datetime64[M]").astype(int) % 12) == 10
    promotion = rng.random(member.size) < np.where(november, PROMOTION_NOVEMBER, PROMOTION_OTHER)
    zero_candidate = rng.random(member.size) < ZERO_ORDER
    zero_candidate[refund_rows] = False  # a refunded order keeps its amount
    redeem_chance = rng.beta(2.0, 5.0, n) * (rng.random(n) < REDEEMER)
    opportunity = rng.random(member.size) < redeem_chance[member]
    credit_month = np.concatenate([cal.month_of(fixed_earns["time"]), cal.month_of(adjusts["time"])])
    credit_member = np.concatenate([fixed_earns["member"], adjusts["member"]])
    credit_points = np.concatenate([fixed_earns["points"], np.maximum(adjusts["points"], 0)])
    credits = np.bincount(credit_month * n + credit_member, credit_points, n * months).astype(np.int64)
    adjust_month = cal.month_of(adjusts["time"])
    cancel_month = np.where(cancelled, cal.month_of(t1), -1)

    wallet = _Points(n, months)
    changes = _Rows("member", "time", "from_rank", "to_rank")
    rank = np.zeros(n, np.int64)
    for m in range(months):
        start = int(cal.month_edges[m])
        spend = net[:, max(0, m - 12) : m].sum(axis=1)
        new_rank = np.maximum(np.searchsorted(tiers.threshold_cents, spend, "right") - 1, 0)
        moved = np.flatnonzero((t0 < start) & (t1 > start) & (new_rank != rank))
        changes.add(member=moved, time=start, from_rank=rank[moved], to_rank=new_rank[moved])
        rank[moved] = new_rank[moved]
        if m >= EXPIRY_MONTHS:
            wallet.expire(m, start)

        rows = by_month[month_bounds[m] : month_bounds[m + 1]]
        zero = _first_per_member(rows[zero_candidate[rows]], member)
        zero = zero[wallet.balance[member[zero]] >= cents[zero]]  # 1 point pays 0.01
        wallet.take(
            m,
            member[zero],
            cents[zero],
            time=buy.time[zero],
            type=REDEEM,
            source=SRC["reward"],
            purchase=zero,
        )
        net[member[zero], m] -= cents[zero]
        cents[zero] = 0
        reward = _first_per_member(rows[opportunity[rows]], member)
        points = np.minimum(wallet.balance[member[reward]], REDEEM_CAP) // POINT_BLOCK * POINT_BLOCK
        reward, points = reward[points > 0], points[points > 0]
        wallet.take(
            m,
            member[reward],
            points,
            time=buy.time[reward],
            type=REDEEM,
            source=SRC["reward"],
            purchase=reward,
        )
        in_month = np.flatnonzero(adjust_month == m)
        debit = _first_per_member(in_month[adjusts["points"][in_month] < 0], adjusts["member"])
        points = np.minimum(-adjusts["points"][debit], wallet.balance[adjusts["member"][debit]])
        debit, points = debit[points > 0], points[points > 0]
        wallet.take(
            m,
            adjusts["member"][debit],
            points,
            time=adjusts["time"][debit],
            type=ADJUST,
            source=SRC["service"],
            purchase=-1,
        )

        who = member[rows]
        earned = cents[rows] * tiers.multiplier_pct[rank[who]] // 10_000
        bonus = np.where(promotion[rows], earned, 0)
        for points, source in ((earned, "purchase"), (bonus, "promotion")):
            keep = points > 0
            wallet.events.add(
                member=who[keep],
                time=buy.time[rows[keep]],
                type=EARN,
                points=points[keep],
                source=SRC[source],
                purchase=rows[keep],
            )
        purchase_points = np.bincount(who, earned + bonus, n).astype(np.int64)
        wallet.credit(m, purchase_points + credits[m * n : (m + 1) * n])
        wallet.forfeit(np.flatnonzero(cancel_month == m), t1)

    wallet.events.add(**fixed_earns, type=EARN, purchase=-1)
    credit = np.flatnonzero(adjusts["points"] > 0)
    wallet.events.add(
        member=adjusts["member"][credit],
        time=adjusts["time"][credit],
        type=ADJUST,
        points=adjusts["points"][credit],
        source=SRC["service"],
        purchase=-1,
    )
    return _Ledger(wallet.events.arrays(), changes.arrays(), rank)


def _fixed_earns(
    cal: _Calendar,
    rng: np.random.Generator,
    pop: _Population,
    lo: int,
    t0: np.ndarray,
    t1: np.ndarray,
    reviews: tuple[np.ndarray, np.ndarray],
) -> dict[str, np.ndarray]:
    """Earns that do not depend on spend: signup, yearly birthday, referral and review bonuses."""
    n = t0.size
    members = np.arange(n)
    first_year = t0.astype("datetime64[s]").astype("datetime64[Y]").astype(np.int64)
    years = t1.astype("datetime64[s]").astype("datetime64[Y]").astype(np.int64) - first_year + 1
    owner = np.repeat(members, years)
    year = first_year[owner] + np.arange(owner.size) - np.repeat(np.cumsum(years) - years, years)
    birthday = rng.integers(0, 365, n)
    birthday_time = (
        year.astype("datetime64[Y]").astype("datetime64[D]").astype(np.int64) + birthday[owner]
    ) * DAY
    birthday_time += 9 * 3600
    keep = (birthday_time >= t0[owner]) & (birthday_time < t1[owner])
    a, b = np.searchsorted(pop.referral_owner, [lo, lo + n])
    parts = {
        "signup": (members, t0),
        "birthday": (owner[keep], birthday_time[keep]),
        "referral": (pop.referral_owner[a:b] - lo, pop.referral_time[a:b]),
        "review": reviews,
    }
    return {
        "member": np.concatenate([who for who, _ in parts.values()]),
        "time": np.concatenate([time for _, time in parts.values()]),
        "points": np.concatenate([np.full(len(who), FIXED_EARN[k]) for k, (who, _) in parts.items()]),
        "source": np.concatenate([np.full(len(who), SRC[k]) for k, (who, _) in parts.items()]),
    }


def _adjusts(rng: np.random.Generator, t0: np.ndarray, t1: np.ndarray) -> dict[str, np.ndarray]:
    """Service adjustments of either sign at random times, ordered by member."""
    count = rng.poisson(ADJUST_PER_YEAR * (t1 - t0) / (365.25 * DAY))
    member = np.repeat(np.arange(t0.size), count)
    time = t0[member] + (rng.random(member.size) * (t1 - t0)[member]).astype(np.int64)
    sign = np.where(rng.random(member.size) < ADJUST_POSITIVE, 1, -1)
    return {"member": member, "time": time, "points": sign * rng.choice(ADJUST_POINTS, member.size)}


def _engagement(
    cal: _Calendar, rng: np.random.Generator, t0: np.ndarray, t1: np.ndarray, buy: _Purchases
) -> dict[str, np.ndarray]:
    """Engagement at a rate that grows with the member's purchase rate, fading after they drop out."""
    n = t0.size
    weeks = np.maximum(buy.alive_until - t0, DAY) / (7 * DAY)
    purchase_rate = np.bincount(buy.member, minlength=n) / weeks
    rate = ENGAGEMENT_PER_PURCHASE * purchase_rate * rng.lognormal(0.0, 0.5, n) + ENGAGEMENT_BASE_WEEKLY
    tail = (rng.exponential(ENGAGEMENT_TAIL_DAYS, n) * DAY).astype(np.int64)
    until = np.minimum(t1, np.maximum(buy.alive_until, t0) + tail)
    clock = cal.purchase_clock
    x0, x1 = cal.to_clock(t0, clock), cal.to_clock(until, clock)
    member = np.repeat(np.arange(n), rng.poisson(rate / WEEK_HOURS * (x1 - x0)))
    x = x0[member] + rng.random(member.size) * (x1 - x0)[member]
    time = np.clip(cal.from_clock(x, clock), t0[member], t1[member] - 1)
    kind = rng.choice(len(ENGAGEMENT_TYPES), member.size, p=ENGAGEMENT_TYPE_SHARE)
    return {"member": member, "time": time, "type": kind, "channel": ENGAGEMENT_CHANNEL_OF_TYPE[kind]}


def _surveys(
    cal: _Calendar, rng: np.random.Generator, t0: np.ndarray, t1: np.ndarray, buy: _Purchases
) -> dict[str, np.ndarray]:
    """One answer from a sample of members; the more they bought in the last 180 days, the higher."""
    span = t1 - t0 - DAY
    member = np.flatnonzero((rng.random(t0.size) < SURVEY_SHARE) & (span > 0))
    time = t0[member] + DAY + (rng.random(member.size) * span[member]).astype(np.int64)
    width = cal.end - cal.start
    key = buy.member * width + (buy.time - cal.start)
    base = member * width - cal.start
    recent = np.searchsorted(key, base + time, "right") - np.searchsorted(
        key, base + np.maximum(time - 180 * DAY + 1, cal.start), "left"
    )
    score = rng.normal(6.8 + 1.1 * np.log1p(recent), 1.7)
    recommend = np.clip(np.rint(score), 0, 10).astype(np.int64)
    repurchase = np.clip(np.rint(1 + recommend / 2 + rng.normal(0, 0.8, member.size)), 1, 6).astype(np.int64)
    upsell = np.clip(np.rint(0.5 + recommend * 0.4 + rng.normal(0, 1.0, member.size)), 1, 6).astype(np.int64)
    mood = np.searchsorted([7, 9], recommend, "right")
    pick = (rng.random(member.size) * np.array([len(c) for c in COMMENTS])[mood]).astype(np.int64)
    offset = np.cumsum([0] + [len(c) for c in COMMENTS])[mood]
    return {
        "member": member,
        "anonymous": rng.random(member.size) < SURVEY_ANONYMOUS,
        "time": time,
        "recommend": recommend,
        "repurchase": np.where(rng.random(member.size) < SURVEY_SKIP_REPURCHASE, -1, repurchase),
        "upsell": np.where(rng.random(member.size) < SURVEY_SKIP_UPSELL, -1, upsell),
        "comment": np.where(rng.random(member.size) < SURVEY_COMMENT, offset + pick, -1),
    }


def _refunds(
    rng: np.random.Generator, time: np.ndarray, cents: np.ndarray, horizon: np.ndarray
) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    """Refund a few purchases, fully or in part, some days later: the purchase row, time and cents."""
    delay = 3_600 + (rng.exponential(REFUND_DELAY_DAYS, time.size) * DAY).astype(np.int64)
    partial = np.maximum((cents * rng.uniform(0.2, 0.9, time.size)).astype(np.int64), 1)
    refunded = (rng.random(time.size) < REFUND_SHARE) & (cents > 0) & (time + delay < horizon)
    rows = np.flatnonzero(refunded)
    amount = np.where(rng.random(time.size) < PARTIAL_REFUND, partial, cents)
    return rows, (time + delay)[rows], amount[rows]


# -- Arrow conversion -------------------------------------------------------------------------------


def _ids(prefix: str, numbers: np.ndarray, width: int, valid: np.ndarray | None = None) -> pa.Array:
    """``prefix`` + ``numbers`` zero-padded to ``width`` digits: 10**width + n, its leading 1 replaced."""
    padded = pa.array(numbers + 10**width, mask=None if valid is None else ~valid)
    return pc.binary_replace_slice(pc.cast(padded, pa.string()), 0, 1, prefix)


def _product_ids(category: np.ndarray, product: np.ndarray) -> pa.Array:
    """The category's prefix + the product number zero-padded to 4 digits (``AP0042``)."""
    digits = pc.utf8_slice_codeunits(pc.cast(pa.array(product + 10**4), pa.string()), 1)
    return pc.binary_join_element_wise(_labels(CATEGORY_PREFIX, category), digits, "")


def _emails(numbers: np.ndarray, valid: np.ndarray) -> pa.Array:
    """``m<number>@example.com``, null where not ``valid``."""
    digits = pc.cast(pa.array(numbers, mask=~valid), pa.string())
    return pc.binary_replace_slice(pc.binary_replace_slice(digits, 0, 0, "m"), 99, 99, "@example.com")


def _labels(names: tuple[str, ...], codes: np.ndarray, valid: np.ndarray | None = None) -> pa.Array:
    return pa.array(names, pa.string()).take(pa.array(codes, mask=None if valid is None else ~valid))


def _timestamps(seconds: np.ndarray, valid: np.ndarray | None = None) -> pa.Array:
    return pa.array(seconds * 1_000_000, _TS, mask=None if valid is None else ~valid)


def _money(cents: np.ndarray) -> pa.Array:
    """Non-negative cents as decimal128(18, 2), built straight from the 16-byte little-endian values."""
    words = np.zeros((cents.size, 2), np.int64)
    words[:, 0] = cents
    return pa.Array.from_buffers(_MONEY, cents.size, [None, pa.py_buffer(words)])


def _nullable_int(values: np.ndarray) -> pa.Array:
    return pa.array(values, pa.int32(), mask=values < 0)


class _Sink:
    """One streamed output file per table, Parquet or CSV.

    Encoding and compressing (a third of the generator's time) run on a writer thread of their own while
    the next tables are drawn: Arrow releases the GIL there. One thread, so the files' bytes are what one
    thread writing in order gives; at most WRITES_AHEAD tables wait, which bounds the memory."""

    WRITES_AHEAD = 8

    def __init__(self, out_dir: Path, fmt: Format) -> None:
        self._out_dir, self._fmt = out_dir, fmt
        self._writers: dict[str, pq.ParquetWriter | pacsv.CSVWriter] = {}
        self._thread = ThreadPoolExecutor(max_workers=1, thread_name_prefix="generate-writer")
        self._pending: deque[Future[None]] = deque()
        self.rows = dict.fromkeys(SCHEMAS, 0)
        for table in SCHEMAS:
            for suffix in ("parquet", "csv"):
                (out_dir / f"{table}.{suffix}").unlink(missing_ok=True)

    def write(self, table: str, columns: dict[str, pa.Array]) -> None:
        data = pa.Table.from_pydict(columns, schema=SCHEMAS[table])
        if table not in self._writers:
            path = self._out_dir / f"{table}.{self._fmt}"
            self._writers[table] = (
                pq.ParquetWriter(path, SCHEMAS[table], compression="zstd")
                if self._fmt == "parquet"
                else pacsv.CSVWriter(path, _csv_schema(SCHEMAS[table]))
            )
        if self._fmt == "csv":
            data = data.cast(_csv_schema(SCHEMAS[table]))
        self._pending.append(self._thread.submit(self._writers[table].write_table, data))
        while len(self._pending) > self.WRITES_AHEAD:
            self._pending.popleft().result()  # raises the writer's error, if any
        self.rows[table] += data.num_rows

    def close(self) -> None:
        while self._pending:
            self._pending.popleft().result()
        self._thread.shutdown()
        for writer in self._writers.values():
            writer.close()


def _csv_schema(schema: pa.Schema) -> pa.Schema:
    """Whole-second timestamps, so CSV cells read 'YYYY-MM-DD HH:MM:SS'."""
    return pa.schema([f.with_type(pa.timestamp("s")) if f.type == _TS else f for f in schema])


# -- Driver -----------------------------------------------------------------------------------------


def _chunk(
    cal: _Calendar,
    tiers: Tiers,
    pop: _Population,
    lo: int,
    hi: int,
    rng: np.random.Generator,
    next_id: dict[str, int],
    sink: _Sink,
    member_width: int,
    lines_rng: np.random.Generator,
) -> None:
    """Generate and write every per-member table for members [lo, hi), and their guests' purchases.

    ``lines_rng`` draws the order lines alone, so that adding them left every other table as it was."""
    t0, t1, channel, cancelled = (
        pop.enrolled[lo:hi],
        pop.horizon[lo:hi],
        pop.channel[lo:hi],
        pop.cancelled[lo:hi],
    )
    member_ids = _ids("M", np.arange(lo + 1, hi + 1), member_width)
    buy = _purchases(cal, rng, t0, t1, channel)
    refunds = _refunds(rng, buy.time, buy.cents, t1[buy.member])
    engage = _engagement(cal, rng, t0, t1, buy)
    reviews = engage["type"] == REVIEW
    earns = _fixed_earns(cal, rng, pop, lo, t0, t1, (engage["member"][reviews], engage["time"][reviews]))
    ledger = _ledger(cal, tiers, rng, t0, t1, cancelled, buy, refunds, earns, _adjusts(rng, t0, t1))
    guests = _guests(cal, rng, buy)
    number = _write_transactions(sink, next_id, member_ids, buy, refunds, guests)
    _write_order_lines(sink, next_id, lines_rng, number, buy, refunds[0].size, guests)

    points = ledger.points
    order = np.lexsort((points["points"] < 0, points["time"], points["member"]))
    purchase = points["purchase"][order]
    sink.write(
        "point_events",
        {
            "point_event_id": _new_ids(next_id, "point_events", order.size),
            "member_id": member_ids.take(points["member"][order]),
            "occurred_at": _timestamps(points["time"][order]),
            "event_type": _labels(EVENT_TYPES, points["type"][order]),
            "points": pa.array(points["points"][order], pa.int64()),
            "source": _labels(SOURCES, points["source"][order]),
            # purchase -1 (none) picks the appended 0, which is masked as null
            "transaction_id": _ids(
                ID_PREFIX["transactions"], np.append(number, 0)[purchase], ID_WIDTH, purchase >= 0
            ),
        },
    )

    changes = ledger.tier_changes
    order = np.lexsort((changes["time"], changes["member"]))
    up = changes["to_rank"][order] > changes["from_rank"][order]
    sink.write(
        "tier_changes",
        {
            "tier_change_id": _new_ids(next_id, "tier_changes", order.size),
            "member_id": member_ids.take(changes["member"][order]),
            "changed_at": _timestamps(changes["time"][order]),
            "from_tier": _labels(tiers.names, changes["from_rank"][order]),
            "to_tier": _labels(tiers.names, changes["to_rank"][order]),
            "reason": _labels(("requalification", "qualification"), up.astype(np.int8)),
        },
    )

    order = np.lexsort((engage["time"], engage["member"]))
    sink.write(
        "engagement_events",
        {
            "engagement_event_id": _new_ids(next_id, "engagement_events", order.size),
            "member_id": member_ids.take(engage["member"][order]),
            "occurred_at": _timestamps(engage["time"][order]),
            "event_type": _labels(ENGAGEMENT_TYPES, engage["type"][order]),
            "channel": _labels(ENGAGEMENT_CHANNELS, engage["channel"][order]),
        },
    )

    survey = _surveys(cal, rng, t0, t1, buy)
    sink.write(
        "survey_responses",
        {
            "response_id": _new_ids(next_id, "survey_responses", survey["member"].size),
            "member_id": member_ids.take(pa.array(survey["member"], mask=survey["anonymous"])),
            "responded_at": _timestamps(survey["time"]),
            "recommend_score": pa.array(survey["recommend"], pa.int32()),
            "repurchase_score": _nullable_int(survey["repurchase"]),
            "upsell_score": _nullable_int(survey["upsell"]),
            "comment": _labels(sum(COMMENTS, ()), np.maximum(survey["comment"], 0), survey["comment"] >= 0),
        },
    )

    referrer = pop.referrer[lo:hi]
    sink.write(
        "members",
        {
            "member_id": member_ids,
            "enrolled_at": _timestamps(t0),
            "enrollment_channel": _labels(ACQUISITION, channel),
            "tier": _labels(tiers.names, ledger.final_rank),
            "referred_by_member_id": _ids("M", referrer + 1, member_width, referrer >= 0),
            "email": _emails(np.arange(lo + 1, hi + 1), rng.random(hi - lo) >= EMAIL_MISSING),
            "cancelled_at": _timestamps(t1, cancelled),
        },
    )


def _guests(cal: _Calendar, rng: np.random.Generator, buy: _Purchases) -> dict[str, np.ndarray]:
    """Guest purchases at the times members buy (shifted by up to 3 days), smaller baskets, and refunds."""
    count = rng.poisson(buy.member.size * GUEST_SHARE / (1 - GUEST_SHARE))
    like = buy.time[rng.integers(0, max(buy.member.size, 1), count)]
    shifted = like + rng.integers(-3, 4, count) * DAY
    time = np.where((shifted >= cal.start) & (shifted < cal.end), shifted, like)
    spend = rng.gamma(GUEST_SPEND_SHAPE, GUEST_SPEND_MEAN / GUEST_SPEND_SHAPE, count)
    cents = np.maximum(np.rint(spend * 100), 1).astype(np.int64)
    refund_rows, refund_time, refund_cents = _refunds(rng, time, cents, np.full(count, cal.end))
    channel = rng.choice(len(SALES), count, p=GUEST_SALES_SHARE)
    return {
        "time": time,
        "cents": cents,
        "channel": channel,
        "refund_time": refund_time,
        "refund_cents": refund_cents,
        "refund_channel": channel[refund_rows],
    }


def _order_lines(rng: np.random.Generator, cents: np.ndarray, favourite: np.ndarray) -> dict[str, np.ndarray]:
    """Line items of purchases: 1-4 lines whose amounts add up to the purchase's cents exactly, mostly in
    the buyer's favourite category (-1: none, a guest), quantities 1 + Poisson(0.3)."""
    lines = 1 + np.minimum(rng.poisson(EXTRA_LINES_MEAN, cents.size), MAX_LINES - 1)
    order = np.repeat(np.arange(cents.size), lines)
    first = np.r_[True, order[1:] != order[:-1]] if order.size else order.astype(bool)
    weight = rng.gamma(2.0, 1.0, order.size)
    share = weight / np.bincount(order, weight, cents.size)[order]
    amount = np.floor(cents[order] * share).astype(np.int64)
    amount[first] += cents - np.bincount(order, amount, cents.size).astype(np.int64)  # remainder
    own = (favourite[order] >= 0) & (rng.random(order.size) < FAVOURITE_CATEGORY)
    category = np.where(own, favourite[order], rng.integers(0, len(CATEGORIES), order.size))
    return {
        "order": order,
        "category": category,
        "product": rng.integers(1, PRODUCTS_PER_CATEGORY + 1, order.size),
        "quantity": 1 + rng.poisson(EXTRA_QUANTITY_MEAN, order.size),
        "cents": amount,
    }


def _write_order_lines(
    sink: _Sink, next_id: dict[str, int], rng: np.random.Generator, number: np.ndarray, buy: _Purchases,
    refund_rows: int, guests: dict[str, np.ndarray],
) -> None:  # fmt: skip
    """Write the line items of every member and guest purchase (``number``: _write_transactions')."""
    favourite = rng.integers(0, len(CATEGORIES), max(int(buy.member.max(initial=-1)) + 1, 1))
    cents = np.concatenate([buy.cents, guests["cents"]])
    buyer_favourite = np.concatenate([favourite[buy.member], np.full(guests["cents"].size, -1)])
    purchase_number = np.concatenate(
        [number[: buy.member.size], number[buy.member.size + refund_rows :][: guests["cents"].size]]
    )
    lines = _order_lines(rng, cents, buyer_favourite)
    order = np.argsort(purchase_number[lines["order"]], kind="stable")
    category = lines["category"][order]
    sink.write(
        "order_lines",
        {
            "order_line_id": _new_ids(next_id, "order_lines", order.size),
            "transaction_id": _ids(
                ID_PREFIX["transactions"], purchase_number[lines["order"]][order], ID_WIDTH
            ),
            "product_id": _product_ids(category, lines["product"][order]),
            "category": _labels(CATEGORIES, category),
            "quantity": pa.array(lines["quantity"][order], pa.int64()),
            "line_amount": _money(lines["cents"][order]),
        },
    )


def _write_transactions(
    sink: _Sink,
    next_id: dict[str, int],
    member_ids: pa.Array,
    buy: _Purchases,
    refunds: tuple[np.ndarray, np.ndarray, np.ndarray],
    guests: dict[str, np.ndarray],
) -> np.ndarray:
    """Write member and guest purchases and refunds in time order; return the id number of each row.

    Rows are numbered in the order member purchases, member refunds, guest purchases, guest refunds, so
    the first ``buy.member.size`` numbers belong to the member purchases.
    """
    rows, refund_time, refund_cents = refunds
    guest_rows = guests["time"].size + guests["refund_time"].size
    member = np.concatenate([buy.member, buy.member[rows], np.full(guest_rows, -1)])
    time = np.concatenate([buy.time, refund_time, guests["time"], guests["refund_time"]])
    cents = np.concatenate([buy.cents, refund_cents, guests["cents"], guests["refund_cents"]])
    channel = np.concatenate([buy.channel, buy.channel[rows], guests["channel"], guests["refund_channel"]])
    refund = np.repeat(
        [0, 1, 0, 1], [buy.member.size, rows.size, guests["time"].size, guests["refund_time"].size]
    )
    order = np.argsort(time, kind="stable")
    number = np.empty(order.size, np.int64)
    number[order] = next_id["transactions"] + np.arange(order.size)
    next_id["transactions"] += order.size
    sink.write(
        "transactions",
        {
            "transaction_id": _ids(ID_PREFIX["transactions"], number[order], ID_WIDTH),
            "member_id": member_ids.take(pa.array(member[order], mask=member[order] < 0)),
            "transacted_at": _timestamps(time[order]),
            "amount": _money(cents[order]),
            "transaction_type": _labels(("purchase", "refund"), refund[order]),
            "channel": _labels(SALES, channel[order]),
        },
    )
    return number


def _new_ids(next_id: dict[str, int], table: str, count: int) -> pa.Array:
    """The next ``count`` ids of ``table``, numbered on from the previous chunks'."""
    first = next_id[table]
    next_id[table] += count
    return _ids(ID_PREFIX[table], np.arange(first, first + count), ID_WIDTH)


def _daily_tables(cal: _Calendar, pop: _Population, rng: np.random.Generator, sink: _Sink) -> None:
    """Marketing spend and enrolment-page visitors per day and channel, in line with enrolments."""
    days = (cal.end - cal.start) // DAY
    day_clock = cal.enrol_clock[::24]
    expected = np.diff(day_clock) / day_clock[-1] * pop.enrolled.size
    referral_share = np.mean(pop.channel == REFERRAL)
    share = ACQUISITION_SHARE * (1 - referral_share)
    share[REFERRAL] = referral_share
    channels = len(ACQUISITION)
    day = (pop.enrolled - cal.start) // DAY
    enrolled = np.bincount(day * channels + pop.channel, minlength=days * channels).reshape(days, channels)
    lookers = np.outer(expected, share * (1 / VISIT_CONVERSION - 1)) * rng.lognormal(
        0, 0.15, (days, channels)
    )
    visitors = enrolled + rng.poisson(lookers)
    date_numbers = np.repeat(cal.start // DAY + np.arange(days), channels)
    sink.write(
        "program_visits",
        {
            "visit_date": pa.array(date_numbers.astype(np.int32), pa.date32()),
            "channel": _labels(ACQUISITION, np.tile(np.arange(channels), days)),
            "visitors": pa.array(visitors.ravel(), pa.int64()),
        },
    )
    marketing = [ACQUISITION.index(c) for c in MARKETING]
    spend = np.outer(expected, share[marketing] * COST_PER_ENROLMENT) * rng.lognormal(
        0, 0.25, (days, len(MARKETING))
    )
    sink.write(
        "marketing_spend",
        {
            "spend_date": pa.array(
                np.repeat(cal.start // DAY + np.arange(days), len(MARKETING)).astype(np.int32), pa.date32()
            ),
            "channel": _labels(MARKETING, np.tile(np.arange(len(MARKETING)), days)),
            "amount": _money(np.rint(spend.ravel() * 100).astype(np.int64)),
        },
    )


def generate(
    out_dir: Path,
    members: int = 20_000,
    months: int = 36,
    seed: int = 7,
    end_date: date = date(2026, 10, 31),
    fmt: Format = "parquet",
    progress: bool = False,
) -> dict[str, int]:
    """Write every raw table for ``members`` members enrolled over ``months`` months up to ``end_date``.

    The same arguments always give the same files. Existing files of these tables in ``out_dir`` (in
    either format) are replaced. Returns the number of rows written per table.
    """
    if members < 1 or months < 1:
        raise ValueError("members and months must be at least 1")
    if fmt not in ("parquet", "csv"):
        raise ValueError(f"unknown format {fmt!r}: use 'parquet' or 'csv'")
    out_dir.mkdir(parents=True, exist_ok=True)
    cal = _Calendar.build(end_date, months)
    tiers = Tiers.load()
    pop = _Population.draw(cal, members, np.random.default_rng([seed, 0]))
    sink = _Sink(out_dir, fmt)
    next_id = dict.fromkeys(ID_PREFIX, 1)
    member_width = max(8, len(str(members)))
    starts = range(0, members, CHUNK_MEMBERS)
    with Progress(disable=not progress, transient=True) as bar:
        task = bar.add_task("Generating members", total=members)
        for index, lo in enumerate(starts):
            hi = min(lo + CHUNK_MEMBERS, members)
            rng = np.random.default_rng([seed, 1, index])
            lines_rng = np.random.default_rng([seed, 3, index])
            _chunk(cal, tiers, pop, lo, hi, rng, next_id, sink, member_width, lines_rng)
            bar.update(task, advance=hi - lo)
        _daily_tables(cal, pop, np.random.default_rng([seed, 2]), sink)
    sink.close()
    return sink.rows
