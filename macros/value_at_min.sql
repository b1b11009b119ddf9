{#-
    An aggregate: `value` of the row with the smallest `order_by` in the group (one such row: ties are
    the caller's to rule out). DuckDB arg_min, Spark min_by, PostgreSQL the first of an ordered array_agg.
-#}
{% macro value_at_min(value, order_by) %}
    {{- return(adapter.dispatch('value_at_min', 'loyalty_kpi')(value, order_by)) -}}
{% endmacro %}

{% macro default__value_at_min(value, order_by) -%}
    arg_min({{ value }}, {{ order_by }})
{%- endmacro %}

{% macro spark__value_at_min(value, order_by) -%}
    min_by({{ value }}, {{ order_by }})
{%- endmacro %}

{% macro postgres__value_at_min(value, order_by) -%}
    (array_agg({{ value }} order by {{ order_by }}))[1]
{%- endmacro %}
