{#-
    Point events: the valid raw rows (base_loyalty__point_events), typed, times in UTC; points are signed
    balance changes. A view, as stg_loyalty__transactions: the incremental work is the base model's.
-#}
with valid_point_events as (
    select * from {{ ref('base_loyalty__point_events') }}
    where row_status = 'valid'
),

renamed as (
    select
        -- ids
        point_event_id,
        member_id,
        transaction_id,
        -- facts
        event_type,
        point_source,
        points,
        -- time (UTC)
        occurred_at,
        occurred_on
    from valid_point_events
)

select * from renamed
