{#- A date plus a (possibly negative) number of months, as a date. -#}
{% macro add_months(date_expression, months) %}
    cast({{ dbt.dateadd('month', months, date_expression) }} as date)
{% endmacro %}
