{#-
    One row per member and month in which the member is active at the start (day s) or at the end
    (day e) of the month, with the base-flow classification of kpi-spec §1. Member × month at most:
    a member appears only in the months an activity spell touches.
-#}
with months as (
    select * from {{ ref('int_months') }}
),

spells as (
    select * from {{ ref('int_member_activity_spells') }}
),

first_purchases as (
    select member_id, first_purchase_date
    from {{ ref('int_member_purchase_summary') }}
    where first_purchase_date is not null
),

spell_months as (
    select
        months.month_start,
        months.period_end,
        spells.member_id,
        case
            when spells.spell_start_date <= months.day_before_start
                and spells.active_until_date >= months.day_before_start then 1
            else 0
        end as covers_start,
        case
            when spells.spell_start_date <= months.period_end
                and spells.active_until_date >= months.period_end then 1
            else 0
        end as covers_end
    from months
    inner join spells
        on spells.spell_start_date <= months.period_end
        and spells.active_until_date >= months.day_before_start
),

member_months as (
    select
        month_start,
        member_id,
        max(covers_start) = 1 as is_active_at_start,
        max(covers_end) = 1 as is_active_at_end
    from spell_months
    group by month_start, member_id
),

classified as (
    select
        member_months.month_start,
        member_months.member_id,
        first_purchases.first_purchase_date,
        member_months.is_active_at_start,
        member_months.is_active_at_end,
        member_months.is_active_at_end
            and first_purchases.first_purchase_date >= member_months.month_start as is_new_active,
        member_months.is_active_at_end
            and not member_months.is_active_at_start
            and first_purchases.first_purchase_date < member_months.month_start as is_reactivated,
        member_months.is_active_at_start and not member_months.is_active_at_end as is_churned
    from member_months
    inner join first_purchases
        on member_months.member_id = first_purchases.member_id
    where member_months.is_active_at_start or member_months.is_active_at_end
)

select * from classified
