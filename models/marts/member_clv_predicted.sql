{#-
    Predictive CLV per member (kpi-spec §6): every member with a purchase day up to A, scored with the
    BG/NBD and Gamma-Gamma fit of clv_model_fit. predicted_clv = gross_margin_pct / 100 ×
    expected_average_spend × Σ_{i=1..m} (E_i − E_{i−1}) / (1 + d)^(i/12), the discounted sum coming from
    int_clv_member_predictions. Empty when the fit was skipped (too few members).
-#}
{%- set gross_margin_pct = var('gross_margin_pct') %}

with summary as (
    select * from {{ ref('int_clv_calibration_summary') }}
    where calibration = 'as_of'
),

predictions as (
    select * from {{ clv_step_output('int_clv_member_predictions') }}
    where calibration = 'as_of'
),

final as (
    select
        summary.member_id,
        summary.frequency,
        summary.recency_weeks,
        summary.t_weeks,
        summary.monetary_value,
        predictions.p_alive,
        predictions.expected_purchases,
        predictions.expected_average_spend,
        cast({{ gross_margin_pct }} as {{ type_double() }}) / 100
            * predictions.expected_average_spend
            * predictions.discounted_expected_purchases as predicted_clv
    from summary
    inner join predictions
        on summary.member_id = predictions.member_id
)

select
    cast(member_id as {{ dbt.type_string() }}) as member_id,
    cast(frequency as {{ dbt.type_bigint() }}) as frequency,
    cast(recency_weeks as {{ type_double() }}) as recency_weeks,
    cast(t_weeks as {{ type_double() }}) as t_weeks,
    cast(monetary_value as {{ type_double() }}) as monetary_value,
    cast(p_alive as {{ type_double() }}) as p_alive,
    cast(expected_purchases as {{ type_double() }}) as expected_purchases,
    cast(expected_average_spend as {{ type_double() }}) as expected_average_spend,
    cast(predicted_clv as {{ type_double() }}) as predicted_clv
from final
