{#-
    Every raw order-line row, typed, with its verdict (valid / duplicate / quarantined and why). A line
    must belong to a staged transaction (quarantined otherwise: its purchase does not count, so neither
    may the line). Rules: DECISIONS.md "Quarantine".
-#}
{%- set raw_columns = ['order_line_id', 'transaction_id', 'product_id', 'category', 'quantity', 'line_amount'] %}

with source as (
    select * from {{ source('loyalty', 'order_lines') }}
),

transactions as (
    select transaction_id from {{ ref('stg_loyalty__transactions') }}
),

parsed as (
    select
        _delivery as delivery,
        nullif(trim(cast(order_line_id as {{ dbt.type_string() }})), '') as order_line_id,
        nullif(trim(cast(transaction_id as {{ dbt.type_string() }})), '') as transaction_id,
        nullif(trim(cast(product_id as {{ dbt.type_string() }})), '') as product_id,
        coalesce(lower(nullif(trim(cast(category as {{ dbt.type_string() }})), '')), 'unknown') as category,
        {{ try_cast('quantity', 'bigint') }} as quantity,
        nullif(trim(cast(quantity as {{ dbt.type_string() }})), '') is not null as has_quantity,
        {{ try_cast('line_amount', 'decimal(18, 2)') }} as line_amount,
        line_amount is not null as has_line_amount,
        {{ raw_row_hash(raw_columns) }} as row_hash,
        {{ raw_original_values(raw_columns) }} as original_values
    from source
),

checked as (
    select
        parsed.*,
        case
            when parsed.order_line_id is null then 'missing_key'
            when parsed.transaction_id is null then 'missing_transaction_id'
            when not parsed.has_line_amount then 'missing_amount'
            when parsed.line_amount is null then 'invalid_amount'
            when parsed.line_amount < 0 then 'negative_amount'
            when parsed.has_quantity and (parsed.quantity is null or parsed.quantity < 1) then 'invalid_count'
            when transactions.transaction_id is null then 'unknown_transaction'
        end as row_problem
    from parsed
    left join transactions
        on parsed.transaction_id = transactions.transaction_id
),

verdicts as (
    select
        *,
        {{ row_verdict_ranks(['order_line_id'], none) }}
    from checked
),

final as (
    select
        order_line_id,
        transaction_id,
        product_id,
        category,
        coalesce(quantity, 1) as quantity,
        line_amount,
        row_hash,
        original_values,
        delivery,
        {{ row_verdict() }}
    from verdicts
)

select * from final
