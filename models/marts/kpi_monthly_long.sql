{#- Every KPI column of kpi_monthly, unpivoted: one row per month and KPI (its unit from kpi_definitions). -#}
{%- set kpis = [
    'enrolled_members', 'active_members', 'active_rate_pct', 'new_enrollments', 'cancellations',
    'member_orders', 'member_net_revenue', 'aov', 'non_member_aov', 'member_aov_lift_pct',
    'repeat_purchase_rate_pct', 'repeat_buyer_ratio', 'one_and_done_rate_pct', 'crr_pct', 'churn_rate_pct',
    'churn_reduction_pp', 'aov_12m', 'purchase_frequency_12m', 'lifespan_years', 'clv_formula', 'nps',
    'customer_loyalty_index', 'points_issued', 'points_redeemed', 'points_expired', 'redemption_rate_pct',
    'redemption_participation_pct', 'points_liability', 'engagement_rate_pct', 'referral_rate_pct',
    'enrollment_rate_pct', 'cac',
] %}

with kpi_monthly as (
    select * from {{ ref('kpi_monthly') }}
),

definitions as (
    select name, unit from {{ ref('kpi_definitions') }}
),

unpivoted as (
    {%- for kpi in kpis %}
    select
        month_start,
        '{{ kpi }}' as kpi,
        cast({{ kpi }} as {{ type_double() }}) as value,
        is_complete_month
    from kpi_monthly
    {% if not loop.last %}union all{% endif %}
    {%- endfor %}
),

final as (
    select
        unpivoted.month_start,
        cast(unpivoted.kpi as {{ dbt.type_string() }}) as kpi,
        unpivoted.value,
        cast(definitions.unit as {{ dbt.type_string() }}) as unit,
        unpivoted.is_complete_month
    from unpivoted
    left join definitions
        on unpivoted.kpi = definitions.name
)

select
    month_start,
    kpi,
    value,
    unit,
    is_complete_month
from final
