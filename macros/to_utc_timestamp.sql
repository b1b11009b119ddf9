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

{% macro postgres__to_utc_timestamp(expression) %}
    {#- by the text's form, so that neither a timestamp nor naive text depends on the session time zone -#}
    case
        when cast({{ expression }} as text) ~ '[0-9]:[0-9]{2}(:[0-9]{2}(\.[0-9]+)?)? *(Z|z|[+-][0-9]{2}(:?[0-9]{2})?)$'
            then cast(cast(cast({{ expression }} as text) as timestamp with time zone) at time zone 'UTC' as timestamp)
        else cast(cast({{ expression }} as text) as timestamp)
    end
{% endmacro %}

{% macro duckdb__to_utc_timestamp(expression) %}
    cast(timezone('UTC', cast({{ expression }} as timestamptz)) as timestamp)
{% endmacro %}

{% macro spark__to_utc_timestamp(expression) %}
    {#- the Spark session time zone is UTC (profile); offsets in text are honoured by the cast -#}
    cast({{ expression }} as timestamp)
{% endmacro %}
