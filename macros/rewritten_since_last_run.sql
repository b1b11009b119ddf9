{#-
    In an incremental model that follows the verdicts of base_loyalty__transactions: true for a row whose
    verdict was (re)written after this model's last run. `updated_at` is the verdict's verdicts_updated_at;
    `watermark` is this model's column holding the newest verdicts_updated_at it has seen (no row yet: every
    verdict is new). Used by int_member_purchase_days_all and base_loyalty__order_lines.
-#}
{% macro rewritten_since_last_run(updated_at, watermark) %}
    {{ updated_at }} > (
        select coalesce(max({{ watermark }}), cast('1900-01-01' as {{ dbt.type_timestamp() }}))
        from {{ this }}
    )
{%- endmacro %}
