{#-
    A raw row's original values as one text, 'column=value; …' (PII columns redacted), so that the
    quarantine keeps what was delivered without copying personal data. `prefix`: the raw columns carried
    under another name (raw_values).
-#}
{% macro raw_original_values(columns, pii_columns=[], prefix='') %}
    {%- set parts = [] %}
    {%- for column in columns %}
        {%- do parts.append("'" ~ column ~ "='") %}
        {%- if column in pii_columns %}
            {%- do parts.append("case when " ~ prefix ~ column ~ " is null then '<null>' else '<redacted>' end") %}
        {%- else %}
            {%- do parts.append("coalesce(cast(" ~ prefix ~ column ~ " as " ~ dbt.type_string() ~ "), '<null>')") %}
        {%- endif %}
        {%- if not loop.last %}{% do parts.append("'; '") %}{% endif %}
    {%- endfor %}
    {{ dbt.concat(parts) }}
{%- endmacro %}

{#-
    The raw columns as delivered, renamed raw__<column>: carried past the verdict so that
    original_values_unless_valid can render the rows that need it.
-#}
{% macro raw_values(columns) %}
    {%- for column in columns %}
        {{ column }} as raw__{{ column }}{% if not loop.last %},{% endif %}
    {%- endfor %}
{%- endmacro %}
