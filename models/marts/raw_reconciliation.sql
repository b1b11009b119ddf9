{#-
    Every raw row accounted for, per raw table and delivery (the file a row came from: docs/raw_contract.md):
    raw rows = staged (valid) + quarantined + collapsed identical duplicates. A data test fails the build
    when a row is unaccounted for. A table without any raw row (an absent optional file) has one row, with
    a null delivery and zeros.
-#}
{%- set tables = ['members', 'transactions', 'tier_changes', 'point_events', 'engagement_events',
                  'survey_responses', 'marketing_spend', 'program_visits', 'order_lines', 'erasure_requests'] %}

with raw_counts as (
    {% for table in tables -%}
    {%- set probe = (graph.sources['source.' ~ project_name ~ '.loyalty.' ~ table].columns.keys() | list | first)
        if execute else 'probe' %}
    -- every row counted through one of its columns: Spark's multi-line CSV reader fails on a scan that
    -- reads no column at all (the delivery is a constant there)
    select
        '{{ table }}' as raw_table,
        delivery,
        count(probe) + count(case when probe is null then 1 end) as raw_rows
    from (
        select _delivery as delivery, {{ adapter.quote(probe) }} as probe
        from {{ erased_source(table) }} as raw_rows
    ) as deliveries
    group by delivery
    {% if not loop.last %}union all{% endif %}
    {% endfor %}
),

verdict_counts as (
    -- the staged rows are the base models' valid rows (stg_* are views of them), the others the quarantine's
    {% for table in tables -%}
    select
        '{{ table }}' as raw_table,
        delivery,
        sum(case when row_status = 'valid' then 1 else 0 end) as valid_rows,
        sum(case when row_status = 'quarantined' then 1 else 0 end) as quarantined_rows,
        sum(case when row_status = 'duplicate' then 1 else 0 end) as duplicate_rows
    from {{ ref('base_loyalty__' ~ table) }}
    group by delivery
    {% if not loop.last %}union all{% endif %}
    {% endfor %}
),

staged_counts as (
    {% for table in tables -%}
    select '{{ table }}' as raw_table, count(*) as staged_rows from {{ ref('stg_loyalty__' ~ table) }}
    {% if not loop.last %}union all{% endif %}
    {% endfor %}
),

quarantine_counts as (
    select raw_table, delivery, count(*) as quarantine_rows
    from {{ ref('quarantine') }}
    group by raw_table, delivery
),

deliveries as (
    -- the conditions (always true) keep a column of each scan: see raw_counts
    select raw_table, delivery from raw_counts where raw_rows > 0
    union
    select raw_table, delivery from verdict_counts where valid_rows + quarantined_rows + duplicate_rows > 0
),

tables as (
    {% for table in tables -%}
    select '{{ table }}' as raw_table
    {% if not loop.last %}union all{% endif %}
    {% endfor %}
),

keys as (
    select raw_table, delivery from deliveries
    union all
    select tables.raw_table, cast(null as {{ dbt.type_string() }}) as delivery
    from tables
    where not exists (select 1 from deliveries where deliveries.raw_table = tables.raw_table)
),

final as (
    select
        keys.raw_table,
        keys.delivery,
        cast(coalesce(raw_counts.raw_rows, 0) as {{ dbt.type_bigint() }}) as raw_rows,
        cast(coalesce(verdict_counts.valid_rows, 0) as {{ dbt.type_bigint() }}) as valid_rows,
        cast(coalesce(verdict_counts.quarantined_rows, 0) as {{ dbt.type_bigint() }}) as quarantined_rows,
        cast(coalesce(verdict_counts.duplicate_rows, 0) as {{ dbt.type_bigint() }}) as duplicate_rows,
        -- the staged views and the quarantine model must hold exactly the base models' rows
        cast(coalesce(quarantine_counts.quarantine_rows, 0) as {{ dbt.type_bigint() }})
            - cast(coalesce(verdict_counts.quarantined_rows, 0) + coalesce(verdict_counts.duplicate_rows, 0)
                as {{ dbt.type_bigint() }}) as quarantine_mismatch,
        staged_counts.staged_rows
    from keys
    inner join staged_counts
        on keys.raw_table = staged_counts.raw_table
    left join raw_counts
        on keys.raw_table = raw_counts.raw_table
        and keys.delivery = raw_counts.delivery
    left join verdict_counts
        on keys.raw_table = verdict_counts.raw_table
        and keys.delivery = verdict_counts.delivery
    left join quarantine_counts
        on keys.raw_table = quarantine_counts.raw_table
        and keys.delivery = quarantine_counts.delivery
),

with_totals as (
    select
        *,
        sum(valid_rows) over (partition by raw_table) as table_valid_rows,
        sum(quarantined_rows) over (partition by raw_table) as table_quarantined_rows,
        sum(raw_rows) over (partition by raw_table) as table_raw_rows
    from final
)

select
    raw_table,
    delivery,
    raw_rows,
    valid_rows,
    quarantined_rows,
    duplicate_rows,
    -- a row is unaccounted for when the increment did not judge it, or when the staged view or the
    -- quarantine model lost (or gained) a judged row
    cast(
        raw_rows - valid_rows - quarantined_rows - duplicate_rows
        + abs(quarantine_mismatch) + abs(staged_rows - table_valid_rows)
        as {{ dbt.type_bigint() }}
    ) as unaccounted_rows,
    100 * {{ safe_divide('quarantined_rows', 'raw_rows') }} as quarantine_rate_pct,
    100 * {{ safe_divide('table_quarantined_rows', 'table_raw_rows') }} as table_quarantine_rate_pct
from with_totals
