{#-
    Every KPI column of kpi_monthly (all but month_start and is_complete_month) is a KPI of
    kpi_monthly_long, so that a column added to kpi_monthly cannot be missing from the long table
    (and its definition, tested by every_kpi_in_kpi_monthly_long_has_a_definition).
-#}
{{ config(meta={'dagster': {'ref': {'name': 'kpi_monthly_long'}}}) }}
-- depends_on: {{ ref('kpi_monthly') }}
{%- set kpi_columns = [] %}
{%- if execute %}
    {%- for column in adapter.get_columns_in_relation(ref('kpi_monthly')) %}
        {%- if column.name | lower not in ['month_start', 'is_complete_month'] %}
            {%- do kpi_columns.append(column.name | lower) %}
        {%- endif %}
    {%- endfor %}
{%- endif %}

with kpi_columns as (
    {%- for name in kpi_columns %}
    select '{{ name }}' as kpi
    {% if not loop.last %}union all{% endif %}
    {%- else %}
    select 'kpi_monthly has no columns' as kpi
    {%- endfor %}
),

long_kpis as (
    select distinct kpi from {{ ref('kpi_monthly_long') }}
)

select kpi_columns.kpi
from kpi_columns
left join long_kpis
    on kpi_columns.kpi = long_kpis.kpi
where long_kpis.kpi is null
