{#-
    Every raw row accounted for, per raw table: raw rows = staged (valid) + quarantined + collapsed
    identical duplicates. A data test fails the build when a row is unaccounted for.
-#}
{%- set tables = ['members', 'transactions', 'tier_changes', 'point_events', 'engagement_events',
                  'survey_responses', 'marketing_spend', 'program_visits', 'order_lines', 'erasure_requests'] %}

with raw_counts as (
    {% for table in tables -%}
    select '{{ table }}' as raw_table, count(*) as raw_rows from {{ source('loyalty', table) }}
    {% if not loop.last %}union all{% endif %}
    {% endfor %}
),

staged_counts as (
    {% for table in tables -%}
    select '{{ table }}' as raw_table, count(*) as valid_rows from {{ ref('stg_loyalty__' ~ table) }}
    {% if not loop.last %}union all{% endif %}
    {% endfor %}
),

quarantine_counts as (
    select
        raw_table,
        sum(case when row_status = 'quarantined' then 1 else 0 end) as quarantined_rows,
        sum(case when row_status = 'duplicate' then 1 else 0 end) as duplicate_rows
    from {{ ref('quarantine') }}
    group by raw_table
),

final as (
    select
        raw_counts.raw_table,
        cast(raw_counts.raw_rows as {{ dbt.type_bigint() }}) as raw_rows,
        cast(staged_counts.valid_rows as {{ dbt.type_bigint() }}) as valid_rows,
        cast(coalesce(quarantine_counts.quarantined_rows, 0) as {{ dbt.type_bigint() }}) as quarantined_rows,
        cast(coalesce(quarantine_counts.duplicate_rows, 0) as {{ dbt.type_bigint() }}) as duplicate_rows
    from raw_counts
    inner join staged_counts
        on raw_counts.raw_table = staged_counts.raw_table
    left join quarantine_counts
        on raw_counts.raw_table = quarantine_counts.raw_table
)

select
    raw_table,
    raw_rows,
    valid_rows,
    quarantined_rows,
    duplicate_rows,
    raw_rows - valid_rows - quarantined_rows - duplicate_rows as unaccounted_rows,
    100 * {{ safe_divide('quarantined_rows', 'raw_rows') }} as quarantine_rate_pct
from final
