{#- NPS group shares, and comment sentiment shares, sum to 100 in every month that has them. -#}
{{ config(meta={'dagster': {'ref': {'name': 'survey_monthly'}}}) }}
select
    month_start,
    promoter_share_pct + passive_share_pct + detractor_share_pct as nps_group_share_pct,
    positive_comment_share_pct + neutral_comment_share_pct + negative_comment_share_pct as comment_share_pct
from {{ ref('survey_monthly') }}
where abs(promoter_share_pct + passive_share_pct + detractor_share_pct - 100) > 1e-6
    or abs(positive_comment_share_pct + neutral_comment_share_pct + negative_comment_share_pct - 100) > 1e-6
    or abs(nps - (promoter_share_pct - detractor_share_pct)) > 1e-6
