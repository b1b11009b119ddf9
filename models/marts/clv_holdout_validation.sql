{#-
    The BG/NBD holdout validation (kpi-spec §6), after figure 3 of Fader, Hardie & Lee (2005): the model
    fitted with calibration end A − 7h days (h = var clv_holdout_weeks), then, per calibration frequency
    bucket ('0' … '6', '7+') and over everyone ('all'), the members' mean actual purchase days in the
    holdout (A − 7h, A] next to the mean BG/NBD conditional expectation for h weeks. Every bucket has a
    row (members 0, means null when empty); the holdout fit's r, alpha, a, b are on every row. Empty when
    the holdout fit was skipped.
-#}
with holdout_members as (
    select
        summary.member_id,
        case
            when summary.frequency >= 7 then '7+'
            else cast(summary.frequency as {{ dbt.type_string() }})
        end as frequency_bucket,
        summary.holdout_purchase_days,
        predictions.expected_purchases
    from {{ ref('int_clv_calibration_summary') }} as summary
    inner join {{ clv_step_output('int_clv_member_predictions') }} as predictions
        on summary.calibration = predictions.calibration
        and summary.member_id = predictions.member_id
    where summary.calibration = 'holdout'
),

holdout_fit as (
    select
        max(case when parameter = 'r' then value end) as r,
        max(case when parameter = 'alpha' then value end) as alpha,
        max(case when parameter = 'a' then value end) as a,
        max(case when parameter = 'b' then value end) as b
    from {{ clv_step_output('int_clv_fit') }}
    where calibration = 'holdout'
        and model = 'bg_nbd'
    having count(*) > 0
),

buckets as (
    {%- for bucket in ['0', '1', '2', '3', '4', '5', '6', '7+', 'all'] %}
    select '{{ bucket }}' as frequency_bucket{{ ' union all' if not loop.last }}
    {%- endfor %}
),

bucket_means as (
    select
        frequency_bucket,
        count(*) as members,
        avg(cast(holdout_purchase_days as {{ type_double() }})) as actual_mean_purchases,
        -- summed as decimals: a double sum's order, and so its last digits, vary with DuckDB's threads
        cast(avg(cast(expected_purchases as decimal(38, 12))) as {{ type_double() }}) as predicted_mean_purchases
    from holdout_members
    group by frequency_bucket

    union all

    select
        'all' as frequency_bucket,
        count(*) as members,
        avg(cast(holdout_purchase_days as {{ type_double() }})) as actual_mean_purchases,
        -- summed as decimals: a double sum's order, and so its last digits, vary with DuckDB's threads
        cast(avg(cast(expected_purchases as decimal(38, 12))) as {{ type_double() }}) as predicted_mean_purchases
    from holdout_members
),

final as (
    select
        buckets.frequency_bucket,
        coalesce(bucket_means.members, 0) as members,
        bucket_means.actual_mean_purchases,
        bucket_means.predicted_mean_purchases,
        holdout_fit.r,
        holdout_fit.alpha,
        holdout_fit.a,
        holdout_fit.b
    from buckets
    cross join holdout_fit
    left join bucket_means
        on buckets.frequency_bucket = bucket_means.frequency_bucket
)

select
    cast(frequency_bucket as {{ dbt.type_string() }}) as frequency_bucket,
    cast(members as {{ dbt.type_bigint() }}) as members,
    cast(actual_mean_purchases as {{ type_double() }}) as actual_mean_purchases,
    cast(predicted_mean_purchases as {{ type_double() }}) as predicted_mean_purchases,
    cast(r as {{ type_double() }}) as r,
    cast(alpha as {{ type_double() }}) as alpha,
    cast(a as {{ type_double() }}) as a,
    cast(b as {{ type_double() }}) as b
from final
