{#- Survey responses: the valid raw rows (base_loyalty__survey_responses), typed and cleaned, times in UTC. -#}
with valid_responses as (
    select * from {{ ref('base_loyalty__survey_responses') }}
    where row_status = 'valid'
),

renamed as (
    select
        -- ids
        response_id,
        member_id,
        -- scores
        recommend_score,
        repurchase_score,
        upsell_score,
        comment,
        -- time (UTC)
        responded_at,
        cast(responded_at as date) as responded_on
    from valid_responses
)

select * from renamed
