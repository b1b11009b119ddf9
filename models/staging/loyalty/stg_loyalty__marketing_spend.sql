with source as (
    select * from {{ source('loyalty', 'marketing_spend') }}
),

renamed as (
    select
        cast(spend_date as date) as spend_date,
        coalesce(lower(nullif(trim(cast(channel as {{ dbt.type_string() }})), '')), 'unknown') as channel,
        cast(amount as decimal(18, 2)) as amount
    from source
)

select * from renamed
