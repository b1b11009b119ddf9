{#-
    The incremental window of a base model with verdicts (DECISIONS.md "Incremental models" and "Which
    raw rows an increment reads"), shared by
    base_loyalty__transactions, base_loyalty__point_events and base_loyalty__engagement_events.

    A verdict depends on every raw row of the same key (identical copies collapse, the latest version
    wins), so an increment re-judges whole keys, from the raw rows of the `source` CTE: every key of a new
    delivery (a raw file the model has no row of: late rows included, whatever their date), the keys of a
    grown delivery's rows dated from the last loaded day minus var incremental_lookback_days on (or without a
    parseable date; macro changed_deliveries), and the keys whose verdict depends on something other than
    their own rows — `unknown_member` (the member may have arrived), `future_timestamp` (the build day moves
    on) and those of members with an erasure request (their rows now carry the anonymous key, macro
    erased_source). The model's delete+insert on verdict_key then replaces every row of those keys. Only the
    new and grown deliveries' files are read in full; the others only for the rows of those keys.

    Emits the CTEs up to `rows_to_judge` (the raw rows to judge: all of them in a full build), each
    followed by a comma. table: the raw table; key_column: its key column; timestamp_column: the raw
    timestamp the window is on; day_column: the model's column holding that timestamp's UTC day.
-#}
{% macro incremental_rows_to_judge(table, key_column, timestamp_column, day_column) %}
{%- if is_incremental() %}
{%- set deliveries = changed_deliveries(table) %}
source_keys as (
    -- the key and the day of every raw row of a new or grown delivery (read directly, not through the
    -- `source` CTE: a CTE read twice is materialized whole on DuckDB)
    select
        {{ verdict_key(key_column) }} as verdict_key,
        _delivery as delivery,
        cast({{ try_to_utc_timestamp(timestamp_column) }} as date) as row_day
    from {{ erased_source(table) }} as raw_rows
    where {{ delivery_in(deliveries.new + deliveries.grown) }}
),

last_loaded as (
    -- a future-dated row must not move the window past the days still to come
    select max({{ day_column }}) as last_loaded_date
    from {{ this }}
    where {{ day_column }} <= {{ quarantine_future_cutoff() }}
),

delivered_keys as (
    -- every key of a new delivery; of a grown one, the keys of its rows in the lookback window
    select source_keys.verdict_key
    from source_keys
    cross join last_loaded
    where {{ delivery_in(deliveries.new, 'source_keys.delivery') }}
        or source_keys.row_day is null
        or last_loaded.last_loaded_date is null
        or source_keys.row_day >= {{ add_days('last_loaded.last_loaded_date', -(var('incremental_lookback_days') | int)) }}
),

reopened_keys as (
    select verdict_key
    from {{ this }}
    where quarantine_reason in ('unknown_member', 'future_timestamp')
        -- a member forgotten since: the key is re-judged from the raw rows, now anonymised
        or member_id in ({{ erased_member_ids(source('loyalty', 'erasure_requests')) }})
),

changed_keys as (
    select verdict_key from delivered_keys
    union
    select verdict_key from reopened_keys
),

rows_to_judge as (
    select source.*
    from source
    inner join changed_keys
        on {{ verdict_key('source.' ~ key_column) }} = changed_keys.verdict_key
),
{%- else %}
rows_to_judge as (
    select * from source
),
{%- endif %}
{%- endmacro %}

{#- A raw key as the delete+insert key of a base model: trimmed, '' when missing (never null). -#}
{% macro verdict_key(column) -%}
    coalesce(nullif(trim(cast({{ column }} as {{ dbt.type_string() }})), ''), '')
{%- endmacro %}

{#-
    The deliveries (raw files, `_delivery`) of raw `table` that an increment of the current model reads
    (DECISIONS.md "Which raw rows an increment reads"), as {'new': [...], 'grown': [...]}: new — the model has no row of it;
    grown — its raw row count differs from the model's rows of it (one per raw row), e.g. a file appended to.
    A delivery with as many rows as the model holds is taken as judged: a file is a delivery, immutable once
    delivered (one changed in place with its row count unchanged needs --full-refresh). Two small
    aggregates (DuckDB reads the row counts of its Parquet files without their columns).
-#}
{% macro changed_deliveries(table) %}
    {%- set found = {'new': [], 'grown': []} -%}
    {%- if not execute -%}{{ return(found) }}{%- endif -%}
    {#- counted side by side, not joined: a table of one file has a constant delivery, which leaves Spark a
        join without keys (a broadcast nested loop join) -#}
    {%- set query -%}
        with row_counts as (
            select _delivery as delivery, count(*) as raw_rows, 0 as judged_rows
            from {{ loyalty_kpi.erased_source(table) }} as raw_rows
            group by _delivery

            union all

            select delivery, 0 as raw_rows, count(*) as judged_rows
            from {{ this }}
            group by delivery
        ),

        deliveries as (
            select delivery, sum(raw_rows) as raw_rows, sum(judged_rows) as judged_rows
            from row_counts
            group by delivery
        )

        select delivery, judged_rows = 0 as is_new
        from deliveries
        where raw_rows > 0 and raw_rows <> judged_rows
        order by delivery
    {%- endset -%}
    {%- for row in run_query(query).rows -%}
        {%- do found['new' if row[1] else 'grown'].append(row[0]) -%}
    {%- endfor -%}
    {{ return(found) }}
{% endmacro %}

{#- A condition: `column` is one of the deliveries (a list of names; false when empty). -#}
{% macro delivery_in(deliveries, column='_delivery') -%}
    {%- if deliveries -%}
        {{ column }} in ({% for delivery in deliveries %}{{ loyalty_kpi.sql_string(delivery) }}{% if not loop.last %}, {% endif %}{% endfor %})
    {%- else -%}
        1 = 0
    {%- endif -%}
{%- endmacro %}
