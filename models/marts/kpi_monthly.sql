{%- set gross_margin_pct = var('gross_margin_pct') %}

with months as (
    select month_index, month_start, is_complete_month from {{ ref('int_months') }}
),

base_flow as (
    select * from {{ ref('member_base_flow_monthly') }}
),

enrolled as (
    select month_start, cast(sum(enrolled_members) as {{ dbt.type_bigint() }}) as enrolled_members
    from {{ ref('int_enrolled_members_monthly') }}
    group by month_start
),

acquisition as (
    select
        month_start,
        sum(new_enrollments) as new_enrollments,
        sum(cancellations) as cancellations,
        sum(marketing_spend) as marketing_spend,
        sum(program_visitors) as program_visitors
    from {{ ref('int_acquisition_monthly') }}
    group by month_start
),

referrals as (
    select month_start, referrers from {{ ref('int_referrals_monthly') }}
),

engagement as (
    select month_start, count(distinct member_id) as engaged_members
    from {{ ref('int_member_engagement_monthly') }}
    group by month_start
),

engagement_data as (
    select count(*) > 0 as has_engagement from {{ ref('int_member_engagement_monthly') }}
),

surveys as (
    select month_start, nps, customer_loyalty_index from {{ ref('survey_monthly') }}
),

points as (
    select * from {{ ref('points_monthly') }}
),

member_transactions as (
    select * from {{ ref('int_monthly_transactions') }}
    where buyer_type = 'member'
),

non_member_transactions as (
    select * from {{ ref('int_monthly_transactions') }}
    where buyer_type = 'non_member'
),

repeat_purchases as (
    select * from {{ ref('int_repeat_purchase_monthly') }}
),

buyers_12m as (
    select * from {{ ref('int_rolling_12m_buyers') }}
),

monthly as (
    select
        months.month_index,
        months.month_start,
        months.is_complete_month,
        coalesce(enrolled.enrolled_members, 0) as enrolled_members,
        base_flow.end_active as active_members,
        base_flow.start_active,
        base_flow.crr_pct,
        base_flow.churn_rate_pct,
        base_flow.churn_reduction_pp,
        cast(coalesce(acquisition.new_enrollments, 0) as {{ dbt.type_bigint() }}) as new_enrollments,
        cast(coalesce(acquisition.cancellations, 0) as {{ dbt.type_bigint() }}) as cancellations,
        acquisition.marketing_spend,
        acquisition.program_visitors,
        referrals.referrers,
        case when engagement_data.has_engagement then coalesce(engagement.engaged_members, 0) end
            as engaged_members,
        surveys.nps,
        surveys.customer_loyalty_index,
        points.points_issued,
        points.points_redeemed,
        points.points_expired,
        points.redemption_rate_pct,
        points.redeeming_members,
        points.points_liability,
        coalesce(member_transactions.orders, 0) as member_orders,
        cast(coalesce(member_transactions.net_revenue, 0) as {{ type_money() }}) as member_net_revenue,
        non_member_transactions.orders as non_member_orders,
        non_member_transactions.net_revenue as non_member_net_revenue,
        repeat_purchases.buyers,
        repeat_purchases.repeat_buyers,
        repeat_purchases.single_purchase_day_buyers,
        repeat_purchases.one_and_done_population,
        repeat_purchases.one_and_done_buyers,
        buyers_12m.buyers_12m
    from months
    inner join base_flow on months.month_start = base_flow.month_start
    cross join engagement_data
    inner join repeat_purchases on months.month_start = repeat_purchases.month_start
    inner join buyers_12m on months.month_start = buyers_12m.month_start
    left join enrolled on months.month_start = enrolled.month_start
    left join member_transactions on months.month_start = member_transactions.month_start
    left join non_member_transactions on months.month_start = non_member_transactions.month_start
    left join acquisition on months.month_start = acquisition.month_start
    left join referrals on months.month_start = referrals.month_start
    left join engagement on months.month_start = engagement.month_start
    left join surveys on months.month_start = surveys.month_start
    left join points on months.month_start = points.month_start
),

rates as (
    select
        *,
        {{ safe_divide('member_net_revenue', 'member_orders') }} as aov,
        {{ safe_divide('non_member_net_revenue', 'non_member_orders') }} as non_member_aov
    from monthly
),

twelve_months as (
    -- clv_formula's window T: this month and the 11 before it
    select
        *,
        sum(member_orders) over (
            order by month_start rows between 11 preceding and current row
        ) as member_orders_12m,
        sum(member_net_revenue) over (
            order by month_start rows between 11 preceding and current row
        ) as member_net_revenue_12m,
        avg(case when start_active > 0 then churn_rate_pct / 100 end) over (
            order by month_start rows between 11 preceding and current row
        ) as mean_churn_rate_12m
    from rates
),

clv_inputs as (
    select
        *,
        case when month_index >= 11
            then {{ safe_divide('member_net_revenue_12m', 'member_orders_12m') }} end as aov_12m,
        case when month_index >= 11
            then {{ safe_divide('member_orders_12m', 'buyers_12m') }} end as purchase_frequency_12m,
        case when month_index >= 11
            then {{ safe_divide(1, '12 * mean_churn_rate_12m') }} end as lifespan_years
    from twelve_months
),

final as (
    select
        month_start,
        enrolled_members,
        active_members,
        100 * {{ safe_divide('active_members', 'enrolled_members') }} as active_rate_pct,
        new_enrollments,
        cancellations,
        member_orders,
        member_net_revenue,
        aov,
        non_member_aov,
        100 * ({{ safe_divide('aov', 'non_member_aov') }} - 1) as member_aov_lift_pct,
        100 * {{ safe_divide('repeat_buyers', 'buyers') }} as repeat_purchase_rate_pct,
        {{ safe_divide('repeat_buyers', 'single_purchase_day_buyers') }} as repeat_buyer_ratio,
        100 * {{ safe_divide('one_and_done_buyers', 'one_and_done_population') }} as one_and_done_rate_pct,
        crr_pct,
        churn_rate_pct,
        churn_reduction_pp,
        aov_12m,
        purchase_frequency_12m,
        lifespan_years,
        aov_12m * purchase_frequency_12m * lifespan_years
            * cast({{ gross_margin_pct }} as {{ type_double() }}) / 100 as clv_formula,
        nps,
        customer_loyalty_index,
        points_issued,
        points_redeemed,
        points_expired,
        redemption_rate_pct,
        100 * {{ safe_divide('redeeming_members', 'active_members') }} as redemption_participation_pct,
        points_liability,
        100 * {{ safe_divide('engaged_members', 'enrolled_members') }} as engagement_rate_pct,
        100 * {{ safe_divide('referrers', 'enrolled_members') }} as referral_rate_pct,
        100 * {{ safe_divide('new_enrollments', 'program_visitors') }} as enrollment_rate_pct,
        {{ safe_divide('marketing_spend', 'new_enrollments') }} as cac,
        is_complete_month
    from clv_inputs
)

select
    month_start,
    enrolled_members,
    active_members,
    active_rate_pct,
    new_enrollments,
    cancellations,
    member_orders,
    member_net_revenue,
    aov,
    non_member_aov,
    member_aov_lift_pct,
    repeat_purchase_rate_pct,
    repeat_buyer_ratio,
    one_and_done_rate_pct,
    crr_pct,
    churn_rate_pct,
    churn_reduction_pp,
    aov_12m,
    purchase_frequency_12m,
    lifespan_years,
    clv_formula,
    nps,
    customer_loyalty_index,
    points_issued,
    points_redeemed,
    points_expired,
    redemption_rate_pct,
    redemption_participation_pct,
    points_liability,
    engagement_rate_pct,
    referral_rate_pct,
    enrollment_rate_pct,
    cac,
    is_complete_month
from final
