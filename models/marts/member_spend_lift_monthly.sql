with kpis as (
    select
        month_start,
        member_orders,
        member_net_revenue,
        aov,
        non_member_aov,
        member_aov_lift_pct,
        is_complete_month
    from {{ ref('kpi_monthly') }}
),

non_member_transactions as (
    select month_start, orders, net_revenue
    from {{ ref('int_monthly_transactions') }}
    where buyer_type = 'non_member'
),

member_buyers as (
    select {{ month_start('purchase_date') }} as month_start, count(distinct member_id) as member_buyers
    from {{ ref('int_member_purchase_days') }}
    group by {{ month_start('purchase_date') }}
),

final as (
    select
        kpis.month_start,
        kpis.member_orders,
        kpis.member_net_revenue,
        cast(coalesce(member_buyers.member_buyers, 0) as {{ dbt.type_bigint() }}) as member_buyers,
        kpis.aov,
        {{ safe_divide('kpis.member_net_revenue', 'member_buyers.member_buyers') }} as member_spend_per_buyer,
        {{ safe_divide('kpis.member_orders', 'member_buyers.member_buyers') }} as member_orders_per_buyer,
        cast(coalesce(non_member_transactions.orders, 0) as {{ dbt.type_bigint() }}) as non_member_orders,
        cast(coalesce(non_member_transactions.net_revenue, 0) as {{ type_money() }}) as non_member_net_revenue,
        kpis.non_member_aov,
        kpis.member_aov_lift_pct,
        100 * {{ safe_divide('kpis.member_net_revenue', 'kpis.member_net_revenue + coalesce(non_member_transactions.net_revenue, 0)') }}
            as member_revenue_share_pct,
        kpis.is_complete_month
    from kpis
    left join non_member_transactions
        on kpis.month_start = non_member_transactions.month_start
    left join member_buyers
        on kpis.month_start = member_buyers.month_start
)

select
    month_start,
    member_orders,
    member_net_revenue,
    member_buyers,
    aov,
    member_spend_per_buyer,
    member_orders_per_buyer,
    non_member_orders,
    non_member_net_revenue,
    non_member_aov,
    member_aov_lift_pct,
    member_revenue_share_pct,
    is_complete_month
from final
