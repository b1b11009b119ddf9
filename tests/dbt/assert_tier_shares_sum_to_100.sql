{#- Tier shares sum to 100 in every month with enrolled members, and tier counts to enrolled_members. -#}
{{ config(meta={'dagster': {'ref': {'name': 'tier_distribution_monthly'}}}) }}
with tier_totals as (
    select
        month_start,
        sum(share_pct) as total_share_pct,
        sum(members) as tier_members
    from {{ ref('tier_distribution_monthly') }}
    group by month_start
)

select
    tier_totals.month_start,
    tier_totals.total_share_pct,
    tier_totals.tier_members,
    kpi.enrolled_members
from tier_totals
inner join {{ ref('kpi_monthly') }} as kpi
    on tier_totals.month_start = kpi.month_start
where tier_totals.tier_members <> kpi.enrolled_members
    or (kpi.enrolled_members > 0 and abs(tier_totals.total_share_pct - 100) > 1e-6)
