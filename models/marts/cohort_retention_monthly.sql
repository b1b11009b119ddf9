with months as (
    select month_index, month_start from {{ ref('int_months') }}
),

cohort_members as (
    select member_id, {{ month_start('first_purchase_date') }} as cohort_month
    from {{ ref('int_member_purchase_summary') }}
    where first_purchase_date is not null
),

cohorts as (
    select
        cohort_members.cohort_month,
        months.month_index as cohort_month_index,
        count(*) as cohort_size
    from cohort_members
    inner join months
        on cohort_members.cohort_month = months.month_start
    group by cohort_members.cohort_month, months.month_index
),

active_at_month_end as (
    select
        cohort_members.cohort_month,
        member_months.month_start,
        count(*) as active_members
    from {{ ref('int_member_months') }} as member_months
    inner join cohort_members
        on member_months.member_id = cohort_members.member_id
    where member_months.is_active_at_end
    group by cohort_members.cohort_month, member_months.month_start
),

final as (
    select
        cohorts.cohort_month,
        months.month_index - cohorts.cohort_month_index as months_since_first_purchase,
        cohorts.cohort_size,
        coalesce(active_at_month_end.active_members, 0) as active_members,
        100 * {{ safe_divide('coalesce(active_at_month_end.active_members, 0)', 'cohorts.cohort_size') }}
            as retention_pct
    from cohorts
    inner join months
        on months.month_start >= cohorts.cohort_month
    left join active_at_month_end
        on cohorts.cohort_month = active_at_month_end.cohort_month
        and months.month_start = active_at_month_end.month_start
)

select
    cohort_month,
    months_since_first_purchase,
    cohort_size,
    active_members,
    retention_pct
from final
