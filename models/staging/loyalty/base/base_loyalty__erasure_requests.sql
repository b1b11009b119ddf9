{#-
    Every raw erasure-request row with its verdict (valid / duplicate / quarantined and why), for the
    reconciliation; a request is a member and a time, so a repeated request is a row of its own. The member ids are already anonymised (erased_source): the requests themselves are
    honoured from the raw table whatever the verdict (macro erased_source). DECISIONS.md "Member erasure".
-#}
with source as (
    select * from {{ erased_source('erasure_requests') }} as raw_rows
),

parsed as (
    select
        _delivery as delivery,
        nullif(trim(cast(member_id as {{ dbt.type_string() }})), '') as erased_member_key,
        {{ try_to_utc_timestamp('requested_at') }} as requested_at,
        requested_at is not null as has_requested_at,
        {{ raw_row_hash(source_columns('erasure_requests')) }} as row_hash
    from source
),

checked as (
    select
        *,
        case
            when erased_member_key is null then 'missing_member_id'
            when has_requested_at and requested_at is null then 'unparseable_timestamp'
        end as row_problem
    from parsed
),

verdicts as (
    select
        *,
        {{ row_verdict_ranks(['erased_member_key', 'requested_at'], none) }}
    from checked
),

final as (
    select
        erased_member_key,
        requested_at,
        row_hash,
        delivery,
        {{ row_verdict() }}
    from verdicts
)

select * from final
