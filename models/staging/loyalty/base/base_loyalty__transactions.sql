{#-
    Every raw transaction row, typed, with its verdict: `valid`, `duplicate` (an identical copy of a valid
    row, collapsed) or `quarantined` (with a reason). stg_loyalty__transactions keeps the valid rows; the
    quarantine model the others. Rules: DECISIONS.md "Quarantine".
-#}
{%- set raw_columns = ['transaction_id', 'member_id', 'transacted_at', 'amount', 'transaction_type', 'channel'] %}

with source as (
    select * from {{ source('loyalty', 'transactions') }}
),

members as (
    select member_id from {{ ref('stg_loyalty__members') }}
),

parsed as (
    select
        nullif(trim(cast(transaction_id as {{ dbt.type_string() }})), '') as transaction_id,
        nullif(trim(cast(member_id as {{ dbt.type_string() }})), '') as member_id,
        {{ try_cast('amount', 'decimal(18, 2)') }} as amount,
        amount is not null as has_amount,
        lower(trim(cast(transaction_type as {{ dbt.type_string() }}))) as transaction_type,
        lower(nullif(trim(cast(channel as {{ dbt.type_string() }})), '')) as channel,
        {{ try_to_utc_timestamp('transacted_at') }} as transacted_at,
        transacted_at is not null as has_transacted_at,
        {{ raw_row_hash(raw_columns) }} as row_hash,
        {{ raw_original_values(raw_columns) }} as original_values
    from source
),

checked as (
    select
        parsed.*,
        case
            when parsed.transaction_id is null then 'missing_transaction_id'
            when not parsed.has_transacted_at then 'missing_timestamp'
            when parsed.transacted_at is null then 'unparseable_timestamp'
            when cast(parsed.transacted_at as date) > {{ quarantine_future_cutoff() }} then 'future_timestamp'
            when cast(parsed.transacted_at as date) < {{ quarantine_program_start() }} then 'timestamp_before_program_start'
            when not parsed.has_amount then 'missing_amount'
            when parsed.amount is null then 'invalid_amount'
            when parsed.amount < 0 then 'negative_amount'
            when parsed.transaction_type is null or parsed.transaction_type not in ('purchase', 'refund')
                then 'unknown_transaction_type'
            when parsed.member_id is not null and members.member_id is null then 'unknown_member'
        end as row_problem
    from parsed
    left join members
        on parsed.member_id = members.member_id
),

verdicts as (
    -- copies and versions are counted among the rows without a problem of their own
    select
        *,
        row_number() over (
            partition by transaction_id, row_hash, row_problem is null order by row_hash
        ) as copy_number,
        dense_rank() over (
            partition by transaction_id, row_problem is null
            order by transacted_at desc, row_hash desc
        ) as version_rank
    from checked
),

final as (
    select
        transaction_id,
        member_id,
        amount,
        transaction_type,
        channel,
        transacted_at,
        row_hash,
        original_values,
        case
            when row_problem is not null then 'quarantined'
            when version_rank > 1 then 'quarantined'
            when copy_number > 1 then 'duplicate'
            else 'valid'
        end as row_status,
        coalesce(row_problem, case when version_rank > 1 then 'conflicting_duplicate' end) as quarantine_reason
    from verdicts
)

select * from final
