{#-
    A quarantined row's original values as one text, 'column=value; …' (PII columns redacted), so that
    the quarantine keeps what was delivered without copying personal data.
-#}
{% macro raw_original_values(columns, pii_columns=[]) %}
    {%- set parts = [] %}
    {%- for column in columns %}
        {%- do parts.append("'" ~ column ~ "='") %}
        {%- if column in pii_columns %}
            {%- do parts.append("case when " ~ column ~ " is null then '<null>' else '<redacted>' end") %}
        {%- else %}
            {%- do parts.append("coalesce(cast(" ~ column ~ " as " ~ dbt.type_string() ~ "), '<null>')") %}
        {%- endif %}
        {%- if not loop.last %}{% do parts.append("'; '") %}{% endif %}
    {%- endfor %}
    {{ dbt.concat(parts) }}
{%- endmacro %}
