{#-
    Distinct members with a purchase in the 12 months ending with each month (for clv_formula's
    purchase_frequency_12m). Each purchase month m of a member covers the windows ending in months
    m … m + 11; a member's later purchase month only adds the windows the earlier ones did not
    cover, so every window counts a member once, from running sums of monthly changes.
-#}
with months as (
    select month_start from {{ ref('int_months') }}
),

purchase_months as (
    select distinct member_id, {{ month_start('purchase_date') }} as purchase_month
    from {{ ref('int_member_purchase_days') }}
),

with_previous as (
    select
        member_id,
        purchase_month,
        lag(purchase_month) over (partition by member_id order by purchase_month) as previous_purchase_month
    from purchase_months
),

coverage as (
    select
        case
            when previous_purchase_month is null then purchase_month
            when {{ add_months('previous_purchase_month', 12) }} <= purchase_month then purchase_month
            else {{ add_months('previous_purchase_month', 12) }}
        end as covered_from,
        {{ add_months('purchase_month', 12) }} as covered_until_exclusive
    from with_previous
),

coverage_changes as (
    select covered_from as month_start, 1 as change from coverage
    union all
    select covered_until_exclusive as month_start, -1 as change from coverage
),

monthly_changes as (
    select month_start, sum(change) as net_change
    from coverage_changes
    group by month_start
),

final as (
    select
        months.month_start,
        cast(sum(coalesce(monthly_changes.net_change, 0)) over (
            order by months.month_start rows between unbounded preceding and current row
        ) as {{ dbt.type_bigint() }}) as buyers_12m
    from months
    left join monthly_changes
        on months.month_start = monthly_changes.month_start
)

select * from final
