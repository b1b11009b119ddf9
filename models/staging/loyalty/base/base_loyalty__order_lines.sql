{#-
    Every raw order-line row, typed, with its verdict (valid / duplicate / quarantined and why). A line
    must belong to a staged transaction (quarantined otherwise: its purchase does not count, so neither
    may the line). Rules: DECISIONS.md "Quarantine".

    Incremental on DuckDB and PostgreSQL (DECISIONS.md "Incremental models"; a table on Spark, whose
    insert_overwrite needs a date to partition by and order lines have no date): a line's verdict depends on
    every raw row of its order_line_id and on whether its transaction is staged, so an increment re-judges
    whole keys, from the raw rows: every line of a new delivery (a raw file the model has no row of, macro
    changed_deliveries), the lines of a grown delivery (its row count changed) of no transaction or of one
    that base_loyalty__transactions does not know, and the lines of the transactions whose verdict
    base_loyalty__transactions (re)wrote since this model's last run (verdicts_updated_at after the newest
    transactions_seen_at here). delete+insert on verdict_key replaces every row of those keys. A line
    appended late to a grown delivery for a transaction loaded before is not seen: raw_reconciliation then
    counts it unaccounted and the build fails (deliver it as a new file, or run with --full-refresh).
-#}
with source as (
    select * from {{ erased_source('order_lines') }} as raw_rows
),

transactions_seen as (
    select max(verdicts_updated_at) as transactions_seen_at from {{ ref('base_loyalty__transactions') }}
),

{% if is_incremental() -%}
{%- set deliveries = changed_deliveries('order_lines') %}
-- (each CTE below reads its relations directly: a CTE read twice is materialized whole on DuckDB)
changed_transactions as (
    select verdict_key
    from {{ ref('base_loyalty__transactions') }}
    where {{ rewritten_since_last_run('verdicts_updated_at', 'transactions_seen_at') }}
),

delivered_lines as (
    -- the lines of a new or grown delivery: the only raw files read in full
    select
        {{ verdict_key('order_line_id') }} as verdict_key,
        {{ verdict_key('transaction_id') }} as transaction_key,
        _delivery as delivery
    from {{ erased_source('order_lines') }} as raw_rows
    where {{ delivery_in(deliveries.new + deliveries.grown) }}
),

known_transactions as (
    -- the transactions of those lines that base_loyalty__transactions knows, whatever their verdict
    select verdict_key
    from {{ ref('base_loyalty__transactions') }}
    where verdict_key in (select transaction_key from delivered_lines)
),

changed_keys as (
    -- every line of a new delivery; of a grown one, the lines of no or an unknown transaction
    select delivered_lines.verdict_key
    from delivered_lines
    where {{ delivery_in(deliveries.new, 'delivered_lines.delivery') }}
        or delivered_lines.transaction_key = ''
        or delivered_lines.transaction_key not in (select verdict_key from known_transactions)

    union

    -- the lines of the transactions re-judged
    select {{ verdict_key('raw_rows.order_line_id') }} as verdict_key
    from {{ erased_source('order_lines') }} as raw_rows
    where {{ verdict_key('raw_rows.transaction_id') }} in (select verdict_key from changed_transactions)
),

rows_to_judge as (
    select source.*
    from source
    inner join changed_keys
        on {{ verdict_key('source.order_line_id') }} = changed_keys.verdict_key
),
{%- else -%}
rows_to_judge as (
    select * from source
),
{%- endif %}

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
        {{ raw_row_hash(source_columns('order_lines')) }} as row_hash
    from rows_to_judge
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
        coalesce(order_line_id, '') as verdict_key,
        order_line_id,
        transaction_id,
        product_id,
        category,
        coalesce(quantity, 1) as quantity,
        line_amount,
        row_hash,
        delivery,
        {{ row_verdict() }},
        transactions_seen.transactions_seen_at
    from verdicts
    cross join transactions_seen
)

select * from final
