{#-
    A raw timestamp (text or timestamp) as a naive UTC timestamp. Text with an offset
    ('2024-03-31T22:15:00-03:00') is converted; text without one is taken as UTC.
-#}
{% macro to_utc_timestamp(expression) %}
    {{ return(adapter.dispatch('to_utc_timestamp', 'loyalty_kpi')(expression)) }}
{% endmacro %}

{% macro default__to_utc_timestamp(expression) %}
    cast(cast({{ expression }} as timestamp with time zone) at time zone 'UTC' as timestamp)
{% endmacro %}

{% macro duckdb__to_utc_timestamp(expression) %}
    cast(timezone('UTC', cast({{ expression }} as timestamptz)) as timestamp)
{% endmacro %}

{% macro spark__to_utc_timestamp(expression) %}
    {#- the Spark session time zone is UTC (profile); offsets in text are honoured by the cast -#}
    cast({{ expression }} as timestamp)
{% endmacro %}
