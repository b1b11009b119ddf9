{#-
    The `members_snapshot` snapshot as a relation of (dbt_scd_id, member_id, tier, dbt_valid_from): the
    tier history used when raw `tier_changes` is empty (int_member_tier_changes). Spark builds no snapshot
    (dbt-spark snapshots need Delta, Hudi or Iceberg; dbt_project.yml), so there it is an empty relation:
    on Spark the tier history comes from raw `tier_changes` only.
-#}
{% macro members_tier_snapshot() %}
    {{ return(adapter.dispatch('members_tier_snapshot', 'loyalty_kpi')()) }}
{% endmacro %}

{% macro default__members_tier_snapshot() %}
    {{ return(ref('members_snapshot')) }}
{% endmacro %}

{% macro spark__members_tier_snapshot() %}
    {%- set empty -%}
    (select
        cast(null as {{ dbt.type_string() }}) as dbt_scd_id,
        cast(null as {{ dbt.type_string() }}) as member_id,
        cast(null as {{ dbt.type_string() }}) as tier,
        cast(null as {{ dbt.type_timestamp() }}) as dbt_valid_from
    from (select 1 as no_row) as nothing
    where 1 = 0)
    {%- endset -%}
    {{ return(empty) }}
{% endmacro %}
