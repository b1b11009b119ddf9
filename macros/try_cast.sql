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
    {%- elif loyalty_kpi.is_integer_type(type) %}
        {{ return("case when cast(" ~ expression ~ " as text) ~ '^" ~ loyalty_kpi.whole_number_pattern()
            ~ "$' then cast(cast(cast(" ~ expression ~ " as text) as numeric) as " ~ data_type ~ ") end") }}
    {%- elif type == 'date' %}
        {%- set pattern = '^ *[0-9]{4}-(0[1-9]|1[0-2])-(0[1-9]|[12][0-9]|3[01]) *$' %}
    {%- else %}
        {{ return('cast(' ~ expression ~ ' as ' ~ data_type ~ ')') }}
    {%- endif %}
    case when cast({{ expression }} as text) ~ '{{ pattern }}' then cast(cast({{ expression }} as text) as {{ data_type }}) end
{% endmacro %}

{#-
    Whole numbers: DuckDB and Spark would round or truncate '3.5' to an integer, so integer types take only
    text of a whole number's form — with an optional all-zero fraction, as a Parquet double column of
    counts (pandas writes integer columns with nulls as doubles) renders '3.0'.
-#}
{% macro whole_number_pattern() %}{{ return(' *[+-]?[0-9]{1,18}([.]0*)? *') }}{% endmacro %}

{% macro is_integer_type(data_type) %}
    {{ return(data_type | lower in ('integer', 'bigint', 'int', 'smallint')) }}
{% endmacro %}

{% macro duckdb__try_cast(expression, data_type) %}
    {%- if loyalty_kpi.is_integer_type(data_type) %}
    case when regexp_full_match(cast({{ expression }} as varchar), '{{ loyalty_kpi.whole_number_pattern() }}')
        then cast(cast(trim(cast({{ expression }} as varchar)) as decimal(38, 6)) as {{ data_type }}) end
    {%- else %}
    try_cast({{ expression }} as {{ data_type }})
    {%- endif %}
{% endmacro %}

{% macro spark__try_cast(expression, data_type) %}
    {%- if loyalty_kpi.is_integer_type(data_type) %}
    case when cast({{ expression }} as string) rlike '^{{ loyalty_kpi.whole_number_pattern() }}$'
        then cast(cast(trim(cast({{ expression }} as string)) as decimal(38, 6)) as {{ data_type }}) end
    {%- else %}
    try_cast({{ expression }} as {{ data_type }})
    {%- endif %}
{% endmacro %}
