{#- Members: the valid raw rows (base_loyalty__members), typed and cleaned; e-mail (PII) dropped. -#}
with valid_members as (
    select * from {{ ref('base_loyalty__members') }}
    where row_status = 'valid'
),

renamed as (
    select
        -- ids
        member_id,
        referred_by_member_id,
        -- attributes
        enrollment_channel,
        tier,
        -- time (UTC)
        enrolled_at,
        cancelled_at,
        cast(enrolled_at as date) as enrolled_on,
        cast(cancelled_at as date) as cancelled_on
    from valid_members
)

select * from renamed
