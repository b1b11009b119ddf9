with period as (
    select as_of_date from {{ ref('int_reporting_period') }}
),

members as (
    select stg.*
    from {{ ref('stg_loyalty__members') }} as stg
    cross join period
    where stg.enrolled_on <= period.as_of_date
),

enrolled_on_as_of as (
    select distinct spells.member_id
    from {{ ref('int_member_tier_spells') }} as spells
    cross join period
    where spells.valid_from <= period.as_of_date
        and (spells.valid_to is null or spells.valid_to > period.as_of_date)
),

active_on_as_of as (
    select distinct spells.member_id
    from {{ ref('int_member_activity_spells') }} as spells
    cross join period
    where spells.spell_start_date <= period.as_of_date
        and spells.active_until_date >= period.as_of_date
),

summary as (
    select * from {{ ref('int_member_purchase_summary') }}
),

rfm as (
    select * from {{ ref('int_member_rfm') }}
),

final as (
    select
        members.member_id,
        members.enrolled_at,
        members.enrollment_channel,
        members.tier as current_tier,
        enrolled_on_as_of.member_id is not null as is_enrolled,
        summary.first_purchase_date,
        summary.last_purchase_date,
        coalesce(summary.lifetime_orders, 0) as lifetime_orders,
        coalesce(summary.lifetime_purchase_days, 0) as lifetime_purchase_days,
        cast(coalesce(summary.net_revenue, 0) as {{ type_money() }}) as historical_clv,
        active_on_as_of.member_id is not null as is_active,
        rfm.recency_days,
        rfm.frequency,
        cast(rfm.monetary as {{ type_money() }}) as monetary,
        rfm.r_score,
        rfm.f_score,
        rfm.m_score,
        coalesce(rfm.rfm_segment, 'no_purchase') as rfm_segment
    from members
    left join enrolled_on_as_of on members.member_id = enrolled_on_as_of.member_id
    left join active_on_as_of on members.member_id = active_on_as_of.member_id
    left join summary on members.member_id = summary.member_id
    left join rfm on members.member_id = rfm.member_id
)

select
    member_id,
    enrolled_at,
    enrollment_channel,
    current_tier,
    is_enrolled,
    first_purchase_date,
    last_purchase_date,
    lifetime_orders,
    lifetime_purchase_days,
    historical_clv,
    is_active,
    recency_days,
    frequency,
    monetary,
    r_score,
    f_score,
    m_score,
    rfm_segment
from final
