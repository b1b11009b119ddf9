{#-
    Buyer counts behind repeat purchase, repeat-buyer ratio and one-and-done (kpi-spec §2), per
    month at day e: members with >= 1 and >= 2 distinct purchase days up to e, and the one-and-done
    population (first purchase day <= e - W) with those of it who have exactly one purchase day up to e.
-#}
{%- set window_days = var('churn_window_days') | int %}

with months as (
    select month_start, period_end from {{ ref('int_months') }}
),

buyers as (
    select member_id, first_purchase_date, second_purchase_date
    from {{ ref('int_member_purchase_summary') }}
    where first_purchase_date is not null
),

milestone_changes as (
    select {{ month_start('first_purchase_date') }} as month_start, 1 as first_buyers, 0 as second_buyers
    from buyers

    union all

    select {{ month_start('second_purchase_date') }} as month_start, 0 as first_buyers, 1 as second_buyers
    from buyers
    where second_purchase_date is not null
),

monthly_milestones as (
    select month_start, sum(first_buyers) as first_buyers, sum(second_buyers) as second_buyers
    from milestone_changes
    group by month_start
),

buyers_to_date as (
    select
        months.month_start,
        cast(sum(coalesce(monthly_milestones.first_buyers, 0)) over (
            order by months.month_start rows between unbounded preceding and current row
        ) as {{ dbt.type_bigint() }}) as buyers,
        cast(sum(coalesce(monthly_milestones.second_buyers, 0)) over (
            order by months.month_start rows between unbounded preceding and current row
        ) as {{ dbt.type_bigint() }}) as repeat_buyers
    from months
    left join monthly_milestones
        on months.month_start = monthly_milestones.month_start
),

one_and_done as (
    select
        months.month_start,
        cast(count(*) as {{ dbt.type_bigint() }}) as one_and_done_population,
        cast(sum(
            case when buyers.second_purchase_date is null or buyers.second_purchase_date > months.period_end
                then 1 else 0 end
        ) as {{ dbt.type_bigint() }}) as one_and_done_buyers
    from months
    inner join buyers
        on buyers.first_purchase_date <= {{ add_days('months.period_end', -window_days) }}
    group by months.month_start
),

final as (
    select
        buyers_to_date.month_start,
        buyers_to_date.buyers,
        buyers_to_date.repeat_buyers,
        buyers_to_date.buyers - buyers_to_date.repeat_buyers as single_purchase_day_buyers,
        coalesce(one_and_done.one_and_done_population, 0) as one_and_done_population,
        coalesce(one_and_done.one_and_done_buyers, 0) as one_and_done_buyers
    from buyers_to_date
    left join one_and_done
        on buyers_to_date.month_start = one_and_done.month_start
)

select * from final
