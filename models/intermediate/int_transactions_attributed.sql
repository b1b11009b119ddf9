{{ config(materialized='view') }}
{#-
    Every transaction up to A with who made it: `member` (a known member), `non_member` (null
    member_id, a guest) or `unknown_member` (a member_id not in members: excluded from every KPI,
    see DECISIONS.md).
-#}
with transactions as (
    select * from {{ ref('stg_loyalty__transactions') }}
),

known_members as (
    select distinct member_id from {{ ref('stg_loyalty__members') }}
),

period as (
    select as_of_date from {{ ref('int_reporting_period') }}
),

attributed as (
    select
        transactions.transaction_id,
        transactions.member_id,
        case
            when transactions.member_id is null then 'non_member'
            when known_members.member_id is null then 'unknown_member'
            else 'member'
        end as buyer_type,
        transactions.transaction_type,
        transactions.amount,
        transactions.transacted_at,
        transactions.transacted_on,
        {{ month_start('transactions.transacted_on') }} as month_start
    from transactions
    cross join period
    left join known_members
        on transactions.member_id = known_members.member_id
    where transactions.transacted_on <= period.as_of_date
)

select * from attributed
