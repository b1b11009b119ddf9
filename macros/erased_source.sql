{#-
    Member erasure (DECISIONS.md "Member erasure"). A member listed in the raw `erasure_requests` table
    is forgotten: every member-id column of the raw contract (`meta.member_key` in the sources YAML) is
    replaced by an anonymous key before any model reads it, so no model, snapshot or quarantine row
    holds the id while every aggregate KPI stays computable (the member still counts, under a key that
    cannot be traced back without the secret var `erasure_salt`).

    erased_source(table): the raw table as a subquery with its member ids anonymised and its column
    `_delivery` (the file the row came from); models read the raw contract through it instead of source().
-#}
{% macro erased_source(table) %}
    {%- set relation = source('loyalty', table) -%}
    {%- set requests = source('loyalty', 'erasure_requests') -%}
    {%- if not execute -%}{{ return(relation) }}{%- endif -%}
    {%- set node = graph.sources['source.' ~ project_name ~ '.loyalty.' ~ table] -%}
    {%- set columns = [] -%}
    {%- for column in node.columns.values() -%}
        {%- if column.meta.get('member_key', false) -%}
            {%- do columns.append(loyalty_kpi.erased_member_key(adapter.quote(column.name), requests)
                ~ ' as ' ~ adapter.quote(column.name)) -%}
        {%- else -%}
            {%- do columns.append(adapter.quote(column.name)) -%}
        {%- endif -%}
    {%- endfor -%}
    {#- the delivery (file) the row came from (macro create_raw_relations); null: the table's one delivery -#}
    {%- do columns.append('coalesce(cast(' ~ adapter.quote('_delivery') ~ ' as ' ~ dbt.type_string() ~ '), '
        ~ loyalty_kpi.sql_string(table) ~ ') as ' ~ adapter.quote('_delivery')) -%}
    {{ return('(select ' ~ columns | join(', ') ~ ' from ' ~ relation ~ ')') }}
{% endmacro %}

{#- A member id, or its anonymous key when the member is in `requests` (the erasure_requests relation). -#}
{% macro erased_member_key(column, requests) %}
    {%- set member_id = 'nullif(trim(cast(' ~ column ~ ' as ' ~ dbt.type_string() ~ ')), \'\')' -%}
    case
        when {{ member_id }} in ({{ loyalty_kpi.erased_member_ids(requests) }})
            then {{ dbt.concat(["'erased-'", dbt.hash(dbt.concat([loyalty_kpi.sql_string(var('erasure_salt', '')), member_id]))]) }}
        else cast({{ column }} as {{ dbt.type_string() }})
    end
{%- endmacro %}

{% macro erased_member_ids(requests) %}
    select nullif(trim(cast(member_id as {{ dbt.type_string() }})), '') from {{ requests }}
    where nullif(trim(cast(member_id as {{ dbt.type_string() }})), '') is not null
{%- endmacro %}

{#-
    Snapshot pre-hook: the history rows captured before a member's erasure request get the anonymous key
    too (the new rows already have it), so the snapshot keeps one history per member and no id.
-#}
{% macro erase_snapshot_members() %}
    {%- if not execute or load_relation(this) is none -%}{{ return('select 1') }}{%- endif -%}
    {%- set requests = source('loyalty', 'erasure_requests') -%}
    update {{ this }}
    set member_id = {{ loyalty_kpi.erased_member_key('member_id', requests) }}
    where member_id in ({{ loyalty_kpi.erased_member_ids(requests) }})
{% endmacro %}
