{#-
    Engagement events: the valid raw rows (base_loyalty__engagement_events), typed, times in UTC. A view,
    as stg_loyalty__transactions: the incremental work is the base model's.
-#}
with valid_engagement_events as (
    select * from {{ ref('base_loyalty__engagement_events') }}
    where row_status = 'valid'
),

renamed as (
    select
        -- ids
        engagement_event_id,
        member_id,
        -- facts
        event_type,
        channel,
        -- time (UTC)
        occurred_at,
        occurred_on
    from valid_engagement_events
)

select * from renamed
