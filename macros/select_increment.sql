{#-
    The last select of an incremental base model with verdicts (after its `final` CTE and the CTEs of
    incremental_rows_to_judge). delete+insert (DuckDB, PostgreSQL) replaces the keys of `final`: select it.
    insert_overwrite (Spark) replaces whole `partition_column` partitions (a month), not keys: each
    partition holding a re-judged row, old or new, is written again with all its rows — the rows of the
    keys not re-judged carried over as they are (rows without a date in the partition 0001-01-01).
-#}
{% macro select_increment(partition_column) %}
{%- if is_incremental() and config.get('incremental_strategy') == 'insert_overwrite' %}
{%- set columns = adapter.get_columns_in_relation(this) | map(attribute='name') | list %}
, rewritten_partitions as (
    select distinct coalesce({{ partition_column }}, cast('0001-01-01' as date)) as partition_value from final
    union
    select distinct coalesce({{ partition_column }}, cast('0001-01-01' as date)) as partition_value
    from {{ this }}
    where verdict_key in (select verdict_key from changed_keys)
),

carried as (
    select kept.*
    from {{ this }} as kept
    inner join rewritten_partitions
        on coalesce(kept.{{ partition_column }}, cast('0001-01-01' as date)) = rewritten_partitions.partition_value
    where kept.verdict_key not in (select verdict_key from changed_keys)
)

select {{ columns | join(', ') }} from final
union all
select {{ columns | join(', ') }} from carried
{%- else %}
select * from final
{%- endif %}
{%- endmacro %}
