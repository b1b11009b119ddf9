{#-
    The verdict of every raw row of a staging base model (DECISIONS.md "Quarantine"). The base model's
    `checked` relation holds the row's key columns, `row_hash` (raw_row_hash), `delivery` (the raw file)
    and `row_problem` (null or a reason code of the quarantine_reasons seed); then:

    - row_verdict_ranks(keys, newest_first): copy_number (identical copies of a key's row, the copy of the
      first delivery in name order first, so the one staged is the same build after build) and
      version_rank (the key's differing versions, newest first, then the greatest row hash), both counted
      among the rows without a problem of their own;
    - row_verdict(): row_status (`valid`, `duplicate`: an identical copy, collapsed, or `quarantined`)
      and quarantine_reason (the problem, or `conflicting_duplicate` for an older version).
-#}
{% macro row_verdict_ranks(keys, newest_first) %}
    {%- set partition = keys | join(', ') -%}
        row_number() over (
            partition by {{ partition }}, row_hash, row_problem is null order by delivery
        ) as copy_number,
        dense_rank() over (
            partition by {{ partition }}, row_problem is null
            order by {% if newest_first %}{{ newest_first }}, {% endif %}row_hash desc
        ) as version_rank
{%- endmacro %}

{% macro row_verdict() %}
        case
            when row_problem is not null then 'quarantined'
            when version_rank > 1 then 'quarantined'
            when copy_number > 1 then 'duplicate'
            else 'valid'
        end as row_status,
        coalesce(row_problem, case when version_rank > 1 then 'conflicting_duplicate' end) as quarantine_reason
{%- endmacro %}

{#-
    The `when … then <reason>` branches for a raw timestamp or date: `parsed` is its parsed value (null
    when it does not parse), `present` whether the raw value was there at all.
-#}
{% macro timestamp_problems(parsed, present) %}
            when not {{ present }} then 'missing_timestamp'
            when {{ parsed }} is null then 'unparseable_timestamp'
            when cast({{ parsed }} as date) > {{ quarantine_future_cutoff() }} then 'future_timestamp'
            when cast({{ parsed }} as date) < {{ quarantine_program_start() }} then 'timestamp_before_program_start'
{%- endmacro %}
