{#- Aggregates of int_member_months into the base-flow counts S, E, N, R, C (kpi-spec §1). -#}
{% macro base_flow_counts() %}
        cast(sum(case when is_active_at_start then 1 else 0 end) as {{ dbt.type_bigint() }}) as start_active,
        cast(sum(case when is_active_at_end then 1 else 0 end) as {{ dbt.type_bigint() }}) as end_active,
        cast(sum(case when is_new_active then 1 else 0 end) as {{ dbt.type_bigint() }}) as new_active,
        cast(sum(case when is_reactivated then 1 else 0 end) as {{ dbt.type_bigint() }}) as reactivated,
        cast(sum(case when is_churned then 1 else 0 end) as {{ dbt.type_bigint() }}) as churned
{%- endmacro %}
