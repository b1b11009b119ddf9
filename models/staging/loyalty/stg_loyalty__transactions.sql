{#- Transactions: the valid raw rows (base_loyalty__transactions), typed and cleaned, times in UTC. -#}
with valid_transactions as (
    select * from {{ ref('base_loyalty__transactions') }}
    where row_status = 'valid'
),

renamed as (
    select
        -- ids
        transaction_id,
        member_id,
        -- facts
        amount,
        transaction_type,
        channel,
        -- time (UTC)
        transacted_at,
        cast(transacted_at as date) as transacted_on
    from valid_transactions
)

select * from renamed
