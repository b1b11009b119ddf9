{#- The month spine (kpi-spec §0): one row per calendar month from the first month of data to A's. -#}
with period as (
    select * from {{ ref('int_reporting_period') }}
),

month_numbers as (
    select n as month_index from {{ integer_series(2400) }} as series
),

months as (
    select
        month_numbers.month_index,
        {{ add_months('period.first_month_start', 'month_numbers.month_index') }} as month_start,
        period.as_of_date
    from period
    cross join month_numbers
),

bounded as (
    select
        month_index,
        month_start,
        {{ add_days(add_months('month_start', 1), -1) }} as month_end,
        as_of_date
    from months
    where month_start <= as_of_date
),

final as (
    select
        month_index,
        month_start,
        month_end,
        -- s: the day before the month; e: the month's last day, or A in the month that holds it
        {{ add_days('month_start', -1) }} as day_before_start,
        case when month_end <= as_of_date then month_end else as_of_date end as period_end,
        month_end <= as_of_date as is_complete_month
    from bounded
)

select * from final
