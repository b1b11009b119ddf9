with source as (
    select * from {{ source('loyalty', 'transactions') }}
),

renamed as (
    select
        -- ids
        nullif(trim(cast(transaction_id as {{ dbt.type_string() }})), '') as transaction_id,
        nullif(trim(cast(member_id as {{ dbt.type_string() }})), '') as member_id,
        -- facts
        cast(amount as decimal(18, 2)) as amount,
        lower(trim(cast(transaction_type as {{ dbt.type_string() }}))) as transaction_type,
        lower(nullif(trim(cast(channel as {{ dbt.type_string() }})), '')) as channel,
        -- time (UTC)
        {{ to_utc_timestamp('transacted_at') }} as transacted_at
    from source
),

with_days as (
    select
        *,
        cast(transacted_at as date) as transacted_on
    from renamed
)

select * from with_days
