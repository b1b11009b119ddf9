{#-
    Every raw member row, typed, with its verdict: `valid`, `duplicate` (an identical copy of a valid row,
    collapsed) or `quarantined` (with a reason). stg_loyalty__members keeps the valid rows; the quarantine
    model the others. Rules: DECISIONS.md "Quarantine".
-#}
with source as (
    select * from {{ erased_source('members') }} as raw_rows
),

tiers as (
    select tier from {{ ref('tiers') }}
),

parsed as (
    select
        _delivery as delivery,
        nullif(trim(cast(member_id as {{ dbt.type_string() }})), '') as member_id,
        nullif(trim(cast(referred_by_member_id as {{ dbt.type_string() }})), '') as referred_by_member_id,
        coalesce(lower(nullif(trim(cast(enrollment_channel as {{ dbt.type_string() }})), '')), 'unknown')
            as enrollment_channel,
        lower(trim(cast(tier as {{ dbt.type_string() }}))) as tier,
        {{ try_to_utc_timestamp('enrolled_at') }} as enrolled_at,
        {{ try_to_utc_timestamp('cancelled_at') }} as cancelled_at,
        enrolled_at is not null as has_enrolled_at,
        cancelled_at is not null as has_cancelled_at,
        {{ raw_row_hash(source_columns('members')) }} as row_hash
    from source
),

checked as (
    select
        parsed.*,
        case
            when parsed.member_id is null then 'missing_member_id'
            {{ timestamp_problems('parsed.enrolled_at', 'parsed.has_enrolled_at') }}
            when parsed.has_cancelled_at and parsed.cancelled_at is null then 'unparseable_timestamp'
            when parsed.cancelled_at < parsed.enrolled_at then 'cancelled_before_enrolled'
            when tiers.tier is null then 'unknown_tier'
        end as row_problem
    from parsed
    left join tiers
        on parsed.tier = tiers.tier
),

verdicts as (
    select
        *,
        {{ row_verdict_ranks(['member_id'], 'coalesce(cancelled_at, enrolled_at) desc') }}
    from checked
),

final as (
    select
        member_id,
        referred_by_member_id,
        enrollment_channel,
        tier,
        enrolled_at,
        cancelled_at,
        row_hash,
        delivery,
        {{ row_verdict() }}
    from verdicts
)

select * from final
