{#-
    Every raw transaction row, typed, with its verdict: `valid`, `duplicate` (an identical copy of a valid
    row, collapsed) or `quarantined` (with a reason). stg_loyalty__transactions keeps the valid rows; the
    quarantine model the others. Rules: DECISIONS.md "Quarantine".

    Incremental (DECISIONS.md "Incremental models"): a verdict depends on every raw row of the same
    transaction_id, so an increment re-judges whole keys, from the raw file: the keys of the rows dated from
    the last loaded day minus var incremental_lookback_days on (or without a parseable date), and the keys
    whose verdict depends on something other than their own rows — orphans (`unknown_member`: their member
    may have arrived), `future_timestamp` (the build day moves on) and those of members with an erasure
    request (their rows get the anonymous key, macro erased_source): macro incremental_rows_to_judge.
    delete+insert on verdict_key then replaces every row of those keys; verdicts_updated_at tells the
    models downstream which rows changed. On Spark (insert_overwrite by transacted_on partition) the
    increment also carries the other rows of every month partition it rewrites (macro select_increment).
-#}
with source as (
    select * from {{ erased_source('transactions') }} as raw_rows
),

{{ incremental_rows_to_judge('transactions', 'transaction_id', 'transacted_at', 'transacted_on') }}

members as (
    select member_id from {{ ref('stg_loyalty__members') }}
),

parsed as (
    select
        _delivery as delivery,
        nullif(trim(cast(transaction_id as {{ dbt.type_string() }})), '') as transaction_id,
        nullif(trim(cast(member_id as {{ dbt.type_string() }})), '') as member_id,
        {{ try_cast('amount', 'decimal(18, 2)') }} as amount,
        amount is not null as has_amount,
        lower(trim(cast(transaction_type as {{ dbt.type_string() }}))) as transaction_type,
        lower(nullif(trim(cast(channel as {{ dbt.type_string() }})), '')) as channel,
        {{ try_to_utc_timestamp('transacted_at') }} as transacted_at,
        transacted_at is not null as has_transacted_at,
        {{ raw_row_hash(source_columns('transactions')) }} as row_hash
    from rows_to_judge
),

checked as (
    select
        parsed.*,
        case
            when parsed.transaction_id is null then 'missing_transaction_id'
            {{ timestamp_problems('parsed.transacted_at', 'parsed.has_transacted_at') }}
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
    select
        *,
        {{ row_verdict_ranks(['transaction_id'], 'transacted_at desc') }}
    from checked
),

final as (
    select
        coalesce(transaction_id, '') as verdict_key,
        transaction_id,
        member_id,
        amount,
        transaction_type,
        channel,
        transacted_at,
        cast(transacted_at as date) as transacted_on,
        {{ month_start('transacted_at') }} as transacted_month,  -- the partition on Spark
        row_hash,
        delivery,
        {{ row_verdict() }},
        {{ run_started_timestamp() }} as verdicts_updated_at
    from verdicts
)

{{ select_increment('transacted_month') }}
