{{ config(materialized='view') }}
{#-
    Point events up to A, with their month and the points as the spec counts them (kpi-spec §2): issued
    (earn), redeemed and expired as positive numbers whatever sign the file used, adjusted as signed.
    Staged events are of known members only: an event of a member_id not in members is quarantined
    (`unknown_member`), as orphan transactions are (DECISIONS.md "Point events").
-#}
with point_events as (
    select * from {{ ref('stg_loyalty__point_events') }}
),

period as (
    select as_of_date from {{ ref('int_reporting_period') }}
),

attributed as (
    select
        point_events.point_event_id,
        point_events.member_id,
        point_events.event_type,
        coalesce(point_events.point_source, 'unknown') as point_source,
        point_events.occurred_at,
        point_events.occurred_on,
        {{ month_start('point_events.occurred_on') }} as month_start,
        case when point_events.event_type = 'earn' then point_events.points else 0 end as points_issued,
        case when point_events.event_type = 'redeem' then abs(point_events.points) else 0 end as points_redeemed,
        case when point_events.event_type = 'expire' then abs(point_events.points) else 0 end as points_expired,
        case when point_events.event_type = 'adjust' then point_events.points else 0 end as points_adjusted
    from point_events
    cross join period
    where point_events.occurred_on <= period.as_of_date
),

final as (
    select
        *,
        points_issued - points_redeemed - points_expired + points_adjusted as balance_change
    from attributed
)

select * from final
