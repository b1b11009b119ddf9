{#-
    The calibration summary of the buy-till-you-die models (kpi-spec §6): one row per calibration and
    member with a purchase day up to the calibration's end.
    - calibration 'as_of': ends on A (clv_model_fit, member_clv_predicted);
    - calibration 'holdout': ends on A − 7h days, h = var clv_holdout_weeks (clv_holdout_validation),
      with the member's purchase days in the holdout (end, A]; absent when h <= 0.
    frequency x = purchase days − 1; recency_weeks t_x and t_weeks T in days / 7; monetary_value = net
    revenue per purchase day after the first: the purchases of those days minus the refunds dated after
    the first purchase day, over x (null when x = 0; DECISIONS.md).
-#}
{%- set holdout_weeks = var('clv_holdout_weeks') | int %}

with period as (
    select as_of_date from {{ ref('int_reporting_period') }}
),

calibrations as (
    select
        'as_of' as calibration,
        as_of_date as calibration_end
    from period
    {%- if holdout_weeks > 0 %}

    union all

    select
        'holdout' as calibration,
        {{ add_days('as_of_date', -7 * holdout_weeks) }} as calibration_end
    from period
    {%- endif %}
),

purchase_days as (
    select
        calibrations.calibration,
        calibrations.calibration_end,
        days.member_id,
        days.purchase_date,
        days.purchase_amount
    from {{ ref('int_member_purchase_days') }} as days
    inner join calibrations
        on days.purchase_date <= calibrations.calibration_end
),

calibration_purchases as (
    -- one aggregate, no window: a member has one row per purchase day, so the days after the first are
    -- all of them but the first
    select
        calibration,
        calibration_end,
        member_id,
        min(purchase_date) as first_purchase_date,
        max(purchase_date) as last_purchase_date,
        cast(count(*) as {{ dbt.type_bigint() }}) as purchase_days,
        sum(purchase_amount) - {{ value_at_min('purchase_amount', 'purchase_date') }} as repeat_purchase_amount
    from purchase_days
    group by calibration, calibration_end, member_id
),

member_refunds as (
    select
        member_id,
        transacted_on as refund_date,
        amount
    from {{ ref('int_transactions_attributed') }}
    where buyer_type = 'member'
        and transaction_type = 'refund'
),

repeat_refunds as (
    select
        calibration_purchases.calibration,
        calibration_purchases.member_id,
        sum(member_refunds.amount) as repeat_refund_amount
    from calibration_purchases
    inner join member_refunds
        on calibration_purchases.member_id = member_refunds.member_id
        and member_refunds.refund_date > calibration_purchases.first_purchase_date
        and member_refunds.refund_date <= calibration_purchases.calibration_end
    group by calibration_purchases.calibration, calibration_purchases.member_id
),

holdout_purchases as (
    select
        calibrations.calibration,
        days.member_id,
        cast(count(*) as {{ dbt.type_bigint() }}) as holdout_purchase_days
    from {{ ref('int_member_purchase_days') }} as days
    inner join calibrations
        on days.purchase_date > calibrations.calibration_end
    where calibrations.calibration = 'holdout'
    group by calibrations.calibration, days.member_id
),

summary as (
    select
        calibration_purchases.calibration,
        calibration_purchases.calibration_end,
        calibration_purchases.member_id,
        calibration_purchases.first_purchase_date,
        calibration_purchases.last_purchase_date,
        calibration_purchases.purchase_days - 1 as frequency,
        cast({{ dbt.datediff('calibration_purchases.first_purchase_date', 'calibration_purchases.last_purchase_date', 'day') }}
            as {{ type_double() }}) / 7 as recency_weeks,
        cast({{ dbt.datediff('calibration_purchases.first_purchase_date', 'calibration_purchases.calibration_end', 'day') }}
            as {{ type_double() }}) / 7 as t_weeks,
        case
            when calibration_purchases.purchase_days > 1
                then {{ safe_divide(
                    'calibration_purchases.repeat_purchase_amount - coalesce(repeat_refunds.repeat_refund_amount, 0)',
                    'calibration_purchases.purchase_days - 1'
                ) }}
        end as monetary_value,
        case
            when calibration_purchases.calibration = 'holdout'
                then coalesce(holdout_purchases.holdout_purchase_days, 0)
        end as holdout_purchase_days
    from calibration_purchases
    left join repeat_refunds
        on calibration_purchases.calibration = repeat_refunds.calibration
        and calibration_purchases.member_id = repeat_refunds.member_id
    left join holdout_purchases
        on calibration_purchases.calibration = holdout_purchases.calibration
        and calibration_purchases.member_id = holdout_purchases.member_id
)

select * from summary
