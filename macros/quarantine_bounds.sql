{#-
    The dates outside which a raw timestamp is quarantined: after the build day (a timestamp in the
    future is an error), or before var program_start_date (the program did not exist). Rows after the
    as-of date A are valid; they are simply not counted (kpi-spec §0), so a rebuild with an earlier A
    neither quarantines nor loses them.
-#}
{% macro quarantine_future_cutoff() %}
    current_date
{%- endmacro %}

{% macro quarantine_program_start() %}
    cast('{{ var("program_start_date", "1990-01-01") }}' as date)
{%- endmacro %}
