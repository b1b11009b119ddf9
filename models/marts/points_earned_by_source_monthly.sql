with months as (
    select month_start, is_complete_month from {{ ref('int_months') }}
),

earn_events as (
    select month_start, point_source, member_id, points_issued
    from {{ ref('int_point_events_attributed') }}
    where event_type = 'earn'
),

-- the earn events are read once, by monthly_earns (a CTE read twice is materialized whole on DuckDB)
monthly_earns as (
    select
        month_start,
        point_source,
        sum(points_issued) as points_issued,
        count(*) as earn_events,
        count(distinct member_id) as earning_members
    from earn_events
    group by month_start, point_source
),

sources as (
    select distinct point_source from monthly_earns
),

monthly_totals as (
    select month_start, sum(points_issued) as points_issued
    from monthly_earns
    group by month_start
),

final as (
    select
        months.month_start,
        sources.point_source,
        cast(coalesce(monthly_earns.points_issued, 0) as {{ dbt.type_bigint() }}) as points_issued,
        cast(coalesce(monthly_earns.earn_events, 0) as {{ dbt.type_bigint() }}) as earn_events,
        cast(coalesce(monthly_earns.earning_members, 0) as {{ dbt.type_bigint() }}) as earning_members,
        100 * {{ safe_divide('coalesce(monthly_earns.points_issued, 0)', 'monthly_totals.points_issued') }}
            as share_of_points_issued_pct,
        months.is_complete_month
    from months
    cross join sources
    left join monthly_earns
        on months.month_start = monthly_earns.month_start
        and sources.point_source = monthly_earns.point_source
    left join monthly_totals
        on months.month_start = monthly_totals.month_start
)

select
    month_start,
    point_source,
    points_issued,
    earn_events,
    earning_members,
    share_of_points_issued_pct,
    is_complete_month
from final
