{#-
    Every raw program_visits row, typed, with its verdict (valid / duplicate / quarantined and why). The key
    is (visit_date, channel): one row per day and channel (README "Raw data contract"); of differing rows
    for the same key the one with the greatest row hash is kept (there is no timestamp to order them by),
    the others are quarantined. Rules: DECISIONS.md "Quarantine".
-#}
with source as (
    select * from {{ erased_source('program_visits') }} as raw_rows
),

parsed as (
    select
        _delivery as delivery,
        {{ try_cast('visit_date', 'date') }} as visit_date,
        visit_date is not null as has_visit_date,
        coalesce(lower(nullif(trim(cast(channel as {{ dbt.type_string() }})), '')), 'unknown') as channel,
        {{ try_cast('visitors', 'bigint') }} as visitors,
        nullif(trim(cast(visitors as {{ dbt.type_string() }})), '') is not null as has_visitors,
        {{ raw_row_hash(source_columns('program_visits')) }} as row_hash
    from source
),

checked as (
    select
        *,
        case
            {{ timestamp_problems('visit_date', 'has_visit_date') }}
            when not has_visitors or visitors is null or visitors < 0 then 'invalid_count'
        end as row_problem
    from parsed
),

verdicts as (
    select
        *,
        {{ row_verdict_ranks(['visit_date', 'channel'], none) }}
    from checked
),

final as (
    select
        visit_date,
        channel,
        visitors,
        row_hash,
        delivery,
        {{ row_verdict() }}
    from verdicts
)

select * from final
