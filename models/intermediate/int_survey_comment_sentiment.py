"""Sentiment of every survey comment: VADER (vaderSentiment, which ships its lexicon), run by dbt.

One row per survey response with a non-empty comment: `sentiment_score` is VADER's compound score
(-1 … 1) and `comment_sentiment` its authors' reading of it: positive from 0.05, negative up to -0.05,
neutral between. A dbt Python model, so the same `dbt build` (and Dagster's one dbt step) scores new
comments with no extra service; dbt-duckdb runs it in the dbt process. Python models run on DuckDB
only: on PostgreSQL and Spark this model is disabled (dbt_project.yml) and survey_monthly's sentiment
columns are null (macro survey_comment_sentiment). DECISIONS.md "Comment sentiment".
"""

import pandas as pd
from vaderSentiment.vaderSentiment import SentimentIntensityAnalyzer

POSITIVE_FROM, NEGATIVE_UP_TO = 0.05, -0.05


def label(score: float) -> str:
    if score >= POSITIVE_FROM:
        return "positive"
    if score <= NEGATIVE_UP_TO:
        return "negative"
    return "neutral"


def model(dbt, session):
    dbt.config(materialized="table")
    responses = (
        dbt.ref("stg_loyalty__survey_responses")
        .filter("comment is not null")
        .project("response_id, comment")
        .df()
    )
    analyzer = SentimentIntensityAnalyzer()
    scores = [float(analyzer.polarity_scores(text)["compound"]) for text in responses["comment"]]
    return pd.DataFrame(
        {
            "response_id": responses["response_id"].astype("string"),
            "sentiment_score": pd.Series(scores, dtype="float64"),
            "comment_sentiment": pd.Series([label(score) for score in scores], dtype="string"),
        }
    )
