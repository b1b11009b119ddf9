{#- Orders and revenue per month and buyer type (member / non_member), up to A. -#}
with transactions as (
    select * from {{ ref('int_transactions_attributed') }}
    where buyer_type in ('member', 'non_member')
),

monthly as (
    select
        month_start,
        buyer_type,
        cast(sum(case when transaction_type = 'purchase' then 1 else 0 end) as {{ dbt.type_bigint() }}) as orders,
        sum(case when transaction_type = 'purchase' then amount else 0 end) as purchase_amount,
        sum(case when transaction_type = 'refund' then amount else 0 end) as refund_amount
    from transactions
    group by month_start, buyer_type
),

final as (
    select
        month_start,
        buyer_type,
        orders,
        purchase_amount,
        refund_amount,
        purchase_amount - refund_amount as net_revenue
    from monthly
)

select * from final
