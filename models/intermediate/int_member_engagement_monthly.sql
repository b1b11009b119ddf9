{#-
    One row per member, month and kind of engagement (kpi-spec §2 engagement_rate_pct): each event type
    of raw engagement_events, and `purchase` for the member's purchases (from int_member_purchase_days),
    with how many there were. Days up to A (staged events are of known members: the others are
    quarantined as `unknown_member`). Member × month × type at most. Empty when
    raw engagement_events is (absent): the engagement KPIs are then null, not a purchase-only rate.

    Incremental on DuckDB and PostgreSQL (DECISIONS.md "Incremental models"; a table on Spark): an
    increment recomputes whole months — those of the engagement events whose verdict
    base_loyalty__engagement_events (re)wrote since this model's last run (engagement_verdicts_seen_at),
    those of the transactions whose verdict base_loyalty__transactions (re)wrote (transaction_verdicts_seen_at:
    purchases are engagement too), whatever the verdict, and the months that A makes stale (macro
    stale_month: A moved, or never computed; all of them when the model is empty). delete+insert on
    month_start. A pre-hook deletes the months after A (A moved back), a post-hook the stale months
    recomputed empty.
-#}
{{ config(
    pre_hook="{{ delete_months_after_as_of() }}",
    post_hook="{{ delete_stale_months() }}"
) }}

with period as (
    select as_of_date from {{ ref('int_reporting_period') }}
),

engagement_verdicts_seen as (
    select max(verdicts_updated_at) as engagement_verdicts_seen_at
    from {{ ref('base_loyalty__engagement_events') }}
),

transaction_verdicts_seen as (
    select max(verdicts_updated_at) as transaction_verdicts_seen_at
    from {{ ref('base_loyalty__transactions') }}
),

all_engagement_events as (
    select
        events.member_id,
        {{ month_start('events.occurred_on') }} as month_start,
        events.event_type
    from {{ ref('stg_loyalty__engagement_events') }} as events
    cross join period
    where events.occurred_on <= period.as_of_date
),

all_purchases as (
    select member_id, {{ month_start('purchase_date') }} as month_start, 'purchase' as event_type, orders
    from {{ ref('int_member_purchase_days') }}
),

{% if is_incremental() -%}
changed_months as (
    select distinct {{ month_start('occurred_on') }} as month_start
    from {{ ref('base_loyalty__engagement_events') }}
    where occurred_on is not null
        and {{ rewritten_since_last_run('verdicts_updated_at', 'engagement_verdicts_seen_at') }}

    union

    select distinct {{ month_start('transacted_on') }} as month_start
    from {{ ref('base_loyalty__transactions') }}
    where transacted_on is not null
        and {{ rewritten_since_last_run('verdicts_updated_at', 'transaction_verdicts_seen_at') }}
),
{%- set recomputed_month -%}
    month_start in (select month_start from changed_months) or {{ stale_month('month_start') }}
{%- endset %}

engagement_events as (
    select * from all_engagement_events
    where {{ recomputed_month }}
),

purchases as (
    select * from all_purchases
    where {{ recomputed_month }}
),
{%- else -%}
engagement_events as (
    select * from all_engagement_events
),

purchases as (
    select * from all_purchases
),
{%- endif %}

engagement as (
    select member_id, month_start, event_type, count(*) as events
    from engagement_events
    group by member_id, month_start, event_type

    union all

    select member_id, month_start, event_type, sum(orders) as events
    from purchases
    -- any engagement event up to A at all, not only in the months recomputed
    where exists (
        select 1
        from {{ ref('stg_loyalty__engagement_events') }} as events
        cross join period
        where events.occurred_on <= period.as_of_date
    )
    group by member_id, month_start, event_type
),

final as (
    select
        engagement.month_start,
        engagement.member_id,
        engagement.event_type,
        cast(sum(engagement.events) as {{ dbt.type_bigint() }}) as events,
        period.as_of_date,
        engagement_verdicts_seen.engagement_verdicts_seen_at,
        transaction_verdicts_seen.transaction_verdicts_seen_at
    from engagement
    cross join period
    cross join engagement_verdicts_seen
    cross join transaction_verdicts_seen
    group by
        engagement.month_start,
        engagement.member_id,
        engagement.event_type,
        period.as_of_date,
        engagement_verdicts_seen.engagement_verdicts_seen_at,
        transaction_verdicts_seen.transaction_verdicts_seen_at
)

select * from final
