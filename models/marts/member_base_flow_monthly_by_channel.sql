with months as (
    select month_start, is_complete_month from {{ ref('int_months') }}
),

members as (
    select member_id, enrollment_channel from {{ ref('stg_loyalty__members') }}
),

channels as (
    select distinct enrollment_channel from members
),

member_months as (
    select
        member_months.*,
        members.enrollment_channel
    from {{ ref('int_member_months') }} as member_months
    inner join members
        on member_months.member_id = members.member_id
),

monthly_counts as (
    select
        month_start,
        enrollment_channel,
        {{ base_flow_counts() }}
    from member_months
    group by month_start, enrollment_channel
),

counts as (
    select
        months.month_start,
        channels.enrollment_channel,
        months.is_complete_month,
        coalesce(monthly_counts.start_active, 0) as start_active,
        coalesce(monthly_counts.end_active, 0) as end_active,
        coalesce(monthly_counts.new_active, 0) as new_active,
        coalesce(monthly_counts.reactivated, 0) as reactivated,
        coalesce(monthly_counts.churned, 0) as churned
    from months
    cross join channels
    left join monthly_counts
        on months.month_start = monthly_counts.month_start
        and channels.enrollment_channel = monthly_counts.enrollment_channel
),

final as (
    select
        month_start,
        enrollment_channel,
        {{ base_flow_measures(partition_by='enrollment_channel') }},
        is_complete_month
    from counts
)

select
    month_start,
    enrollment_channel,
    start_active,
    end_active,
    new_active,
    reactivated,
    churned,
    retained,
    crr_pct,
    churn_rate_pct,
    reactivation_rate_pct,
    churn_reduction_pp,
    is_complete_month
from final
