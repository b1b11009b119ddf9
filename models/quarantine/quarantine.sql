{#-
    Every raw row that did not become a staged row: quarantined rows (with a machine-readable reason and
    a message) and collapsed identical duplicates, with their original values (PII redacted), read
    again from the raw rows (macro raw_rows_as_delivered): the base models' verdict windows do not carry
    them (DECISIONS.md "Quarantine").

    keyed_tables: (raw table, its record_key from the base model's columns, the raw key column of a base
    model with a verdict_key — the large facts, whose raw rows are read only for keys with a row not valid).
-#}
{%- set keyed_tables = [
    ('members', 'base.member_id', none),
    ('transactions', 'base.transaction_id', 'transaction_id'),
    ('tier_changes', 'base.tier_change_id', none),
    ('point_events', 'base.point_event_id', 'point_event_id'),
    ('engagement_events', 'base.engagement_event_id', 'engagement_event_id'),
    ('survey_responses', 'base.response_id', none),
    ('order_lines', 'base.order_line_id', 'order_line_id'),
    ('marketing_spend', dbt.concat(["cast(base.spend_date as " ~ dbt.type_string() ~ ")", "'|'", 'base.channel']), none),
    ('program_visits', dbt.concat(["cast(base.visit_date as " ~ dbt.type_string() ~ ")", "'|'", 'base.channel']), none),
    ('erasure_requests', 'base.erased_member_key', none),
] %}

with base_rows as (
    {% for table, key, raw_key in keyed_tables -%}
    select
        '{{ table }}' as raw_table,
        base.delivery,
        {{ key }} as record_key,
        base.row_status,
        base.quarantine_reason,
        as_delivered.original_values
    from {{ ref('base_loyalty__' ~ table) }} as base
    left join ({{ raw_rows_as_delivered(table, raw_key) }}) as as_delivered
        on base.delivery = as_delivered.delivery
        and base.row_hash = as_delivered.row_hash
    where base.row_status <> 'valid'
    {% if not loop.last %}union all{% endif %}
    {% endfor %}
),

reasons as (
    select * from {{ ref('quarantine_reasons') }}
),

final as (
    select
        base_rows.raw_table,
        base_rows.delivery,
        base_rows.record_key,
        base_rows.row_status,
        coalesce(base_rows.quarantine_reason, 'identical_duplicate') as reason,
        reasons.message,
        base_rows.original_values
    from base_rows
    left join reasons
        on coalesce(base_rows.quarantine_reason, 'identical_duplicate') = reasons.reason
)

select * from final
