{#-
    Every raw member row, typed, with its verdict: `valid`, `duplicate` (an identical copy of a valid row,
    collapsed) or `quarantined` (with a reason). stg_loyalty__members keeps the valid rows; the quarantine
    model the others. Rules: DECISIONS.md "Quarantine".
-#}
{%- set raw_columns = ['member_id', 'enrolled_at', 'enrollment_channel', 'tier', 'referred_by_member_id', 'email', 'cancelled_at'] %}

with source as (
    select * from {{ source('loyalty', 'members') }}
),

tiers as (
    select tier from {{ ref('tiers') }}
),

parsed as (
    select
        nullif(trim(cast(member_id as {{ dbt.type_string() }})), '') as member_id,
        nullif(trim(cast(referred_by_member_id as {{ dbt.type_string() }})), '') as referred_by_member_id,
        coalesce(lower(nullif(trim(cast(enrollment_channel as {{ dbt.type_string() }})), '')), 'unknown')
            as enrollment_channel,
        lower(trim(cast(tier as {{ dbt.type_string() }}))) as tier,
        {{ try_to_utc_timestamp('enrolled_at') }} as enrolled_at,
        {{ try_to_utc_timestamp('cancelled_at') }} as cancelled_at,
        enrolled_at is not null as has_enrolled_at,
        cancelled_at is not null as has_cancelled_at,
        {{ raw_row_hash(raw_columns) }} as row_hash,
        {{ raw_original_values(raw_columns, pii_columns=['email']) }} as original_values
    from source
),

checked as (
    select
        parsed.*,
        case
            when parsed.member_id is null then 'missing_member_id'
            when not parsed.has_enrolled_at then 'missing_timestamp'
            when parsed.enrolled_at is null then 'unparseable_timestamp'
            when parsed.has_cancelled_at and parsed.cancelled_at is null then 'unparseable_timestamp'
            when cast(parsed.enrolled_at as date) > {{ quarantine_future_cutoff() }} then 'future_timestamp'
            when cast(parsed.enrolled_at as date) < {{ quarantine_program_start() }} then 'timestamp_before_program_start'
            when parsed.cancelled_at < parsed.enrolled_at then 'cancelled_before_enrolled'
            when tiers.tier is null then 'unknown_tier'
        end as row_problem
    from parsed
    left join tiers
        on parsed.tier = tiers.tier
),

verdicts as (
    -- copies and versions are counted among the rows without a problem of their own
    select
        *,
        row_number() over (
            partition by member_id, row_hash, row_problem is null order by row_hash
        ) as copy_number,
        dense_rank() over (
            partition by member_id, row_problem is null
            order by coalesce(cancelled_at, enrolled_at) desc, row_hash desc
        ) as version_rank
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
