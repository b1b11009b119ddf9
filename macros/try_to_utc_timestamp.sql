{#-
    Like to_utc_timestamp, but null (instead of an error) for a value that is not a timestamp: the
    staging base models quarantine such rows with the reason `unparseable_timestamp`.
-#}
{% macro try_to_utc_timestamp(expression) %}
    {{ return(adapter.dispatch('try_to_utc_timestamp', 'loyalty_kpi')(expression)) }}
{% endmacro %}

{% macro default__try_to_utc_timestamp(expression) %}
    try_cast({{ expression }} as timestamp)
{% endmacro %}

{% macro duckdb__try_to_utc_timestamp(expression) %}
    cast(timezone('UTC', try_cast({{ expression }} as timestamptz)) as timestamp)
{% endmacro %}

{% macro postgres__try_to_utc_timestamp(expression) %}
    {#- text of an ISO timestamp's form (with a valid month and day) is cast; anything else is null -#}
    case
        when cast({{ expression }} as text)
            ~ '^ *[0-9]{4}-(0[1-9]|1[0-2])-(0[1-9]|[12][0-9]|3[01])([ T][0-2][0-9]:[0-5][0-9](:[0-5][0-9](\.[0-9]+)?)?)? *(Z|z|[+-][0-9]{2}(:?[0-9]{2})?)? *$'
            then {{ loyalty_kpi.to_utc_timestamp(expression) }}
    end
{% endmacro %}
