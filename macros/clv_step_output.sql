{#-
    The predictive-CLV fit and member predictions the CLV marts read: on DuckDB the dbt Python models
    `int_clv_fit` / `int_clv_member_predictions`; on the engines without dbt Python models (PostgreSQL,
    Spark) the tables of the same names and columns that the CLV step (loyalty_kpi/clv_warehouse.py: the
    Dagster asset, or `python -m loyalty_kpi clv-fit`) writes into `intermediate`, declared as source
    `clv_step`. Before the step has ever run there, the marts fail with an error that says what to run.
-#}
{% macro clv_step_output(name) -%}
    {{ return(adapter.dispatch('clv_step_output', 'loyalty_kpi')(name)) }}
{%- endmacro %}

{% macro duckdb__clv_step_output(name) -%}
    {{ return(ref(name)) }}
{%- endmacro %}

{% macro default__clv_step_output(name) -%}
    {%- set relation = source('clv_step', name) %}
    {%- if execute and adapter.get_relation(
            database=relation.database, schema=relation.schema, identifier=relation.identifier) is none %}
        {{ exceptions.raise_compiler_error(
            relation ~ " does not exist: on " ~ target.type ~ " the CLV step writes it. Build up to "
            ~ "int_clv_calibration_summary, then run `python -m loyalty_kpi clv-fit --target " ~ target.name
            ~ "` (it builds the CLV marts after the fit), or run the Dagster job; a plain `dbt build` "
            ~ "there leaves them out with --exclude source:clv_step+ (README \"Predictive CLV\").") }}
    {%- endif %}
    {{ return(relation) }}
{%- endmacro %}
