{#- Every (r_score, f_score) pair from 1 to 5 matches at least one rule of the rfm_segments seed. -#}
{{ config(meta={'dagster': {'ref': {'name': 'rfm_segments'}}}) }}
with scores as (
    select n as score from {{ integer_series(6) }} as series where n between 1 and 5
),

pairs as (
    select r.score as r_score, f.score as f_score
    from scores as r
    cross join scores as f
)

select pairs.r_score, pairs.f_score
from pairs
left join {{ ref('rfm_segments') }} as segments
    on pairs.r_score between segments.r_score_min and segments.r_score_max
    and pairs.f_score between segments.f_score_min and segments.f_score_max
where segments.segment is null
