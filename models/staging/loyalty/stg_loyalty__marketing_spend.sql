{#- Marketing spend by day and channel: the valid raw rows (base_loyalty__marketing_spend). -#}
with valid_spend as (
    select * from {{ ref('base_loyalty__marketing_spend') }}
    where row_status = 'valid'
),

renamed as (
    select
        spend_date,
        channel,
        amount
    from valid_spend
)

select * from renamed
