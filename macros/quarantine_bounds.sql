{#-
    The dates outside which a raw timestamp is quarantined: after the as-of date (var as_of_date, else
    the build day: a timestamp in the future is an error), or before var program_start_date.
-#}
{% macro quarantine_future_cutoff() %}
    {%- if var('as_of_date') -%}
        cast('{{ var("as_of_date") }}' as date)
    {%- else -%}
        current_date
    {%- endif -%}
{% endmacro %}

{% macro quarantine_program_start() %}
    cast('{{ var("program_start_date", "1990-01-01") }}' as date)
{%- endmacro %}
