{{ config(materialized='view') }}
{#-
    Survey responses up to A with what the survey KPIs need per response (kpi-spec §2): the NPS group
    of the recommend score (promoter 9–10, passive 7–8, detractor 0–6) and the customer loyalty index
    (recommend / 10 + (repurchase − 1) / 5 + (upsell − 1) / 5) / 3 × 100 when all three scores are
    there. A score outside its scale counts as missing (DECISIONS.md "Survey scores").
-#}
with responses as (
    select * from {{ ref('stg_loyalty__survey_responses') }}
),

period as (
    select as_of_date from {{ ref('int_reporting_period') }}
),

valid_scores as (
    select
        responses.response_id,
        responses.member_id,
        responses.responded_on,
        {{ month_start('responses.responded_on') }} as month_start,
        case when responses.recommend_score between 0 and 10 then responses.recommend_score end
            as recommend_score,
        case when responses.repurchase_score between 1 and 6 then responses.repurchase_score end
            as repurchase_score,
        case when responses.upsell_score between 1 and 6 then responses.upsell_score end as upsell_score,
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
    from valid_scores
)

select * from scored
