{#-
    No mart exposes personal data: fails with one row per mart column whose name is a PII column of
    the raw contract (source columns with meta.pii) or a well-known personal field.
    Runs after every mart (the depends_on lines); a new mart is added here too.
-#}
{{ config(meta={'dagster': {'ref': {'name': 'members'}}}) }}
-- depends_on: {{ ref('member_base_flow_monthly') }}
-- depends_on: {{ ref('member_base_flow_monthly_by_channel') }}
-- depends_on: {{ ref('kpi_monthly') }}
-- depends_on: {{ ref('members') }}
-- depends_on: {{ ref('cohort_retention_monthly') }}
-- depends_on: {{ ref('tier_distribution_monthly') }}
-- depends_on: {{ ref('clv_model_fit') }}
-- depends_on: {{ ref('member_clv_predicted') }}
-- depends_on: {{ ref('clv_holdout_validation') }}
{%- set pii_names = ['email', 'e_mail', 'name', 'first_name', 'last_name', 'phone', 'birth_date', 'date_of_birth', 'address'] %}
{%- if execute %}
    {%- for source in graph.sources.values() %}
        {%- for column in source.columns.values() if column.meta.get('pii') %}
            {%- do pii_names.append(column.name | lower) %}
        {%- endfor %}
    {%- endfor %}
{%- endif %}
{%- set offending = [] %}
{%- if execute %}
    {%- for node in graph.nodes.values()
        if node.resource_type == 'model' and node.fqn[1] == 'marts' and node.package_name == project_name %}
        {%- set relation = adapter.get_relation(database=node.database, schema=node.schema, identifier=node.alias) %}
        {%- if relation is not none %}
            {%- for column in adapter.get_columns_in_relation(relation) if column.name | lower in pii_names %}
                {%- do offending.append((node.name, column.name | lower)) %}
            {%- endfor %}
        {%- endif %}
    {%- endfor %}
{%- endif %}

{%- if offending %}
    {%- for mart, column in offending %}
select '{{ mart }}' as mart, '{{ column }}' as pii_column
{{ 'union all' if not loop.last }}
    {%- endfor %}
{%- else %}
select 'none' as mart, 'none' as pii_column where 1 = 0
{%- endif %}
