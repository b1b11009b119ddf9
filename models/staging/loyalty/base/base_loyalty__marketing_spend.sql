{#-
    Every raw marketing_spend row, typed, with its verdict (valid / duplicate / quarantined and why). The key
    is (spend_date, channel): one row per day and channel (README "Raw data contract"); of differing rows
    for the same key the one with the greatest row hash is kept (there is no timestamp to order them by),
    the others are quarantined. Rules: DECISIONS.md "Quarantine".
-#}
with source as (
    select * from {{ erased_source('marketing_spend') }} as raw_rows
),

parsed as (
    select
        _delivery as delivery,
        {{ try_cast('spend_date', 'date') }} as spend_date,
        spend_date is not null as has_spend_date,
        coalesce(lower(nullif(trim(cast(channel as {{ dbt.type_string() }})), '')), 'unknown') as channel,
        {{ try_cast('amount', 'decimal(18, 2)') }} as amount,
        nullif(trim(cast(amount as {{ dbt.type_string() }})), '') is not null as has_amount,
        {{ raw_row_hash(source_columns('marketing_spend')) }} as row_hash
    from source
),

checked as (
    select
        *,
        case
            {{ timestamp_problems('spend_date', 'has_spend_date') }}
            when not has_amount then 'missing_amount'
            when amount is null then 'invalid_amount'
            when amount < 0 then 'negative_amount'
        end as row_problem
    from parsed
),

verdicts as (
    select
        *,
        {{ row_verdict_ranks(['spend_date', 'channel'], none) }}
    from checked
),

final as (
    select
        spend_date,
        channel,
        amount,
        row_hash,
        delivery,
        {{ row_verdict() }}
    from verdicts
)

select * from final
