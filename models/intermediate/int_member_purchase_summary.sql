{#- One row per member with a transaction up to A: purchase milestones and lifetime totals. -#}
with purchase_days as (
    select
        member_id,
        purchase_date,
        orders,
        row_number() over (partition by member_id order by purchase_date) as purchase_day_number
    from {{ ref('int_member_purchase_days') }}
),

purchase_milestones as (
    select
        member_id,
        min(purchase_date) as first_purchase_date,
        min(case when purchase_day_number = 2 then purchase_date end) as second_purchase_date,
        max(purchase_date) as last_purchase_date,
        cast(sum(orders) as {{ dbt.type_bigint() }}) as lifetime_orders,
        cast(count(*) as {{ dbt.type_bigint() }}) as lifetime_purchase_days
    from purchase_days
    group by member_id
),

member_revenue as (
    select
        member_id,
        sum(case when transaction_type = 'purchase' then amount else 0 end)
            - sum(case when transaction_type = 'refund' then amount else 0 end) as net_revenue
    from {{ ref('int_transactions_attributed') }}
    where buyer_type = 'member'
    group by member_id
),

summary as (
    select
        member_revenue.member_id,
        purchase_milestones.first_purchase_date,
        purchase_milestones.second_purchase_date,
        purchase_milestones.last_purchase_date,
        coalesce(purchase_milestones.lifetime_orders, 0) as lifetime_orders,
        coalesce(purchase_milestones.lifetime_purchase_days, 0) as lifetime_purchase_days,
        member_revenue.net_revenue
    from member_revenue
    left join purchase_milestones
        on member_revenue.member_id = purchase_milestones.member_id
)

select * from summary
