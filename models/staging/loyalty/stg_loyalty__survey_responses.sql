with source as (
    select * from {{ source('loyalty', 'survey_responses') }}
),

renamed as (
    select
        nullif(trim(cast(response_id as {{ dbt.type_string() }})), '') as response_id,
        nullif(trim(cast(member_id as {{ dbt.type_string() }})), '') as member_id,
        cast(recommend_score as integer) as recommend_score,
        cast(repurchase_score as integer) as repurchase_score,
        cast(upsell_score as integer) as upsell_score,
        nullif(trim(cast(comment as {{ dbt.type_string() }})), '') as comment,
        {{ to_utc_timestamp('responded_at') }} as responded_at
    from source
),

with_days as (
    select
        *,
        cast(responded_at as date) as responded_on
    from renamed
)

select * from with_days
