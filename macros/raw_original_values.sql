{#-
    A raw row's original values as one text, 'column=value; …' (PII columns redacted), so that the
    quarantine keeps what was delivered without copying personal data.
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

{#- The raw contract's columns of a table, in the sources YAML's order (the order of its row hash). -#}
{% macro source_columns(table, pii_only=false) %}
    {%- if not execute -%}{{ return([]) }}{%- endif -%}
    {%- set node = graph.sources['source.' ~ project_name ~ '.loyalty.' ~ table] -%}
    {%- set columns = [] -%}
    {%- for column in node.columns.values() -%}
        {%- if not pii_only or column.meta.get('pii', false) -%}{%- do columns.append(column.name) -%}{%- endif -%}
    {%- endfor -%}
    {{ return(columns) }}
{%- endmacro %}

{#-
    The raw rows of a table as the quarantine shows them (DECISIONS.md "Quarantine"): delivery, row_hash
    (as its base model computes it) and original_values, once per distinct row, for the quarantine to
    join to its base model's rows that are not valid on (delivery, row_hash). key_column: the raw key of
    a base model with a verdict_key, to read only the rows of the keys that have a row not valid (few:
    the large facts are not rendered whole); none reads every row (the small tables).
-#}
{% macro raw_rows_as_delivered(table, key_column=none) %}
    {%- set columns = source_columns(table) -%}
    select distinct
        _delivery as delivery,
        {{ raw_row_hash(columns) }} as row_hash,
        {{ raw_original_values(columns, source_columns(table, pii_only=true)) }} as original_values
    from {{ erased_source(table) }} as raw_rows
    {%- if key_column %}
    where {{ verdict_key(key_column) }} in (
        select verdict_key from {{ ref('base_loyalty__' ~ table) }} where row_status <> 'valid'
    )
    {%- endif %}
{%- endmacro %}
