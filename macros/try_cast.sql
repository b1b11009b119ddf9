{#-
    cast(expression as data_type), or null when the value cannot be cast (instead of an error): the
    staging base models use it to quarantine rows whose values do not parse.
    data_type: one of numeric / decimal(p,s), integer / bigint, date, string.
-#}
{% macro try_cast(expression, data_type) %}
    {{ return(adapter.dispatch('try_cast', 'loyalty_kpi')(expression, data_type)) }}
{% endmacro %}

{% macro default__try_cast(expression, data_type) %}
    try_cast({{ expression }} as {{ data_type }})
{% endmacro %}

{% macro postgres__try_cast(expression, data_type) %}
    {#- PostgreSQL has no try_cast: cast only text of the type's form -#}
    {%- set type = data_type | lower %}
    {%- if type.startswith('decimal') or type.startswith('numeric') %}
        {%- set pattern = '^ *[+-]?([0-9]+(\.[0-9]*)?|\.[0-9]+) *$' %}
    {%- elif type in ('integer', 'bigint', 'int', 'smallint') %}
        {%- set pattern = '^ *[+-]?[0-9]{1,18} *$' %}
    {%- elif type == 'date' %}
        {%- set pattern = '^ *[0-9]{4}-(0[1-9]|1[0-2])-(0[1-9]|[12][0-9]|3[01]) *$' %}
    {%- else %}
        {{ return('cast(' ~ expression ~ ' as ' ~ data_type ~ ')') }}
    {%- endif %}
    case when cast({{ expression }} as text) ~ '{{ pattern }}' then cast(cast({{ expression }} as text) as {{ data_type }}) end
{% endmacro %}
