with months as (
    select month_start, is_complete_month from {{ ref('int_months') }}
),

member_months as (
    select * from {{ ref('int_member_order_lines_monthly') }}
),

with_history as (
    -- each member's lines before this month: units and amount to date, for the mean unit price
    select
        *,
        sum(units) over (
            partition by member_id order by month_start rows between unbounded preceding and 1 preceding
        ) as earlier_units,
        sum(line_amount) over (
            partition by member_id order by month_start rows between unbounded preceding and 1 preceding
        ) as earlier_line_amount
    from member_months
),

upsell_flags as (
    select
        *,
        case when earlier_units > 0 then 1 else 0 end as is_upsell_eligible,
        case
            when earlier_units > 0
                and {{ safe_divide('line_amount', 'units') }} > {{ safe_divide('earlier_line_amount', 'earlier_units') }}
                then 1
            else 0
        end as is_upsold
    from with_history
),

monthly as (
    select
        month_start,
        sum(orders_with_lines) as orders_with_lines,
        sum(multi_category_orders) as multi_category_orders,
        count(*) as buyers_with_lines,
        sum(case when categories >= 2 then 1 else 0 end) as multi_category_buyers,
        sum(is_upsell_eligible) as upsell_eligible_buyers,
        sum(is_upsold) as upsold_buyers
    from upsell_flags
    group by month_start
),

measured as (
    select count(*) > 0 as has_order_lines from member_months
),

final as (
    select
        months.month_start,
        case when measured.has_order_lines
            then cast(coalesce(monthly.orders_with_lines, 0) as {{ dbt.type_bigint() }}) end as orders_with_lines,
        case when measured.has_order_lines
            then cast(coalesce(monthly.multi_category_orders, 0) as {{ dbt.type_bigint() }}) end as multi_category_orders,
        100 * {{ safe_divide('monthly.multi_category_orders', 'monthly.orders_with_lines') }} as cross_sell_order_rate_pct,
        case when measured.has_order_lines
            then cast(coalesce(monthly.buyers_with_lines, 0) as {{ dbt.type_bigint() }}) end as buyers_with_lines,
        case when measured.has_order_lines
            then cast(coalesce(monthly.multi_category_buyers, 0) as {{ dbt.type_bigint() }}) end as multi_category_buyers,
        100 * {{ safe_divide('monthly.multi_category_buyers', 'monthly.buyers_with_lines') }} as cross_sell_member_rate_pct,
        case when measured.has_order_lines
            then cast(coalesce(monthly.upsell_eligible_buyers, 0) as {{ dbt.type_bigint() }}) end as upsell_eligible_buyers,
        case when measured.has_order_lines
            then cast(coalesce(monthly.upsold_buyers, 0) as {{ dbt.type_bigint() }}) end as upsold_buyers,
        100 * {{ safe_divide('monthly.upsold_buyers', 'monthly.upsell_eligible_buyers') }} as upsell_rate_pct,
        months.is_complete_month
    from months
    cross join measured
    left join monthly
        on months.month_start = monthly.month_start
)

select
    month_start,
    orders_with_lines,
    multi_category_orders,
    cross_sell_order_rate_pct,
    buyers_with_lines,
    multi_category_buyers,
    cross_sell_member_rate_pct,
    upsell_eligible_buyers,
    upsold_buyers,
    upsell_rate_pct,
    is_complete_month
from final
