{#-
    The comment sentiment of survey responses as a relation of (response_id, sentiment_score,
    comment_sentiment). On DuckDB: the dbt Python model int_survey_comment_sentiment (VADER). Python
    models run on DuckDB only, so elsewhere (and when a DuckDB run leaves the Python model out, e.g.
    `--exclude config.materialized:python`, and its table does not exist) it is an empty relation and
    survey_monthly's sentiment columns are null. DECISIONS.md "Comment sentiment".
-#}
{% macro survey_comment_sentiment() %}
    {{ return(adapter.dispatch('survey_comment_sentiment', 'loyalty_kpi')()) }}
{% endmacro %}

{% macro default__survey_comment_sentiment() %}
    {{ return(loyalty_kpi.no_comment_sentiment()) }}
{% endmacro %}

{% macro duckdb__survey_comment_sentiment() %}
    {%- set sentiment = ref('int_survey_comment_sentiment') -%}
    {%- if execute and model.resource_type == 'model' and load_relation(sentiment) is none -%}
        {% do exceptions.warn("int_survey_comment_sentiment has not been built (Python models left out?): "
            ~ "survey_monthly's sentiment columns are null.") %}
        {{ return(loyalty_kpi.no_comment_sentiment()) }}
    {%- endif -%}
    {{ return(sentiment) }}
{% endmacro %}

{% macro no_comment_sentiment() %}
    {%- set empty -%}
    (select
        cast(null as {{ dbt.type_string() }}) as response_id,
        cast(null as {{ loyalty_kpi.type_double() }}) as sentiment_score,
        cast(null as {{ dbt.type_string() }}) as comment_sentiment
    from (select 1 as no_row) as nothing
    where 1 = 0)
    {%- endset -%}
    {{ return(empty) }}
{% endmacro %}
