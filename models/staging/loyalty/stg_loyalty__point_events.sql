with source as (
    select * from {{ erased_source('point_events') }} as raw_rows
),

renamed as (
    select
        nullif(trim(cast(point_event_id as {{ dbt.type_string() }})), '') as point_event_id,
        nullif(trim(cast(member_id as {{ dbt.type_string() }})), '') as member_id,
        nullif(trim(cast(transaction_id as {{ dbt.type_string() }})), '') as transaction_id,
        lower(trim(cast(event_type as {{ dbt.type_string() }}))) as event_type,
        lower(nullif(trim(cast(source as {{ dbt.type_string() }})), '')) as point_source,
        cast(points as {{ dbt.type_bigint() }}) as points,
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
