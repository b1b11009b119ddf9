with source as (
    select * from {{ erased_source('engagement_events') }} as raw_rows
),

renamed as (
    select
        nullif(trim(cast(engagement_event_id as {{ dbt.type_string() }})), '') as engagement_event_id,
        nullif(trim(cast(member_id as {{ dbt.type_string() }})), '') as member_id,
        lower(trim(cast(event_type as {{ dbt.type_string() }}))) as event_type,
        lower(nullif(trim(cast(channel as {{ dbt.type_string() }})), '')) as channel,
        {{ to_utc_timestamp('occurred_at') }} as occurred_at
    from source
),

with_days as (
    select
        *,
        cast(occurred_at as date) as occurred_on
    from renamed
)

select * from with_days
