{{ config(materialized='view') }}
{#-
    Survey responses up to A with what the survey KPIs need per response (kpi-spec §2): the NPS group
    of the recommend score (promoter 9–10, passive 7–8, detractor 0–6) and the customer loyalty index
    (recommend / 10 + (repurchase − 1) / 5 + (upsell − 1) / 5) / 3 × 100 when all three scores are
    there. Scores are on their scales: staging quarantines a response with one off its scale
    (DECISIONS.md "Survey scores and NPS").
-#}
with responses as (
    select * from {{ ref('stg_loyalty__survey_responses') }}
),

period as (
    select as_of_date from {{ ref('int_reporting_period') }}
),

responses_up_to_as_of as (
    select
        responses.response_id,
        responses.member_id,
        responses.responded_on,
        {{ month_start('responses.responded_on') }} as month_start,
        responses.recommend_score,
        responses.repurchase_score,
        responses.upsell_score,
        responses.comment
    from responses
    cross join period
    where responses.responded_on <= period.as_of_date
),

scored as (
    select
        response_id,
        member_id,
        responded_on,
        month_start,
        recommend_score,
        repurchase_score,
        upsell_score,
        case
            when recommend_score >= 9 then 'promoter'
            when recommend_score >= 7 then 'passive'
            when recommend_score >= 0 then 'detractor'
        end as nps_group,
        (
            cast(recommend_score as {{ type_double() }}) / 10
            + cast(repurchase_score - 1 as {{ type_double() }}) / 5
            + cast(upsell_score - 1 as {{ type_double() }}) / 5
        ) / 3 * 100 as loyalty_index,
        comment
    from responses_up_to_as_of
)

select * from scored
