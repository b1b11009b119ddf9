{#-
    Recency, frequency and monetary value of every member with a purchase day up to A, their 1–5
    quintile scores (ties broken by member_id) and the first matching segment of the rfm_segments seed
    (DECISIONS.md "RFM scores").
-#}
with buyers as (
    select
        summary.member_id,
        cast({{ dbt.datediff('summary.last_purchase_date', 'period.as_of_date', 'day') }} as {{ dbt.type_bigint() }})
            as recency_days,
        summary.lifetime_purchase_days as frequency,
        summary.net_revenue as monetary
    from {{ ref('int_member_purchase_summary') }} as summary
    cross join {{ ref('int_reporting_period') }} as period
    where summary.first_purchase_date is not null
),

scored as (
    select
        member_id,
        recency_days,
        frequency,
        monetary,
        cast(ntile(5) over (order by recency_days desc, member_id) as integer) as r_score,
        cast(ntile(5) over (order by frequency, member_id) as integer) as f_score,
        cast(ntile(5) over (order by monetary, member_id) as integer) as m_score
    from buyers
),

segment_matches as (
    select
        scored.member_id,
        segments.segment,
        row_number() over (partition by scored.member_id order by segments.priority) as match_rank
    from scored
    inner join {{ ref('rfm_segments') }} as segments
        on scored.r_score between segments.r_score_min and segments.r_score_max
        and scored.f_score between segments.f_score_min and segments.f_score_max
),

final as (
    select
        scored.member_id,
        scored.recency_days,
        scored.frequency,
        scored.monetary,
        scored.r_score,
        scored.f_score,
        scored.m_score,
        coalesce(segment_matches.segment, 'other') as rfm_segment
    from scored
    left join segment_matches
        on scored.member_id = segment_matches.member_id
        and segment_matches.match_rank = 1
)

select * from final
