with months as (
    select month_start, is_complete_month from {{ ref('int_months') }}
),

member_months as (
    select * from {{ ref('int_member_months') }}
),

monthly_counts as (
    select
        month_start,
        {{ base_flow_counts() }}
    from member_months
    group by month_start
),

counts as (
    select
        months.month_start,
        months.is_complete_month,
        coalesce(monthly_counts.start_active, 0) as start_active,
        coalesce(monthly_counts.end_active, 0) as end_active,
        coalesce(monthly_counts.new_active, 0) as new_active,
        coalesce(monthly_counts.reactivated, 0) as reactivated,
        coalesce(monthly_counts.churned, 0) as churned
    from months
    left join monthly_counts
        on months.month_start = monthly_counts.month_start
),

final as (
    select
        month_start,
        {{ base_flow_measures() }},
        is_complete_month
    from counts
)

select
    month_start,
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
