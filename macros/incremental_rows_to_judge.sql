{#-
    The incremental window of a base model with verdicts (DECISIONS.md "Incremental models"), shared by
    base_loyalty__transactions, base_loyalty__point_events and base_loyalty__engagement_events.

    A verdict depends on every raw row of the same key (identical copies collapse, the latest version
    wins), so an increment re-judges whole keys, from the raw rows of the `source` CTE: the keys of the
    rows dated from the last loaded day minus var incremental_lookback_days on (or without a parseable
    date), and the keys whose verdict depends on something other than their own rows — `unknown_member`
    (the member may have arrived), `future_timestamp` (the build day moves on) and those of members with
    an erasure request (their rows now carry the anonymous key, macro erased_source). The model's
    delete+insert on verdict_key then replaces every row of those keys.

    Emits the CTEs up to `rows_to_judge` (the raw rows to judge: all of them in a full build), each
    followed by a comma. key_column: the raw key column; timestamp_column: the raw timestamp the window
    is on; day_column: the model's column holding that timestamp's UTC day.
-#}
{% macro incremental_rows_to_judge(key_column, timestamp_column, day_column) %}
{%- if is_incremental() %}
source_keys as (
    -- the key and the day of every raw row: the only columns an increment reads in full
    select
        {{ verdict_key(key_column) }} as verdict_key,
        cast({{ try_to_utc_timestamp(timestamp_column) }} as date) as row_day
    from source
),

last_loaded as (
    -- a future-dated row must not move the window past the days still to come
    select max({{ day_column }}) as last_loaded_date
    from {{ this }}
    where {{ day_column }} <= {{ quarantine_future_cutoff() }}
),

delivered_keys as (
    select source_keys.verdict_key
    from source_keys
    cross join last_loaded
    where source_keys.row_day is null
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
