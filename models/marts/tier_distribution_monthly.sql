with enrolled as (
    select * from {{ ref('int_enrolled_members_monthly') }}
),

tiers as (
    select tier, tier_rank from {{ ref('tiers') }}
),

enrolled_totals as (
    select month_start, cast(sum(enrolled_members) as {{ dbt.type_bigint() }}) as enrolled_members
    from enrolled
    group by month_start
),

final as (
    select
        enrolled.month_start,
        tiers.tier,
        tiers.tier_rank,
        enrolled.enrolled_members as members,
        100 * {{ safe_divide('enrolled.enrolled_members', 'enrolled_totals.enrolled_members') }} as share_pct
    from enrolled
    inner join tiers
        on enrolled.tier = tiers.tier
    inner join enrolled_totals
        on enrolled.month_start = enrolled_totals.month_start
)

select
    month_start,
    tier,
    tier_rank,
    members,
    share_pct
from final
