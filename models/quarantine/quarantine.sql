{#-
    Every raw row that did not become a staged row: quarantined rows (with a machine-readable reason and
    a message) and collapsed identical duplicates, with their original values (PII redacted).
-#}
with base_rows as (
    select 'members' as raw_table, member_id as record_key, row_status, quarantine_reason, original_values
    from {{ ref('base_loyalty__members') }}
    where row_status <> 'valid'

    union all

    select 'transactions' as raw_table, transaction_id as record_key, row_status, quarantine_reason, original_values
    from {{ ref('base_loyalty__transactions') }}
    where row_status <> 'valid'
),

reasons as (
    select * from {{ ref('quarantine_reasons') }}
),

final as (
    select
        base_rows.raw_table,
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
