{#- numerator / denominator as a double; null when the denominator is 0 or null (DECISIONS.md). -#}
{% macro safe_divide(numerator, denominator) %}
    (cast({{ numerator }} as {{ loyalty_kpi.type_double() }})
        / nullif(cast({{ denominator }} as {{ loyalty_kpi.type_double() }}), 0))
{% endmacro %}
