{#- One row per member and purchase day (kpi-spec §0): the days a known member bought, up to A. -#}
with member_purchases as (
    select * from {{ ref('int_transactions_attributed') }}
    where buyer_type = 'member'
        and transaction_type = 'purchase'
),

purchase_days as (
    select
        member_id,
        transacted_on as purchase_date,
        cast(count(*) as {{ dbt.type_bigint() }}) as orders,
        sum(amount) as purchase_amount
    from member_purchases
    group by member_id, transacted_on
)

select * from purchase_days
