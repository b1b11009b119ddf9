{#-
    Every raw survey response row, typed, with its verdict (valid / duplicate / quarantined and why).
    Scores: recommend 0-10 (required), repurchase and upsell 1-6 (optional). A response naming a member
    must name a valid member. Rules: DECISIONS.md "Quarantine".
-#}
with source as (
    select * from {{ erased_source('survey_responses') }} as raw_rows
),

members as (
    select member_id from {{ ref('stg_loyalty__members') }}
),

parsed as (
    select
        _delivery as delivery,
        nullif(trim(cast(response_id as {{ dbt.type_string() }})), '') as response_id,
        nullif(trim(cast(member_id as {{ dbt.type_string() }})), '') as member_id,
        {{ try_cast('recommend_score', 'integer') }} as recommend_score,
        {{ try_cast('repurchase_score', 'integer') }} as repurchase_score,
        {{ try_cast('upsell_score', 'integer') }} as upsell_score,
        nullif(trim(cast(recommend_score as {{ dbt.type_string() }})), '') is not null as has_recommend_score,
        nullif(trim(cast(repurchase_score as {{ dbt.type_string() }})), '') is not null as has_repurchase_score,
        nullif(trim(cast(upsell_score as {{ dbt.type_string() }})), '') is not null as has_upsell_score,
        nullif(trim(cast(comment as {{ dbt.type_string() }})), '') as comment,
        {{ try_to_utc_timestamp('responded_at') }} as responded_at,
        responded_at is not null as has_responded_at,
        {{ raw_row_hash(source_columns('survey_responses')) }} as row_hash
    from source
),

checked as (
    select
        parsed.*,
        case
            when parsed.response_id is null then 'missing_key'
            {{ timestamp_problems('parsed.responded_at', 'parsed.has_responded_at') }}
            when not parsed.has_recommend_score then 'missing_score'
            when parsed.recommend_score is null
                or (parsed.has_repurchase_score and parsed.repurchase_score is null)
                or (parsed.has_upsell_score and parsed.upsell_score is null) then 'invalid_score'
            when parsed.recommend_score not between 0 and 10
                or parsed.repurchase_score not between 1 and 6
                or parsed.upsell_score not between 1 and 6 then 'score_out_of_range'
            when parsed.member_id is not null and members.member_id is null then 'unknown_member'
        end as row_problem
    from parsed
    left join members
        on parsed.member_id = members.member_id
),

verdicts as (
    select
        *,
        {{ row_verdict_ranks(['response_id'], 'responded_at desc') }}
    from checked
),

final as (
    select
        response_id,
        member_id,
        recommend_score,
        repurchase_score,
        upsell_score,
        comment,
        responded_at,
        row_hash,
        delivery,
        {{ row_verdict() }}
    from verdicts
)

select * from final
