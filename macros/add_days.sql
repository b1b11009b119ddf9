{#- A date plus a (possibly negative) number of days, as a date. -#}
{% macro add_days(date_expression, days) %}
    cast({{ dbt.dateadd('day', days, date_expression) }} as date)
{% endmacro %}
