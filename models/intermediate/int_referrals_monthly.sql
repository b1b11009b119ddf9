{#-
    Referrers per month (kpi-spec §2 referral_rate_pct): distinct members named as
    referred_by_member_id by a member whose enrolment day is in [month start, e]. Referrals come from
    members.referred_by_member_id (DECISIONS.md "Referrals"). No rows at all when no member enrolled up to A has a
    referrer (the column is absent or empty): referral_rate_pct is then null, not 0.
-#}
with months as (
    select month_start, period_end from {{ ref('int_months') }}
),

members as (
    select member_id, referred_by_member_id, enrolled_on from {{ ref('stg_loyalty__members') }}
),

period as (
    select as_of_date from {{ ref('int_reporting_period') }}
),

referred as (
    select {{ month_start('members.enrolled_on') }} as month_start, members.enrolled_on, members.referred_by_member_id
    from members
    cross join period
    where members.referred_by_member_id is not null
        and members.enrolled_on <= period.as_of_date
),

referrers as (
    select
        months.month_start,
        cast(count(distinct referred.referred_by_member_id) as {{ dbt.type_bigint() }}) as referrers
    from months
    left join referred
        on months.month_start = referred.month_start
        and referred.enrolled_on <= months.period_end
    where exists (select 1 from referred)
    group by months.month_start
)

select * from referrers
