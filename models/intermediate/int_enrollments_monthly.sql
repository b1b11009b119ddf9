{#- New enrolments and cancellations per month (kpi-spec §2), days up to A. -#}
with months as (
    select month_start from {{ ref('int_months') }}
),

members as (
    select * from {{ ref('stg_loyalty__members') }}
),

period as (
    select as_of_date from {{ ref('int_reporting_period') }}
),

enrollments as (
    select {{ month_start('enrolled_on') }} as month_start, cast(count(*) as {{ dbt.type_bigint() }}) as new_enrollments
    from members
    cross join period
    where enrolled_on <= period.as_of_date
    group by {{ month_start('enrolled_on') }}
),

cancellations as (
    select {{ month_start('cancelled_on') }} as month_start, cast(count(*) as {{ dbt.type_bigint() }}) as cancellations
    from members
    cross join period
    where cancelled_on <= period.as_of_date
    group by {{ month_start('cancelled_on') }}
),

final as (
    select
        months.month_start,
        coalesce(enrollments.new_enrollments, 0) as new_enrollments,
        coalesce(cancellations.cancellations, 0) as cancellations
    from months
    left join enrollments on months.month_start = enrollments.month_start
    left join cancellations on months.month_start = cancellations.month_start
)

select * from final
