{%- set point_value = var('point_value') %}

with months as (
    select month_start, is_complete_month from {{ ref('int_months') }}
),

point_events as (
    select * from {{ ref('int_point_events_attributed') }}
),

ledger as (
    select count(*) > 0 as has_point_events from point_events
),

monthly_points as (
    select
        month_start,
        sum(points_issued) as points_issued,
        sum(case when point_source = 'purchase' then points_issued else 0 end) as points_issued_purchase,
        sum(points_redeemed) as points_redeemed,
        sum(points_expired) as points_expired,
        sum(points_adjusted) as points_adjusted,
        sum(balance_change) as balance_change,
        count(distinct case when event_type = 'earn' then member_id end) as earning_members,
        count(distinct case when event_type = 'redeem' then member_id end) as redeeming_members
    from point_events
    group by month_start
),

monthly as (
    select
        months.month_start,
        months.is_complete_month,
        coalesce(monthly_points.points_issued, 0) as points_issued,
        coalesce(monthly_points.points_issued_purchase, 0) as points_issued_purchase,
        coalesce(monthly_points.points_redeemed, 0) as points_redeemed,
        coalesce(monthly_points.points_expired, 0) as points_expired,
        coalesce(monthly_points.points_adjusted, 0) as points_adjusted,
        coalesce(monthly_points.balance_change, 0) as balance_change,
        coalesce(monthly_points.earning_members, 0) as earning_members,
        coalesce(monthly_points.redeeming_members, 0) as redeeming_members,
        ledger.has_point_events
    from months
    cross join ledger
    left join monthly_points
        on months.month_start = monthly_points.month_start
),

to_date as (
    select
        *,
        sum(balance_change) over (order by month_start rows between unbounded preceding and current row)
            as points_outstanding,
        sum(points_issued) over (order by month_start rows between unbounded preceding and current row)
            as points_issued_to_date,
        sum(points_expired) over (order by month_start rows between unbounded preceding and current row)
            as points_expired_to_date
    from monthly
),

final as (
    select
        month_start,
        case when has_point_events then cast(points_issued as {{ dbt.type_bigint() }}) end as points_issued,
        case when has_point_events
            then cast(points_issued_purchase as {{ dbt.type_bigint() }}) end as points_issued_purchase,
        case when has_point_events
            then cast(points_issued - points_issued_purchase as {{ dbt.type_bigint() }}) end as points_issued_other,
        case when has_point_events then cast(points_redeemed as {{ dbt.type_bigint() }}) end as points_redeemed,
        case when has_point_events then cast(points_expired as {{ dbt.type_bigint() }}) end as points_expired,
        case when has_point_events then cast(points_adjusted as {{ dbt.type_bigint() }}) end as points_adjusted,
        case when has_point_events then cast(earning_members as {{ dbt.type_bigint() }}) end as earning_members,
        case when has_point_events then cast(redeeming_members as {{ dbt.type_bigint() }}) end as redeeming_members,
        case when has_point_events
            then 100 * {{ safe_divide('points_redeemed', 'points_issued') }} end as redemption_rate_pct,
        case when has_point_events
            then cast(points_outstanding as {{ dbt.type_bigint() }}) end as points_outstanding,
        case when has_point_events
            then cast(points_outstanding * {{ point_value }} as {{ type_money() }}) end as points_liability,
        case when has_point_events
            then 100 * {{ safe_divide('points_expired_to_date', 'points_issued_to_date') }} end as breakage_rate_pct,
        is_complete_month
    from to_date
)

select
    month_start,
    points_issued,
    points_issued_purchase,
    points_issued_other,
    points_redeemed,
    points_expired,
    points_adjusted,
    earning_members,
    redeeming_members,
    redemption_rate_pct,
    points_outstanding,
    points_liability,
    breakage_rate_pct,
    is_complete_month
from final
