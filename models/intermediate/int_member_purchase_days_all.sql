{#-
    One row per known member and purchase day, every day in the data (A is applied by
    int_member_purchase_days). Incremental (DECISIONS.md "Incremental models"): an increment recomputes
    the days of every transaction whose verdict base_loyalty__transactions (re)wrote since this model's
    last run (verdicts_updated_at after the newest verdicts_seen_at here), whatever the verdict, so a
    purchase that turned quarantined leaves its day too; delete+insert on purchase_date replaces those days.
    On Spark (insert_overwrite of purchase_month partitions) the changed days are those of each changed
    month (macro rewritten_period).
-#}
with transactions as (
    select * from {{ ref('stg_loyalty__transactions') }}
),

known_members as (
    select member_id from {{ ref('stg_loyalty__members') }}
),

-- base_loyalty__transactions is read by each CTE that needs it (a CTE read twice is materialized whole
-- on DuckDB)
verdicts_seen as (
    select max(verdicts_updated_at) as verdicts_seen_at from {{ ref('base_loyalty__transactions') }}
),

{% if is_incremental() %}
changed_periods as (
    select distinct {{ rewritten_period('verdicts.transacted_on') }} as changed_period
    from {{ ref('base_loyalty__transactions') }} as verdicts
    where verdicts.transacted_on is not null
        and {{ rewritten_since_last_run('verdicts.verdicts_updated_at', 'verdicts_seen_at') }}
),

member_purchases as (
    select transactions.*
    from transactions
    inner join known_members
        on transactions.member_id = known_members.member_id
    inner join changed_periods
        on {{ rewritten_period('transactions.transacted_on') }} = changed_periods.changed_period
    where transactions.transaction_type = 'purchase'
),
{% else %}
member_purchases as (
    select transactions.*
    from transactions
    inner join known_members
        on transactions.member_id = known_members.member_id
    where transactions.transaction_type = 'purchase'
),
{% endif %}

purchase_days as (
    select
        member_purchases.member_id,
        member_purchases.transacted_on as purchase_date,
        {{ month_start('member_purchases.transacted_on') }} as purchase_month,  -- the partition on Spark
        cast(count(*) as {{ dbt.type_bigint() }}) as orders,
        sum(member_purchases.amount) as purchase_amount,
        max(verdicts_seen.verdicts_seen_at) as verdicts_seen_at
    from member_purchases
    cross join verdicts_seen
    group by member_purchases.member_id, member_purchases.transacted_on
)

select * from purchase_days
