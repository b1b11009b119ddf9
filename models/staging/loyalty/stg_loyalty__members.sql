with source as (
    select * from {{ source('loyalty', 'members') }}
),

renamed as (
    select
        -- ids
        nullif(trim(cast(member_id as {{ dbt.type_string() }})), '') as member_id,
        nullif(trim(cast(referred_by_member_id as {{ dbt.type_string() }})), '') as referred_by_member_id,
        -- attributes (email is PII and stops here)
        coalesce(lower(nullif(trim(cast(enrollment_channel as {{ dbt.type_string() }})), '')), 'unknown')
            as enrollment_channel,
        lower(trim(cast(tier as {{ dbt.type_string() }}))) as tier,
        -- time (UTC)
        {{ to_utc_timestamp('enrolled_at') }} as enrolled_at,
        {{ to_utc_timestamp('cancelled_at') }} as cancelled_at
    from source
),

with_days as (
    select
        *,
        cast(enrolled_at as date) as enrolled_on,
        cast(cancelled_at as date) as cancelled_on
    from renamed
)

select * from with_days
