{#-
    No member's points balance is ever negative: the balance at the end of every day with a point
    event (issued − redeemed − expired + adjusted, from the member's first event on) is >= 0. Warn
    only: a ledger extract that starts after a member's first earns looks negative without the
    warehouse being wrong (DECISIONS.md "Point events").
-#}
{{ config(severity='warn', meta={'dagster': {'ref': {'name': 'int_point_events_attributed'}}}) }}
with daily_changes as (
    select member_id, occurred_on, sum(balance_change) as balance_change
    from {{ ref('int_point_events_attributed') }}
    group by member_id, occurred_on
),

daily_balances as (
    select
        member_id,
        occurred_on,
        sum(balance_change) over (
            partition by member_id order by occurred_on rows between unbounded preceding and current row
        ) as balance
    from daily_changes
)

select member_id, occurred_on, balance
from daily_balances
where balance < 0
