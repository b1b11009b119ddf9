with source as (
    select * from {{ source('loyalty', 'program_visits') }}
),

renamed as (
    select
        cast(visit_date as date) as visit_date,
        coalesce(lower(nullif(trim(cast(channel as {{ dbt.type_string() }})), '')), 'unknown') as channel,
        cast(visitors as {{ dbt.type_bigint() }}) as visitors
    from source
)

select * from renamed
