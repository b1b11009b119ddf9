"""Predictive CLV as Dagster metadata: the fitted parameters and log-likelihoods on `marts/clv_model_fit`,
the holdout chart (predicted vs actual purchase days by calibration frequency) on
`marts/clv_holdout_validation`, and the scored base on `marts/member_clv_predicted`."""

import base64
import io
from typing import Any

import duckdb
from dagster import AssetKey, MetadataValue
from matplotlib.figure import Figure

CLV_FIT = AssetKey(["marts", "clv_model_fit"])
CLV_MEMBERS = AssetKey(["marts", "member_clv_predicted"])
CLV_HOLDOUT = AssetKey(["marts", "clv_holdout_validation"])
CLV_ASSETS = frozenset({CLV_FIT, CLV_MEMBERS, CLV_HOLDOUT})
NO_FIT = "no fit: fewer members with a purchase day than var clv_min_members (see the run's warning)"


def _rows(con: duckdb.DuckDBPyConnection, sql: str) -> list[dict[str, Any]]:
    cursor = con.execute(sql)
    names = [column[0] for column in cursor.description]
    return [dict(zip(names, row, strict=True)) for row in cursor.fetchall()]


def fit_metadata(con: duckdb.DuckDBPyConnection) -> dict[str, Any]:
    """`bg_nbd/r` … `gamma_gamma/gamma`, each model's log-likelihood and population, and a table."""
    rows = _rows(
        con,
        "select model, parameter, value, log_likelihood, n_members, calibration_end "
        "from marts.clv_model_fit order by model, parameter",
    )
    if not rows:
        return {"clv_fit": NO_FIT}
    metadata: dict[str, Any] = {"clv_calibration_end": str(rows[0]["calibration_end"])}
    lines = ["| model | parameter | estimate |", "|---|---|---:|"]
    for row in rows:
        metadata[f"{row['model']}/{row['parameter']}"] = MetadataValue.float(float(row["value"]))
        metadata[f"{row['model']}/log_likelihood"] = MetadataValue.float(float(row["log_likelihood"]))
        metadata[f"{row['model']}/n_members"] = MetadataValue.int(int(row["n_members"]))
        lines.append(f"| {row['model']} | {row['parameter']} | {float(row['value']):.4f} |")
    metadata["clv_parameters"] = MetadataValue.md("\n".join(lines))
    return metadata


def members_metadata(con: duckdb.DuckDBPyConnection) -> dict[str, Any]:
    """Members scored, their total predicted CLV and mean p_alive."""
    row = _rows(
        con,
        "select count(*) as members, sum(predicted_clv) as total_predicted_clv, avg(p_alive) as mean_p_alive "
        "from marts.member_clv_predicted",
    )[0]
    if not row["members"]:
        return {"clv_fit": NO_FIT}
    metadata: dict[str, Any] = {
        "members_scored": MetadataValue.int(int(row["members"])),
        "mean_p_alive": MetadataValue.float(float(row["mean_p_alive"])),
    }
    if row["total_predicted_clv"] is not None:
        metadata["total_predicted_clv"] = MetadataValue.float(float(row["total_predicted_clv"]))
    return metadata


def holdout_png(rows: list[dict[str, Any]]) -> str:
    """Mean purchase days in the holdout by calibration frequency, predicted vs actual: a base64 PNG."""
    buckets = [row for row in rows if row["frequency_bucket"] != "all" and row["members"]]
    labels = [row["frequency_bucket"] for row in buckets]
    figure = Figure(figsize=(7, 3.5), dpi=100)  # no pyplot: no global state, no display needed
    axis = figure.subplots()
    axis.plot(
        labels, [row["actual_mean_purchases"] for row in buckets], marker="o", label="Actual", color="#1f77b4"
    )
    axis.plot(
        labels,
        [row["predicted_mean_purchases"] for row in buckets],
        marker="s",
        linestyle="--",
        label="BG/NBD",
        color="#d62728",
    )
    axis.set_xlabel("Purchase days in the calibration period after the first (x)")
    axis.set_ylabel("Mean purchase days in the holdout")
    axis.set_title("Holdout validation: predicted vs actual by calibration frequency")
    axis.grid(alpha=0.3)
    axis.legend(loc="upper left")
    buffer = io.BytesIO()
    figure.savefig(buffer, format="png", bbox_inches="tight")
    return base64.b64encode(buffer.getvalue()).decode()


def holdout_metadata(con: duckdb.DuckDBPyConnection) -> dict[str, Any]:
    """The holdout chart and table, and the holdout fit's parameters."""
    rows = _rows(con, "select * from marts.clv_holdout_validation order by frequency_bucket")
    if not rows:
        return {"clv_holdout": "no holdout fit: clv_holdout_weeks is 0 or too few members (see the log)"}
    lines = ["| x | members | actual | predicted |", "|---|---:|---:|---:|"]
    for row in rows:
        means = [row["actual_mean_purchases"], row["predicted_mean_purchases"]]
        shown = " | ".join("—" if mean is None else f"{mean:.3f}" for mean in means)
        lines.append(f"| {row['frequency_bucket']} | {row['members']:,} | {shown} |")
    metadata: dict[str, Any] = {
        f"holdout_fit/{name}": MetadataValue.float(float(rows[0][name])) for name in ("r", "alpha", "a", "b")
    }
    metadata["holdout_chart"] = MetadataValue.md(
        f"![Holdout: predicted vs actual by frequency](data:image/png;base64,{holdout_png(rows)})"
    )
    metadata["holdout_table"] = MetadataValue.md("\n".join(lines))
    return metadata


def clv_metadata(con: duckdb.DuckDBPyConnection) -> dict[AssetKey, dict[str, Any]]:
    """The metadata of each CLV mart."""
    return {
        CLV_FIT: fit_metadata(con),
        CLV_MEMBERS: members_metadata(con),
        CLV_HOLDOUT: holdout_metadata(con),
    }
