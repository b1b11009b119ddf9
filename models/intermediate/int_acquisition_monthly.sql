{#-
    Acquisition per month and channel (kpi-spec §2): new enrolments, the referred ones among them and
    cancellations by the members' enrollment channel; marketing spend and program-page visitors by
    their channel (the same values). Days up to A. Every month × channel seen in any of the three
    tables. Spend is null when raw marketing_spend has no row up to A (absent), visitors when raw
    program_visits has none: "not measured" rather than 0.
-#}
with months as (
    select month_start from {{ ref('int_months') }}
),

period as (
    select as_of_date from {{ ref('int_reporting_period') }}
),

members as (
    select * from {{ ref('stg_loyalty__members') }}
),

spend as (
    select * from {{ ref('stg_loyalty__marketing_spend') }}
),

visits as (
    select * from {{ ref('stg_loyalty__program_visits') }}
),

channels as (
    select enrollment_channel as channel from members
    union
    select channel from spend
    union
    select channel from visits
),

enrollments as (
    select
        {{ month_start('enrolled_on') }} as month_start,
        enrollment_channel as channel,
        count(*) as new_enrollments,
        sum(case when referred_by_member_id is not null then 1 else 0 end) as referred_enrollments
    from members
    cross join period
    where enrolled_on <= period.as_of_date
    group by {{ month_start('enrolled_on') }}, enrollment_channel
),

cancellations as (
    select
        {{ month_start('cancelled_on') }} as month_start,
        enrollment_channel as channel,
        count(*) as cancellations
    from members
    cross join period
    where cancelled_on <= period.as_of_date
    group by {{ month_start('cancelled_on') }}, enrollment_channel
),

monthly_spend as (
    select {{ month_start('spend_date') }} as month_start, channel, sum(amount) as marketing_spend
    from spend
    cross join period
    where spend_date <= period.as_of_date
    group by {{ month_start('spend_date') }}, channel
),

monthly_visits as (
    select {{ month_start('visit_date') }} as month_start, channel, sum(visitors) as program_visitors
    from visits
    cross join period
    where visit_date <= period.as_of_date
    group by {{ month_start('visit_date') }}, channel
),

measured as (
    select
        (select count(*) from monthly_spend) > 0 as has_spend,
        (select count(*) from monthly_visits) > 0 as has_visits
),

final as (
    select
        months.month_start,
        channels.channel,
        cast(coalesce(enrollments.new_enrollments, 0) as {{ dbt.type_bigint() }}) as new_enrollments,
        cast(coalesce(enrollments.referred_enrollments, 0) as {{ dbt.type_bigint() }}) as referred_enrollments,
        cast(coalesce(cancellations.cancellations, 0) as {{ dbt.type_bigint() }}) as cancellations,
        case when measured.has_spend
            then cast(coalesce(monthly_spend.marketing_spend, 0) as {{ type_money() }}) end as marketing_spend,
        case when measured.has_visits
            then cast(coalesce(monthly_visits.program_visitors, 0) as {{ dbt.type_bigint() }}) end as program_visitors
    from months
    cross join channels
    cross join measured
    left join enrollments
        on months.month_start = enrollments.month_start and channels.channel = enrollments.channel
    left join cancellations
        on months.month_start = cancellations.month_start and channels.channel = cancellations.channel
    left join monthly_spend
        on months.month_start = monthly_spend.month_start and channels.channel = monthly_spend.channel
    left join monthly_visits
        on months.month_start = monthly_visits.month_start and channels.channel = monthly_visits.channel
)

select * from final
