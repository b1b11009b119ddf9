{#-
    In a member × month model incremental by month (delete+insert on month_start, an `as_of_date` column
    holding the A each month was computed with, and a pre-hook deleting the months after A): a condition,
    true for a month an increment must compute again because of A (besides the months of changed verdicts).
    Used by int_member_order_lines_monthly and int_member_engagement_monthly.

    A month's rows count its days up to A. Rows computed with another A (A moved either way) are still
    right when both As cover the whole month; otherwise the month is stale (the earlier A's month is not
    before it). A month after the last one the model holds was never computed (the model is empty, A moved
    forward, or A moved back before a month's first row). One A per model would not do: after A moves
    back, the older months keep the later A they were computed with.

    `month_column`: the month of the rows being selected.
-#}
{% macro stale_month(month_column) %}
    (
        {{ month_column }} in (
            select computed.month_start
            from {{ this }} as computed
            cross join {{ ref('int_reporting_period') }} as period
            where {{ stale_row('computed.month_start', 'computed.as_of_date', 'period.as_of_date') }}
        )
        or {{ month_column }} > (
            select coalesce(max(month_start), cast('1900-01-01' as date)) from {{ this }}
        )
    )
{%- endmacro %}

{#-
    A row of such a model that A makes stale: computed (`row_as_of_date`) with another A than this run's
    (`as_of_date`), the earlier of the two not covering its month (`row_month`) whole.
-#}
{% macro stale_row(row_month, row_as_of_date, as_of_date) -%}
    {{ row_as_of_date }} <> {{ as_of_date }}
    and {{ month_start('least(' ~ row_as_of_date ~ ', ' ~ as_of_date ~ ')') }} <= {{ row_month }}
{%- endmacro %}

{#- Pre-hook of those models: delete the months after A (A moved back); nothing in a full build. -#}
{% macro delete_months_after_as_of() %}
    {%- if is_incremental() -%}
        delete from {{ this }} where month_start > (select as_of_date from {{ ref('int_reporting_period') }})
    {%- else -%}
        select 1
    {%- endif -%}
{% endmacro %}

{#-
    Post-hook of those models: delete the rows of the stale months (macro stale_month) that the increment
    recomputed empty. delete+insert on month_start replaces only the months it has new rows of, so such a
    month would keep rows computed with another A (days after A, or an A before the rows' days).
-#}
{% macro delete_stale_months() %}
    {%- if is_incremental() -%}
        {%- set as_of_date = '(select as_of_date from ' ~ ref('int_reporting_period') ~ ')' -%}
        delete from {{ this }}
        where {{ stale_row('month_start', 'as_of_date', as_of_date) }}
    {%- else -%}
        select 1
    {%- endif -%}
{% endmacro %}
