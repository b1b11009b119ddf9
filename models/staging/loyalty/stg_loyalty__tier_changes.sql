{#- Tier changes: the valid raw rows (base_loyalty__tier_changes); the new tier is effective from changed_on. -#}
with valid_tier_changes as (
    select * from {{ ref('base_loyalty__tier_changes') }}
    where row_status = 'valid'
),

renamed as (
    select
        -- ids
        tier_change_id,
        member_id,
        -- attributes
        from_tier,
        to_tier,
        reason,
        -- time (UTC)
        changed_at,
        cast(changed_at as date) as changed_on
    from valid_tier_changes
)

select * from renamed
