{#-
    When this dbt invocation started (UTC), as a timestamp literal: incremental models stamp the rows they
    (re)write with it, so the models downstream can tell which rows changed since their own last run.
-#}
{% macro run_started_timestamp() %}
    cast('{{ run_started_at.strftime("%Y-%m-%d %H:%M:%S.%f") }}' as {{ dbt.type_timestamp() }})
{%- endmacro %}
