{#-
    Every raw tier-change row, typed, with its verdict (valid / duplicate / quarantined and why): both
    tiers must be tiers of the tiers seed and the member a valid member. Rules: DECISIONS.md "Quarantine".
-#}
with source as (
    select * from {{ erased_source('tier_changes') }} as raw_rows
),

members as (
    select member_id from {{ ref('stg_loyalty__members') }}
),

tiers as (
    select tier from {{ ref('tiers') }}
),

parsed as (
    select
        _delivery as delivery,
        nullif(trim(cast(tier_change_id as {{ dbt.type_string() }})), '') as tier_change_id,
        nullif(trim(cast(member_id as {{ dbt.type_string() }})), '') as member_id,
        lower(trim(cast(from_tier as {{ dbt.type_string() }}))) as from_tier,
        lower(trim(cast(to_tier as {{ dbt.type_string() }}))) as to_tier,
        lower(nullif(trim(cast(reason as {{ dbt.type_string() }})), '')) as reason,
        {{ try_to_utc_timestamp('changed_at') }} as changed_at,
        changed_at is not null as has_changed_at,
        {{ raw_row_hash(source_columns('tier_changes')) }} as row_hash
    from source
),

checked as (
    select
        parsed.*,
        case
            when parsed.tier_change_id is null then 'missing_key'
            when parsed.member_id is null then 'missing_member_id'
            {{ timestamp_problems('parsed.changed_at', 'parsed.has_changed_at') }}
            when to_tiers.tier is null
                or (parsed.from_tier is not null and parsed.from_tier <> '' and from_tiers.tier is null)
                then 'unknown_tier'
            when members.member_id is null then 'unknown_member'
        end as row_problem
    from parsed
    left join members
        on parsed.member_id = members.member_id
    left join tiers as to_tiers
        on parsed.to_tier = to_tiers.tier
    left join tiers as from_tiers
        on parsed.from_tier = from_tiers.tier
),

verdicts as (
    select
        *,
        {{ row_verdict_ranks(['tier_change_id'], 'changed_at desc') }}
    from checked
),

final as (
    select
        tier_change_id,
        member_id,
        nullif(from_tier, '') as from_tier,
        to_tier,
        reason,
        changed_at,
        row_hash,
        delivery,
        {{ row_verdict() }}
    from verdicts
)

select * from final
