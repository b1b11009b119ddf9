{#-
    Every raw transaction row, typed, with its verdict: `valid`, `duplicate` (an identical copy of a valid
    row, collapsed) or `quarantined` (with a reason). stg_loyalty__transactions keeps the valid rows; the
    quarantine model the others. Rules: DECISIONS.md "Quarantine".

    Incremental (DECISIONS.md "Incremental models"): a verdict depends on every raw row of the same
    transaction_id, so an increment re-judges whole keys, from the raw file: the keys of the rows dated from
    the last loaded day minus var incremental_lookback_days on (or without a parseable date), and the keys
    whose verdict depends on something other than their own rows — orphans (`unknown_member`: their member
    may have arrived), `future_timestamp` (the build day moves on) and those of members with an erasure
    request (their rows get the anonymous key, macro erased_source). delete+insert on verdict_key then
    replaces every row of those keys; verdicts_updated_at tells the models downstream which rows changed.
    On Spark (insert_overwrite by transacted_on partition) the increment also carries the other rows of
    every day partition it rewrites (below).
-#}
{%- set raw_columns = ['transaction_id', 'member_id', 'transacted_at', 'amount', 'transaction_type', 'channel'] %}
{%- set lookback_days = var('incremental_lookback_days') | int %}

with source as (
    select * from {{ erased_source('transactions') }} as raw_rows
),

{% if is_incremental() %}
source_keys as (
    -- the key and the day of every raw row: the only columns an increment reads in full
    select
        coalesce(nullif(trim(cast(transaction_id as {{ dbt.type_string() }})), ''), '') as verdict_key,
        cast({{ try_to_utc_timestamp('transacted_at') }} as date) as transacted_on
    from source
),

last_loaded as (
    -- a future-dated row must not move the window past the days still to come
    select max(transacted_on) as last_loaded_date
    from {{ this }}
    where transacted_on <= {{ quarantine_future_cutoff() }}
),

delivered_keys as (
    select source_keys.verdict_key
    from source_keys
    cross join last_loaded
    where source_keys.transacted_on is null
        or last_loaded.last_loaded_date is null
        or source_keys.transacted_on >= {{ add_days('last_loaded.last_loaded_date', -lookback_days) }}
),

reopened_keys as (
    select verdict_key
    from {{ this }}
    where quarantine_reason in ('unknown_member', 'future_timestamp')
        -- a member forgotten since: the key is re-judged from the raw rows, now anonymised
        or member_id in ({{ erased_member_ids(source('loyalty', 'erasure_requests')) }})
),

changed_keys as (
    select verdict_key from delivered_keys
    union
    select verdict_key from reopened_keys
),

rows_to_judge as (
    select source.*
    from source
    inner join changed_keys
        on coalesce(nullif(trim(cast(source.transaction_id as {{ dbt.type_string() }})), ''), '')
            = changed_keys.verdict_key
),
{% else %}
rows_to_judge as (
    select * from source
),
{% endif %}

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
        row_hash,
        original_values,
        {{ row_verdict() }},
        {{ run_started_timestamp() }} as verdicts_updated_at
    from verdicts
)

{% if is_incremental() and config.get('incremental_strategy') == 'insert_overwrite' %}
{#- insert_overwrite (Spark) replaces whole transacted_on partitions, not keys: each partition holding a
    re-judged row, old or new, is written again with all its rows — the rows of the keys not re-judged
    carried over as they are. -#}
{%- set columns = adapter.get_columns_in_relation(this) | map(attribute='name') | list %}
, rewritten_days as (
    select distinct coalesce(transacted_on, cast('0001-01-01' as date)) as partition_day from final
    union
    select distinct coalesce(transacted_on, cast('0001-01-01' as date)) as partition_day
    from {{ this }}
    where verdict_key in (select verdict_key from changed_keys)
),

carried as (
    select kept.*
    from {{ this }} as kept
    inner join rewritten_days
        on coalesce(kept.transacted_on, cast('0001-01-01' as date)) = rewritten_days.partition_day
    where kept.verdict_key not in (select verdict_key from changed_keys)
)

select {{ columns | join(', ') }} from final
union all
select {{ columns | join(', ') }} from carried
{% else %}
select * from final
{% endif %}
