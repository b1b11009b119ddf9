{#-
    What an increment of the current model rewrites, for a day expression: the day itself under
    delete+insert on a day key (DuckDB, PostgreSQL), the first day of its month under insert_overwrite
    (Spark, month partitions: a rewritten partition must be recomputed whole). A config.get, as in macro
    select_increment, not a target test.
-#}
{% macro rewritten_period(day) -%}
    {%- if config.get('incremental_strategy') == 'insert_overwrite' -%}
        {{ month_start(day) }}
    {%- else -%}
        {{ day }}
    {%- endif -%}
{%- endmacro %}
