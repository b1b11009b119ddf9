{#-
    The last select of an incremental base model with verdicts (after its `final` CTE and the CTEs of
    incremental_rows_to_judge). delete+insert (DuckDB, PostgreSQL) replaces the keys of `final`: select it.
    insert_overwrite (Spark) replaces whole `day_column` partitions, not keys: each partition holding a
    re-judged row, old or new, is written again with all its rows — the rows of the keys not re-judged
    carried over as they are (rows without a day in the partition 0001-01-01).
-#}
{% macro select_increment(day_column) %}
{%- if is_incremental() and config.get('incremental_strategy') == 'insert_overwrite' %}
{%- set columns = adapter.get_columns_in_relation(this) | map(attribute='name') | list %}
, rewritten_days as (
    select distinct coalesce({{ day_column }}, cast('0001-01-01' as date)) as partition_day from final
    union
    select distinct coalesce({{ day_column }}, cast('0001-01-01' as date)) as partition_day
    from {{ this }}
    where verdict_key in (select verdict_key from changed_keys)
),

carried as (
    select kept.*
    from {{ this }} as kept
    inner join rewritten_days
        on coalesce(kept.{{ day_column }}, cast('0001-01-01' as date)) = rewritten_days.partition_day
    where kept.verdict_key not in (select verdict_key from changed_keys)
)

select {{ columns | join(', ') }} from final
union all
select {{ columns | join(', ') }} from carried
{%- else %}
select * from final
{%- endif %}
{%- endmacro %}
