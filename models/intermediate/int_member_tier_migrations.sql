{#-
    One row per member and month whose tier on day e differs from their tier on day s, for members
    enrolled on both days (kpi-spec §3; DECISIONS.md "Tier migration"). Only a spell that ends inside
    (s, e] can lead to another tier on e, so the join starts from those: the cost grows with tier
    changes, not with members × months.
-#}
with months as (
    select month_start, day_before_start, period_end from {{ ref('int_months') }}
),

spells as (
    select member_id, tier, valid_from, valid_to from {{ ref('int_member_tier_spells') }}
),

spells_ending_in_month as (
    select
        months.month_start,
        months.period_end,
        spells.member_id,
        spells.tier as from_tier
    from months
    inner join spells
        on spells.valid_from <= months.day_before_start
        and spells.valid_to > months.day_before_start
        and spells.valid_to <= months.period_end
),

migrations as (
    select
        spells_ending_in_month.month_start,
        spells_ending_in_month.member_id,
        spells_ending_in_month.from_tier,
        spells.tier as to_tier
    from spells_ending_in_month
    inner join spells
        on spells_ending_in_month.member_id = spells.member_id
        and spells.valid_from <= spells_ending_in_month.period_end
        and (spells.valid_to is null or spells.valid_to > spells_ending_in_month.period_end)
    where spells.tier <> spells_ending_in_month.from_tier
)

select * from migrations
