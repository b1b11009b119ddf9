with source as (
    select * from {{ source('loyalty', 'tier_changes') }}
),

renamed as (
    select
        nullif(trim(cast(tier_change_id as {{ dbt.type_string() }})), '') as tier_change_id,
        nullif(trim(cast(member_id as {{ dbt.type_string() }})), '') as member_id,
        lower(trim(cast(from_tier as {{ dbt.type_string() }}))) as from_tier,
        lower(trim(cast(to_tier as {{ dbt.type_string() }}))) as to_tier,
        lower(nullif(trim(cast(reason as {{ dbt.type_string() }})), '')) as reason,
        {{ to_utc_timestamp('changed_at') }} as changed_at
    from source
),

with_days as (
    select
        *,
        cast(changed_at as date) as changed_on
    from renamed
)

select * from with_days
