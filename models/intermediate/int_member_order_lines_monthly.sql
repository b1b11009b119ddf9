{#-
    One row per member and month with line items on their purchases (raw order_lines joined to the
    member purchases of int_transactions_attributed, days up to A): orders with lines, the ones spanning
    two or more categories, distinct categories bought, and the amount and units of the lines (for the
    mean unit price of up-sell). Member × month at most.
-#}
with member_purchases as (
    select transaction_id, member_id, month_start
    from {{ ref('int_transactions_attributed') }}
    where buyer_type = 'member'
        and transaction_type = 'purchase'
),

lines as (
    select
        member_purchases.member_id,
        member_purchases.month_start,
        member_purchases.transaction_id,
        order_lines.category,
        order_lines.quantity,
        order_lines.line_amount
    from {{ ref('stg_loyalty__order_lines') }} as order_lines
    inner join member_purchases
        on order_lines.transaction_id = member_purchases.transaction_id
),

orders as (
    select
        member_id,
        month_start,
        transaction_id,
        count(distinct category) as categories
    from lines
    group by member_id, month_start, transaction_id
),

member_orders as (
    select
        member_id,
        month_start,
        count(*) as orders_with_lines,
        sum(case when categories >= 2 then 1 else 0 end) as multi_category_orders
    from orders
    group by member_id, month_start
),

member_lines as (
    select
        member_id,
        month_start,
        count(distinct category) as categories,
        sum(quantity) as units,
        sum(line_amount) as line_amount
    from lines
    group by member_id, month_start
),

final as (
    select
        member_orders.month_start,
        member_orders.member_id,
        cast(member_orders.orders_with_lines as {{ dbt.type_bigint() }}) as orders_with_lines,
        cast(member_orders.multi_category_orders as {{ dbt.type_bigint() }}) as multi_category_orders,
        cast(member_lines.categories as {{ dbt.type_bigint() }}) as categories,
        cast(member_lines.units as {{ dbt.type_bigint() }}) as units,
        cast(member_lines.line_amount as {{ type_money() }}) as line_amount
    from member_orders
    inner join member_lines
        on member_orders.member_id = member_lines.member_id
        and member_orders.month_start = member_lines.month_start
)

select * from final
