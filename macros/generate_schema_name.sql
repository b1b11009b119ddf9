{#-
    Custom schemas are used as they are (`staging`, `intermediate`, `marts`, `reference`) rather than
    prefixed with the target schema, so BI tools read `marts.kpi_monthly` on every target.
-#}
{% macro generate_schema_name(custom_schema_name, node) %}
    {{ return((custom_schema_name or target.schema) | trim) }}
{% endmacro %}
