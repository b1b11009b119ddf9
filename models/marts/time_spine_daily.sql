{#-
    MetricFlow's time spine (models/marts/_marts__semantic_models.yml): one row per calendar day of every
    month of the month spine, the first month of data to the month holding A (days after A included, so
    the last month is whole). Also a calendar BI tools can join to.
-#}
with months as (
    select month_start, month_end from {{ ref('int_months') }}
),

day_numbers as (
    select n as day_index from {{ integer_series(31) }} as series
),

days as (
    select {{ add_days('months.month_start', 'day_numbers.day_index') }} as date_day, months.month_end
    from months
    cross join day_numbers
)

select date_day
from days
where date_day <= month_end
