{#-
    Every tier change of a known member, from one of two histories (DECISIONS.md "Tier history without
    tier_changes"):
    - raw `tier_changes`, when that table has rows: the program's own history;
    - otherwise the `members_snapshot` snapshot of members.tier: a change wherever a member's snapshot
      version holds another tier than the version before it, effective from the run that first saw it.
      That history starts the day the project is first run; before it, a member holds the tier the
      first snapshot saw.
-#}
with members as (
    select member_id from {{ ref('stg_loyalty__members') }}
),

raw_changes as (
    select
        tier_changes.tier_change_id,
        tier_changes.member_id,
        tier_changes.changed_at,
        tier_changes.changed_on,
        tier_changes.from_tier,
        tier_changes.to_tier
    from {{ ref('stg_loyalty__tier_changes') }} as tier_changes
),

snapshot_versions as (
    select
        dbt_scd_id,
        member_id,
        tier,
        dbt_valid_from,
        lag(tier) over (partition by member_id order by dbt_valid_from) as previous_tier
    from {{ members_tier_snapshot() }} as member_versions
),

snapshot_changes as (
    select
        cast(dbt_scd_id as {{ dbt.type_string() }}) as tier_change_id,
        member_id,
        cast(dbt_valid_from as {{ dbt.type_timestamp() }}) as changed_at,
        cast(dbt_valid_from as date) as changed_on,
        previous_tier as from_tier,
        tier as to_tier
    from snapshot_versions
    where previous_tier is not null
        and previous_tier <> tier
),

history as (
    select *, 'tier_changes' as change_source from raw_changes

    union all

    select *, 'members_snapshot' as change_source from snapshot_changes
    where not exists (select 1 from raw_changes)
),

final as (
    select
        history.tier_change_id,
        history.member_id,
        history.changed_at,
        history.changed_on,
        history.from_tier,
        history.to_tier,
        history.change_source
    from history
    inner join members
        on history.member_id = members.member_id
)

select * from final
