with months as (
    select month_start, is_complete_month from {{ ref('int_months') }}
),

responses as (
    select * from {{ ref('int_survey_responses_scored') }}
),

sentiment as (
    select response_id, sentiment_score, comment_sentiment from {{ survey_comment_sentiment() }} as scores
),

surveyed as (
    select
        (select count(*) from responses) > 0 as has_responses,
        (select count(*) from sentiment) > 0 as has_sentiment
),

scored_responses as (
    select
        responses.month_start,
        responses.nps_group,
        responses.loyalty_index,
        responses.comment,
        sentiment.sentiment_score,
        sentiment.comment_sentiment
    from responses
    left join sentiment
        on responses.response_id = sentiment.response_id
),

monthly_responses as (
    select
        month_start,
        sum(case when nps_group is not null then 1 else 0 end) as responses,
        sum(case when nps_group = 'promoter' then 1 else 0 end) as promoters,
        sum(case when nps_group = 'passive' then 1 else 0 end) as passives,
        sum(case when nps_group = 'detractor' then 1 else 0 end) as detractors,
        count(loyalty_index) as loyalty_index_responses,
        -- means of doubles summed as exact decimals: the same digits whatever order the rows come in
        avg(cast(loyalty_index as decimal(38, 12))) as customer_loyalty_index,
        count(comment) as comments,
        count(comment_sentiment) as scored_comments,
        sum(case when comment_sentiment = 'positive' then 1 else 0 end) as positive_comments,
        sum(case when comment_sentiment = 'neutral' then 1 else 0 end) as neutral_comments,
        sum(case when comment_sentiment = 'negative' then 1 else 0 end) as negative_comments,
        avg(cast(sentiment_score as decimal(38, 12))) as mean_sentiment_score
    from scored_responses
    group by month_start
),

counts as (
    select
        months.month_start,
        months.is_complete_month,
        surveyed.has_responses,
        surveyed.has_sentiment,
        coalesce(monthly_responses.responses, 0) as responses,
        coalesce(monthly_responses.promoters, 0) as promoters,
        coalesce(monthly_responses.passives, 0) as passives,
        coalesce(monthly_responses.detractors, 0) as detractors,
        coalesce(monthly_responses.loyalty_index_responses, 0) as loyalty_index_responses,
        monthly_responses.customer_loyalty_index,
        coalesce(monthly_responses.comments, 0) as comments,
        coalesce(monthly_responses.scored_comments, 0) as scored_comments,
        coalesce(monthly_responses.positive_comments, 0) as positive_comments,
        coalesce(monthly_responses.neutral_comments, 0) as neutral_comments,
        coalesce(monthly_responses.negative_comments, 0) as negative_comments,
        monthly_responses.mean_sentiment_score
    from months
    cross join surveyed
    left join monthly_responses
        on months.month_start = monthly_responses.month_start
),

final as (
    select
        month_start,
        case when has_responses then cast(responses as {{ dbt.type_bigint() }}) end as responses,
        case when has_responses then cast(promoters as {{ dbt.type_bigint() }}) end as promoters,
        case when has_responses then cast(passives as {{ dbt.type_bigint() }}) end as passives,
        case when has_responses then cast(detractors as {{ dbt.type_bigint() }}) end as detractors,
        100 * {{ safe_divide('promoters', 'responses') }} as promoter_share_pct,
        100 * {{ safe_divide('passives', 'responses') }} as passive_share_pct,
        100 * {{ safe_divide('detractors', 'responses') }} as detractor_share_pct,
        100 * {{ safe_divide('promoters - detractors', 'responses') }} as nps,
        case when has_responses
            then cast(loyalty_index_responses as {{ dbt.type_bigint() }}) end as loyalty_index_responses,
        cast(customer_loyalty_index as {{ type_double() }}) as customer_loyalty_index,
        case when has_responses then cast(comments as {{ dbt.type_bigint() }}) end as comments,
        case when has_sentiment then cast(positive_comments as {{ dbt.type_bigint() }}) end as positive_comments,
        case when has_sentiment then cast(neutral_comments as {{ dbt.type_bigint() }}) end as neutral_comments,
        case when has_sentiment then cast(negative_comments as {{ dbt.type_bigint() }}) end as negative_comments,
        100 * {{ safe_divide('positive_comments', 'scored_comments') }} as positive_comment_share_pct,
        100 * {{ safe_divide('neutral_comments', 'scored_comments') }} as neutral_comment_share_pct,
        100 * {{ safe_divide('negative_comments', 'scored_comments') }} as negative_comment_share_pct,
        cast(mean_sentiment_score as {{ type_double() }}) as mean_sentiment_score,
        is_complete_month
    from counts
)

select
    month_start,
    responses,
    promoters,
    passives,
    detractors,
    promoter_share_pct,
    passive_share_pct,
    detractor_share_pct,
    nps,
    loyalty_index_responses,
    customer_loyalty_index,
    comments,
    positive_comments,
    neutral_comments,
    negative_comments,
    positive_comment_share_pct,
    neutral_comment_share_pct,
    negative_comment_share_pct,
    mean_sentiment_score,
    is_complete_month
from final
