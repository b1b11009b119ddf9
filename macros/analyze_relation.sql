{#-
    A model's post-hook: refresh the planner's statistics of the table just built. PostgreSQL only
    autoanalyzes a table after 50 changed rows, so the one-row int_reporting_period and the month lists were
    planned as 2,040-row tables, and at 10 M transactions int_rolling_12m_buyers ran for over 30 minutes on
    a plan made for two billion rows (DECISIONS.md "PostgreSQL: analyze after each table"). Other engines:
    nothing.
-#}
{% macro analyze_relation() %}
    {{ return(adapter.dispatch('analyze_relation', 'loyalty_kpi')()) }}
{% endmacro %}

{% macro default__analyze_relation() %}
    {{ return('') }}
{% endmacro %}

{% macro postgres__analyze_relation() %}
    {% if config.get('materialized') in ('table', 'incremental', 'snapshot') %}
        {{ return('analyze ' ~ this) }}
    {% endif %}
    {{ return('') }}
{% endmacro %}
