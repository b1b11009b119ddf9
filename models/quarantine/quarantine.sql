{#-
    Every raw row that did not become a staged row: quarantined rows (with a machine-readable reason and
    a message) and collapsed identical duplicates, with their original values (PII redacted).
-#}
{%- set keyed_tables = [
    ('members', 'member_id'),
    ('transactions', 'transaction_id'),
    ('tier_changes', 'tier_change_id'),
    ('point_events', 'point_event_id'),
    ('engagement_events', 'engagement_event_id'),
    ('survey_responses', 'response_id'),
    ('order_lines', 'order_line_id'),
    ('marketing_spend', dbt.concat(["cast(spend_date as " ~ dbt.type_string() ~ ")", "'|'", 'channel'])),
    ('program_visits', dbt.concat(["cast(visit_date as " ~ dbt.type_string() ~ ")", "'|'", 'channel'])),
    ('erasure_requests', 'erased_member_key'),
] %}

with base_rows as (
    {% for table, key in keyed_tables -%}
    select
        '{{ table }}' as raw_table,
        delivery,
        {{ key }} as record_key,
        row_status,
        quarantine_reason,
        original_values
    from {{ ref('base_loyalty__' ~ table) }}
    where row_status <> 'valid'
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
