{#-
    Every raw engagement-event row, typed, with its verdict: `valid`, `duplicate` (an identical copy of a
    valid row, collapsed) or `quarantined` (with a reason). stg_loyalty__engagement_events keeps the valid
    rows; the quarantine model the others. Rules (DECISIONS.md "Quarantine"), first match wins: missing
    key or member, a timestamp missing, unparseable, in the future or before the program, an event type
    that is empty or `purchase` (reserved: engagement_monthly's purchases come from transactions), a member
    that is not a valid member; of differing rows of one engagement_event_id the latest occurred_at wins.
    Any other event type is an engagement (the contract's list is open), lower-cased and trimmed.

    Incremental as base_loyalty__transactions (DECISIONS.md "Incremental models", macro
    incremental_rows_to_judge): whole keys re-judged, delete+insert on verdict_key.
-#}
with source as (
    select * from {{ erased_source('engagement_events') }} as raw_rows
),

{{ incremental_rows_to_judge('engagement_events', 'engagement_event_id', 'occurred_at', 'occurred_on') }}

members as (
    select member_id from {{ ref('stg_loyalty__members') }}
),

parsed as (
    select
        _delivery as delivery,
        nullif(trim(cast(engagement_event_id as {{ dbt.type_string() }})), '') as engagement_event_id,
        nullif(trim(cast(member_id as {{ dbt.type_string() }})), '') as member_id,
        lower(nullif(trim(cast(event_type as {{ dbt.type_string() }})), '')) as event_type,
        lower(nullif(trim(cast(channel as {{ dbt.type_string() }})), '')) as channel,
        {{ try_to_utc_timestamp('occurred_at') }} as occurred_at,
        occurred_at is not null as has_occurred_at,
        {{ raw_row_hash(source_columns('engagement_events')) }} as row_hash
    from rows_to_judge
),

checked as (
    select
        parsed.*,
        case
            when parsed.engagement_event_id is null then 'missing_key'
            when parsed.member_id is null then 'missing_member_id'
            {{ timestamp_problems('parsed.occurred_at', 'parsed.has_occurred_at') }}
            when parsed.event_type is null or parsed.event_type = 'purchase' then 'unknown_event_type'
            when members.member_id is null then 'unknown_member'
        end as row_problem
    from parsed
    left join members
        on parsed.member_id = members.member_id
),

verdicts as (
    select
        *,
        {{ row_verdict_ranks(['engagement_event_id'], 'occurred_at desc') }}
    from checked
),

final as (
    select
        coalesce(engagement_event_id, '') as verdict_key,
        engagement_event_id,
        member_id,
        event_type,
        channel,
        occurred_at,
        cast(occurred_at as date) as occurred_on,
        {{ month_start('occurred_at') }} as occurred_month,  -- the partition on Spark
        row_hash,
        delivery,
        {{ row_verdict() }},
        {{ run_started_timestamp() }} as verdicts_updated_at
    from verdicts
)

{{ select_increment('occurred_month') }}
