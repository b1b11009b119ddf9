{#- member_clv_predicted has one row per member of the BG/NBD fit (its n_members), and no other. -#}
{{ config(meta={'dagster': {'ref': {'name': 'member_clv_predicted'}}}) }}
with fitted as (
    select max(n_members) as n_members
    from {{ ref('clv_model_fit') }}
    where model = 'bg_nbd'
),

predicted as (
    select count(*) as members, count(distinct member_id) as distinct_members
    from {{ ref('member_clv_predicted') }}
)

select fitted.n_members, predicted.members, predicted.distinct_members
from fitted
cross join predicted
where coalesce(fitted.n_members, 0) <> predicted.members
    or predicted.members <> predicted.distinct_members
