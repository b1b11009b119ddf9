{#-
    The buy-till-you-die models fitted as of A (kpi-spec §6): one row per model parameter — BG/NBD r,
    alpha, a, b and Gamma-Gamma p, q, gamma — with the model's log-likelihood and population. Empty (with
    a warning in the run) when fewer than var clv_min_members members have a purchase day up to A.
-#}
with fit as (
    select * from {{ clv_step_output('int_clv_fit') }}
    where calibration = 'as_of'
),

final as (
    select
        cast(model as {{ dbt.type_string() }}) as model,
        cast(parameter as {{ dbt.type_string() }}) as parameter,
        cast(value as {{ type_double() }}) as value,
        cast(log_likelihood as {{ type_double() }}) as log_likelihood,
        cast(n_members as {{ dbt.type_bigint() }}) as n_members,
        cast(calibration_end as date) as calibration_end,
        cast('week' as {{ dbt.type_string() }}) as time_unit
    from fit
)

select
    model,
    parameter,
    value,
    log_likelihood,
    n_members,
    calibration_end,
    time_unit
from final
