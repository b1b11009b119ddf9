{#- A SQL string literal of a Python string, single quotes doubled. -#}
{% macro sql_string(value) %}
    {{ return("'" ~ value | replace("'", "''") ~ "'") }}
{% endmacro %}
