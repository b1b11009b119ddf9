{#-
    One row per member, month and kind of engagement (kpi-spec §2 engagement_rate_pct): each event type
    of raw engagement_events, and `purchase` for the member's purchases (from int_member_purchase_days),
    with how many there were. Days up to A (staged events are of known members: the others are
    quarantined as `unknown_member`). Member × month × type at most. Empty when
    raw engagement_events is (absent): the engagement KPIs are then null, not a purchase-only rate.
-#}
with period as (
    select as_of_date from {{ ref('int_reporting_period') }}
),

engagement_events as (
    select
        events.member_id,
        {{ month_start('events.occurred_on') }} as month_start,
        events.event_type
    from {{ ref('stg_loyalty__engagement_events') }} as events
    cross join period
    where events.occurred_on <= period.as_of_date
),

purchases as (
    select member_id, {{ month_start('purchase_date') }} as month_start, 'purchase' as event_type, orders
    from {{ ref('int_member_purchase_days') }}
),

engagement as (
    select member_id, month_start, event_type, count(*) as events
    from engagement_events
    group by member_id, month_start, event_type

    union all

    select member_id, month_start, event_type, sum(orders) as events
    from purchases
    where exists (select 1 from engagement_events)
    group by member_id, month_start, event_type
),

final as (
    select
        month_start,
        member_id,
        event_type,
        cast(sum(events) as {{ dbt.type_bigint() }}) as events
    from engagement
    group by month_start, member_id, event_type
)

select * from final
