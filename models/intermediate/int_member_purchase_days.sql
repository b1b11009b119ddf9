{{ config(materialized='view') }}
{#- One row per member and purchase day (kpi-spec §0): the days a known member bought, up to A. -#}
with purchase_days as (
    select * from {{ ref('int_member_purchase_days_all') }}
),

period as (
    select as_of_date from {{ ref('int_reporting_period') }}
),

purchase_days_to_as_of as (
    select
        purchase_days.member_id,
        purchase_days.purchase_date,
        purchase_days.orders,
        purchase_days.purchase_amount
    from purchase_days
    cross join period
    where purchase_days.purchase_date <= period.as_of_date
)

select * from purchase_days_to_as_of
