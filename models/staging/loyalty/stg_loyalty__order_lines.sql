with source as (
    select * from {{ source('loyalty', 'order_lines') }}
),

renamed as (
    select
        -- ids
        nullif(trim(cast(order_line_id as {{ dbt.type_string() }})), '') as order_line_id,
        nullif(trim(cast(transaction_id as {{ dbt.type_string() }})), '') as transaction_id,
        nullif(trim(cast(product_id as {{ dbt.type_string() }})), '') as product_id,
        -- attributes
        coalesce(lower(nullif(trim(cast(category as {{ dbt.type_string() }})), '')), 'unknown') as category,
        -- facts
        coalesce(cast(quantity as {{ dbt.type_bigint() }}), 1) as quantity,
        cast(line_amount as decimal(18, 2)) as line_amount
    from source
)

select * from renamed
