{#-
    Every raw point-event row, typed, with its verdict: `valid`, `duplicate` (an identical copy of a valid
    row, collapsed) or `quarantined` (with a reason). stg_loyalty__point_events keeps the valid rows; the
    quarantine model the others. Rules (DECISIONS.md "Quarantine"), first match wins: missing key or
    member, a timestamp missing, unparseable, in the future or before the program, an event type other
    than earn / redeem / expire / adjust (after lower/trim), points missing or not a whole number, a member
    that is not a valid member; of differing rows of one point_event_id the latest occurred_at wins.

    Incremental as base_loyalty__transactions (DECISIONS.md "Incremental models", macro
    incremental_rows_to_judge): whole keys re-judged, delete+insert on verdict_key.
-#}
with source as (
    select * from {{ erased_source('point_events') }} as raw_rows
),

{{ incremental_rows_to_judge('point_events', 'point_event_id', 'occurred_at', 'occurred_on') }}

members as (
    select member_id from {{ ref('stg_loyalty__members') }}
),

parsed as (
    select
        _delivery as delivery,
        nullif(trim(cast(point_event_id as {{ dbt.type_string() }})), '') as point_event_id,
        nullif(trim(cast(member_id as {{ dbt.type_string() }})), '') as member_id,
        nullif(trim(cast(transaction_id as {{ dbt.type_string() }})), '') as transaction_id,
        lower(trim(cast(event_type as {{ dbt.type_string() }}))) as event_type,
        lower(nullif(trim(cast(source as {{ dbt.type_string() }})), '')) as point_source,
        {{ try_cast('points', 'bigint') }} as points,
        {{ try_to_utc_timestamp('occurred_at') }} as occurred_at,
        occurred_at is not null as has_occurred_at,
        {{ raw_row_hash(source_columns('point_events')) }} as row_hash
    from rows_to_judge
),

checked as (
    select
        parsed.*,
        case
            when parsed.point_event_id is null then 'missing_key'
            when parsed.member_id is null then 'missing_member_id'
            {{ timestamp_problems('parsed.occurred_at', 'parsed.has_occurred_at') }}
            when parsed.event_type is null or parsed.event_type not in ('earn', 'redeem', 'expire', 'adjust')
                then 'unknown_event_type'
            when parsed.points is null then 'invalid_points'
            when members.member_id is null then 'unknown_member'
        end as row_problem
    from parsed
    left join members
        on parsed.member_id = members.member_id
),

verdicts as (
    select
        *,
        {{ row_verdict_ranks(['point_event_id'], 'occurred_at desc') }}
    from checked
),

final as (
    select
        coalesce(point_event_id, '') as verdict_key,
        point_event_id,
        member_id,
        transaction_id,
        event_type,
        point_source,
        points,
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
