{#- A hash of a raw row's values (nulls distinct from ''), to tell a re-delivered identical row from a changed one. -#}
{% macro raw_row_hash(columns) %}
    {{ dbt.hash(dbt.concat(loyalty_kpi.raw_value_list(columns, '|'))) }}
{%- endmacro %}

{#- The raw values as text, nulls as '<null>', with separators between them: arguments for dbt.concat. -#}
{% macro raw_value_list(columns, separator) %}
    {%- set parts = [] %}
    {%- for column in columns %}
        {%- do parts.append("coalesce(cast(" ~ column ~ " as " ~ dbt.type_string() ~ "), '<null>')") %}
        {%- if not loop.last %}{% do parts.append("'" ~ separator ~ "'") %}{% endif %}
    {%- endfor %}
    {{ return(parts) }}
{%- endmacro %}
