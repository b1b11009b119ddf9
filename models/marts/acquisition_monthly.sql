with months as (
    select month_start, is_complete_month from {{ ref('int_months') }}
),

acquisition as (
    select * from {{ ref('int_acquisition_monthly') }}
),

referral_data as (
    select count(*) > 0 as has_referrals from {{ ref('int_referrals_monthly') }}
),

final as (
    select
        acquisition.month_start,
        acquisition.channel as enrollment_channel,
        acquisition.new_enrollments,
        case when referral_data.has_referrals then acquisition.referred_enrollments end as referred_enrollments,
        case when referral_data.has_referrals
            then 100 * {{ safe_divide('acquisition.referred_enrollments', 'acquisition.new_enrollments') }}
        end as referred_enrollment_share_pct,
        acquisition.cancellations,
        acquisition.program_visitors,
        100 * {{ safe_divide('acquisition.new_enrollments', 'acquisition.program_visitors') }} as enrollment_rate_pct,
        acquisition.marketing_spend,
        {{ safe_divide('acquisition.marketing_spend', 'acquisition.new_enrollments') }} as cac,
        months.is_complete_month
    from acquisition
    inner join months
        on acquisition.month_start = months.month_start
    cross join referral_data
)

select
    month_start,
    enrollment_channel,
    new_enrollments,
    referred_enrollments,
    referred_enrollment_share_pct,
    cancellations,
    program_visitors,
    enrollment_rate_pct,
    marketing_spend,
    cac,
    is_complete_month
from final
