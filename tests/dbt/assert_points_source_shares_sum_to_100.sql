{#- The shares of points earned by source sum to 100 in every month with points earned. -#}
{{ config(meta={'dagster': {'ref': {'name': 'points_earned_by_source_monthly'}}}) }}
select month_start, sum(share_of_points_issued_pct) as total_share_pct
from {{ ref('points_earned_by_source_monthly') }}
group by month_start
having sum(points_issued) > 0
    and abs(sum(share_of_points_issued_pct) - 100) > 1e-6
