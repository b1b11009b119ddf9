{#- The as-of date A and the first month of the month spine (kpi-spec §0): one row. -#}
{%- set as_of_date = var('as_of_date') %}

with transaction_days as (
    select max(transacted_on) as last_transaction_date
    from {{ ref('stg_loyalty__transactions') }}
),

as_of as (
    select
        {% if as_of_date -%}
        cast('{{ as_of_date }}' as date)
        {%- else -%}
        last_transaction_date
        {%- endif %} as as_of_date
    from transaction_days
),

first_days as (
    select min(enrolled_on) as first_day
    from {{ ref('stg_loyalty__members') }}
    where enrolled_on <= (select as_of_date from as_of)

    union all

    select min(transacted_on) as first_day
    from {{ ref('stg_loyalty__transactions') }}
    where transacted_on <= (select as_of_date from as_of)
),

period as (
    select
        as_of.as_of_date,
        {{ month_start('min(first_days.first_day)') }} as first_month_start,
        {{ month_start('as_of.as_of_date') }} as as_of_month_start
    from as_of
    cross join first_days
    group by as_of.as_of_date
)

select * from period
