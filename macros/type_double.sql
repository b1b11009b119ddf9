{#- A 64-bit float on every engine (dbt.type_float() is 32-bit on DuckDB and Spark). -#}
{% macro type_double() %}
    {{ return(adapter.dispatch('type_double', 'loyalty_kpi')()) }}
{% endmacro %}

{% macro default__type_double() %}double precision{% endmacro %}
{% macro duckdb__type_double() %}double{% endmacro %}
{% macro spark__type_double() %}double{% endmacro %}
