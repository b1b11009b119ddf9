{#-
    One row per stretch [valid_from, valid_to) during which a member is enrolled and holds one tier
    (kpi-spec §3; DECISIONS.md "Tier on a day"). valid_to is null while the stretch is open. A member
    is enrolled on day d with tier t <=> a spell of t with valid_from <= d < coalesce(valid_to, ∞).
    The changes come from int_member_tier_changes: raw tier_changes, or the members snapshot without it.
-#}
with members as (
    select * from {{ ref('stg_loyalty__members') }}
),

ranked_changes as (
    select
        tier_changes.member_id,
        tier_changes.changed_on,
        tier_changes.from_tier,
        tier_changes.to_tier,
        row_number() over (
            partition by tier_changes.member_id, tier_changes.changed_on
            order by tier_changes.changed_at desc, tier_changes.tier_change_id desc
        ) as rank_in_day,
        row_number() over (
            partition by tier_changes.member_id
            order by tier_changes.changed_at, tier_changes.tier_change_id
        ) as change_number
    from {{ ref('int_member_tier_changes') }} as tier_changes
),

initial_tiers as (
    select
        members.member_id,
        coalesce(first_changes.from_tier, members.tier) as tier,
        -- a change dated before enrolment (bad data) still wins from its day on
        case
            when first_changes.changed_on < members.enrolled_on then first_changes.changed_on
            else members.enrolled_on
        end as valid_from
    from members
    left join ranked_changes as first_changes
        on members.member_id = first_changes.member_id
        and first_changes.change_number = 1
),

tier_starts as (
    select member_id, tier, valid_from, 0 as start_order from initial_tiers

    union all

    select member_id, to_tier as tier, changed_on as valid_from, 1 as start_order
    from ranked_changes
    where rank_in_day = 1
),

tier_periods as (
    select
        member_id,
        tier,
        valid_from,
        lead(valid_from) over (partition by member_id order by valid_from, start_order) as valid_to
    from tier_starts
),

enrolled_periods as (
    select
        tier_periods.member_id,
        tier_periods.tier,
        case
            when tier_periods.valid_from > members.enrolled_on then tier_periods.valid_from
            else members.enrolled_on
        end as valid_from,
        case
            when members.cancelled_on is null then tier_periods.valid_to
            when tier_periods.valid_to is null then members.cancelled_on
            when tier_periods.valid_to < members.cancelled_on then tier_periods.valid_to
            else members.cancelled_on
        end as valid_to
    from tier_periods
    inner join members
        on tier_periods.member_id = members.member_id
)

select * from enrolled_periods
where valid_to is null or valid_from < valid_to
