{#-
    Members enrolled on each month's day e, by tier (kpi-spec §0 "enrolled on day d", §3 tier on
    day d): spells starting up to e minus spells ended by e, as running sums of monthly changes, so
    the cost grows with the number of spells, not with members × months.
-#}
with months as (
    select month_start, period_end from {{ ref('int_months') }}
),

spells as (
    select * from {{ ref('int_member_tier_spells') }}
),

period as (
    select as_of_date from {{ ref('int_reporting_period') }}
),

tiers as (
    select tier from {{ ref('tiers') }}
    union
    select distinct tier from spells
),

spell_changes as (
    select tier, {{ month_start('valid_from') }} as month_start, 1 as change
    from spells
    cross join period
    where valid_from <= period.as_of_date

    union all

    select tier, {{ month_start('valid_to') }} as month_start, -1 as change
    from spells
    cross join period
    where valid_to <= period.as_of_date
),

monthly_changes as (
    select tier, month_start, sum(change) as net_change
    from spell_changes
    group by tier, month_start
),

month_tiers as (
    select months.month_start, tiers.tier
    from months
    cross join tiers
),

enrolled as (
    select
        month_tiers.month_start,
        month_tiers.tier,
        cast(sum(coalesce(monthly_changes.net_change, 0)) over (
            partition by month_tiers.tier
            order by month_tiers.month_start
            rows between unbounded preceding and current row
        ) as {{ dbt.type_bigint() }}) as enrolled_members
    from month_tiers
    left join monthly_changes
        on month_tiers.month_start = monthly_changes.month_start
        and month_tiers.tier = monthly_changes.tier
)

select * from enrolled
