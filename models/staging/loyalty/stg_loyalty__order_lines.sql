{#- Order lines: the valid raw rows (base_loyalty__order_lines); category 'unknown' when empty, quantity 1 when null. -#}
with valid_order_lines as (
    select * from {{ ref('base_loyalty__order_lines') }}
    where row_status = 'valid'
),

renamed as (
    select
        -- ids
        order_line_id,
        transaction_id,
        product_id,
        -- attributes
        category,
        -- facts
        quantity,
        line_amount
    from valid_order_lines
)

select * from renamed
