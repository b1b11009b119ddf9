{#-
    One row per member and stretch of activity (kpi-spec §0: active on d when a purchase day lies in
    [d - W + 1, d]). A purchase day more than W days after the previous one starts a new spell; a
    spell runs from its first purchase day to its last purchase day + W - 1. Every "was this member
    active on day d" question joins here: active on d <=> a spell with spell_start_date <= d <= active_until_date.
-#}
{%- set window_days = var('churn_window_days') | int %}

with purchase_days as (
    select
        member_id,
        purchase_date,
        lag(purchase_date) over (partition by member_id order by purchase_date) as previous_purchase_date
    from {{ ref('int_member_purchase_days') }}
),

spell_starts as (
    select
        member_id,
        purchase_date,
        case
            when previous_purchase_date is null then 1
            when {{ dbt.datediff('previous_purchase_date', 'purchase_date', 'day') }} > {{ window_days }} then 1
            else 0
        end as starts_spell
    from purchase_days
),

numbered as (
    select
        member_id,
        purchase_date,
        sum(starts_spell) over (
            partition by member_id order by purchase_date rows between unbounded preceding and current row
        ) as spell_number
    from spell_starts
),

spells as (
    select
        member_id,
        spell_number,
        min(purchase_date) as spell_start_date,
        max(purchase_date) as last_purchase_date,
        {{ add_days('max(purchase_date)', window_days - 1) }} as active_until_date,
        count(*) as purchase_days
    from numbered
    group by member_id, spell_number
)

select * from spells
