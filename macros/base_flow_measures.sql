{#-
    The base-flow columns of kpi-spec §1 from a relation holding the counts start_active,
    end_active, new_active, reactivated and churned per month_start (and per `partition_by`):
    the one place the retention, churn and reactivation formulas are written.
-#}
{% macro base_flow_measures(partition_by=none) %}
        start_active,
        end_active,
        new_active,
        reactivated,
        churned,
        start_active - churned as retained,
        100 * {{ safe_divide('end_active - new_active', 'start_active') }} as crr_pct,
        100 * {{ safe_divide('churned', 'start_active') }} as churn_rate_pct,
        100 * {{ safe_divide('reactivated', 'start_active') }} as reactivation_rate_pct,
        lag(100 * {{ safe_divide('churned', 'start_active') }}) over (
            {% if partition_by %}partition by {{ partition_by }}{% endif %}
            order by month_start
        ) - 100 * {{ safe_divide('churned', 'start_active') }} as churn_reduction_pp
{%- endmacro %}
