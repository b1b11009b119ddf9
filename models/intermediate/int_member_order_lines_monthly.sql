{#-
    One row per member and month with line items on their purchases (raw order_lines joined to the
    member purchases of int_transactions_attributed, days up to A): orders with lines, the ones spanning
    two or more categories, distinct categories bought, and the amount and units of the lines (for the
    mean unit price of up-sell). Member × month at most.

    Incremental on DuckDB and PostgreSQL (DECISIONS.md "Incremental models"; a table on Spark): an
    increment recomputes whole months — those of the transactions whose verdict base_loyalty__transactions
    (re)wrote since this model's last run (verdicts_seen_at), whatever the verdict, and the months that A
    makes stale (macro stale_month: A moved, or never computed; all of them when the model is empty);
    delete+insert on month_start. A pre-hook deletes the months after A (A moved back), a post-hook the
    stale months recomputed empty.
-#}
{{ config(
    pre_hook="{{ delete_months_after_as_of() }}",
    post_hook="{{ delete_stale_months() }}"
) }}

with period as (
    select as_of_date from {{ ref('int_reporting_period') }}
),

-- base_loyalty__transactions is read by each CTE that needs it (a CTE read twice is materialized whole
-- on DuckDB)
verdicts_seen as (
    select max(verdicts_updated_at) as verdicts_seen_at from {{ ref('base_loyalty__transactions') }}
),

{% if is_incremental() -%}
-- base_loyalty__order_lines re-judges the lines of every transaction whose verdict it sees rewritten (and
-- those of unknown transactions, which no month counts), so these months hold every changed line too
changed_months as (
    select distinct {{ month_start('transacted_on') }} as month_start
    from {{ ref('base_loyalty__transactions') }}
    where transacted_on is not null
        and {{ rewritten_since_last_run('verdicts_updated_at', 'verdicts_seen_at') }}
),

member_purchases as (
    select attributed.transaction_id, attributed.member_id, attributed.month_start
    from {{ ref('int_transactions_attributed') }} as attributed
    where attributed.buyer_type = 'member'
        and attributed.transaction_type = 'purchase'
        and (
            attributed.month_start in (select month_start from changed_months)
            or {{ stale_month('attributed.month_start') }}
        )
),
{%- else -%}
member_purchases as (
    select transaction_id, member_id, month_start
    from {{ ref('int_transactions_attributed') }}
    where buyer_type = 'member'
        and transaction_type = 'purchase'
),
{%- endif %}

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
        cast(member_lines.line_amount as {{ type_money() }}) as line_amount,
        period.as_of_date,
        verdicts_seen.verdicts_seen_at
    from member_orders
    cross join period
    cross join verdicts_seen
    inner join member_lines
        on member_orders.member_id = member_lines.member_id
        and member_orders.month_start = member_lines.month_start
)

select * from final
