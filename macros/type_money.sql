{#- The type of summed money columns: exact decimal, wide enough for any program's total. -#}
{% macro type_money() %}
    {{ return(adapter.dispatch('type_money', 'loyalty_kpi')()) }}
{% endmacro %}

{% macro default__type_money() %}decimal(38, 2){% endmacro %}
