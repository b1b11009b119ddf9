with months as (
    select month_start, is_complete_month from {{ ref('int_months') }}
),

tiers as (
    select tier, tier_rank from {{ ref('tiers') }}
),

tier_moves as (
    select
        from_tiers.tier as from_tier,
        from_tiers.tier_rank as from_tier_rank,
        to_tiers.tier as to_tier,
        to_tiers.tier_rank as to_tier_rank
    from tiers as from_tiers
    cross join tiers as to_tiers
    where from_tiers.tier <> to_tiers.tier
),

monthly_migrations as (
    select month_start, from_tier, to_tier, count(*) as members
    from {{ ref('int_member_tier_migrations') }}
    group by month_start, from_tier, to_tier
),

counts as (
    select
        months.month_start,
        tier_moves.from_tier,
        tier_moves.from_tier_rank,
        tier_moves.to_tier,
        tier_moves.to_tier_rank,
        coalesce(monthly_migrations.members, 0) as members,
        months.is_complete_month
    from months
    cross join tier_moves
    left join monthly_migrations
        on months.month_start = monthly_migrations.month_start
        and tier_moves.from_tier = monthly_migrations.from_tier
        and tier_moves.to_tier = monthly_migrations.to_tier
),

final as (
    select
        month_start,
        from_tier,
        from_tier_rank,
        to_tier,
        to_tier_rank,
        cast(members as {{ dbt.type_bigint() }}) as members,
        cast(case when to_tier_rank > from_tier_rank then members else 0 end as {{ dbt.type_bigint() }}) as upgrades,
        cast(case when to_tier_rank < from_tier_rank then members else 0 end as {{ dbt.type_bigint() }}) as downgrades,
        is_complete_month
    from counts
)

select
    month_start,
    from_tier,
    from_tier_rank,
    to_tier,
    to_tier_rank,
    members,
    upgrades,
    downgrades,
    is_complete_month
from final
