with months as (
    select month_start, is_complete_month from {{ ref('int_months') }}
),

engagement as (
    select * from {{ ref('int_member_engagement_monthly') }}
),

enrolled as (
    select month_start, sum(enrolled_members) as enrolled_members
    from {{ ref('int_enrolled_members_monthly') }}
    group by month_start
),

monthly_engagement as (
    select
        month_start,
        event_type,
        sum(events) as events,
        count(*) as engaged_members
    from engagement
    group by month_start, event_type
),

-- from monthly_engagement, so that the member rows are read once (a CTE read twice is materialized whole
-- on DuckDB)
event_types as (
    select distinct event_type from monthly_engagement
),

final as (
    select
        months.month_start,
        event_types.event_type,
        cast(coalesce(monthly_engagement.events, 0) as {{ dbt.type_bigint() }}) as events,
        cast(coalesce(monthly_engagement.engaged_members, 0) as {{ dbt.type_bigint() }}) as engaged_members,
        cast(coalesce(enrolled.enrolled_members, 0) as {{ dbt.type_bigint() }}) as enrolled_members,
        100 * {{ safe_divide('coalesce(monthly_engagement.engaged_members, 0)', 'enrolled.enrolled_members') }}
            as engagement_rate_pct,
        months.is_complete_month
    from months
    cross join event_types
    left join monthly_engagement
        on months.month_start = monthly_engagement.month_start
        and event_types.event_type = monthly_engagement.event_type
    left join enrolled
        on months.month_start = enrolled.month_start
)

select
    month_start,
    event_type,
    events,
    engaged_members,
    enrolled_members,
    engagement_rate_pct,
    is_complete_month
from final
