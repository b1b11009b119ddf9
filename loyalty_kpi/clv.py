"""Predictive CLV (kpi-spec §6): BG/NBD and Gamma-Gamma per member with pymc-marketing.

One pipeline, calibration summary → fit → predictions, used by the dbt Python models on DuckDB
(`int_clv_fit`, `int_clv_member_predictions`) and, through :func:`run`, by any caller that holds the
calibration summary in memory (an orchestration asset for the engines without Python models):

- :func:`fit_table` fits BG/NBD on (x, t_x, T) of every member of a calibration and Gamma-Gamma on
  (x, monetary value) of those with x > 0 and a positive monetary value, by maximum likelihood (flat
  priors, maximum a posteriori) — one row per model parameter and calibration;
- :func:`prediction_table` scores every member of a calibration with the fitted parameters: p_alive,
  expected purchase days over the horizon (the holdout's length for the holdout calibration), their
  discounted sum and the expected spend per purchase day.

The summary is the `int_clv_calibration_summary` model: columns `calibration` ('as_of' | 'holdout'),
`calibration_end`, `member_id`, `frequency`, `recency_weeks`, `t_weeks`, `monetary_value`. Weeks are the
time unit throughout. pymc-marketing is imported on first use (it takes seconds); pytensor's compiled
code is cached under `.cache/pytensor` (LOYALTY_PYTENSOR_CACHE) unless PYTENSOR_FLAGS names a directory,
and one fit or scoring at a time uses that cache (a lock file in it: pytensor's cache is not safe for
processes compiling the same module at once).
"""

from __future__ import annotations

import logging
import os
import sys
import time
import warnings
from collections.abc import Iterator, Mapping
from contextlib import contextmanager
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import numpy as np
import pandas as pd

from loyalty_kpi.locks import exclusive_lock
from loyalty_kpi.paths import PROJECT_DIR

LOGGER = logging.getLogger("loyalty_kpi.clv")

AS_OF = "as_of"
HOLDOUT = "holdout"
BG_NBD = "bg_nbd"
GAMMA_GAMMA = "gamma_gamma"
# Our parameter names (kpi-spec §6) and pymc-marketing's.
BG_NBD_PARAMETERS = {"r": "r", "alpha": "alpha", "a": "a", "b": "b"}
GAMMA_GAMMA_PARAMETERS = {"p": "p", "q": "q", "gamma": "v"}
MARTS_OF = {AS_OF: "clv_model_fit and member_clv_predicted are", HOLDOUT: "clv_holdout_validation is"}
# kpi-spec §6: a month is 365.25 / 12 days, the time unit a week.
WEEKS_PER_MONTH = 365.25 / 12 / 7

# Text columns as pandas' string dtype, so that DuckDB types them VARCHAR even in an empty table.
FIT_COLUMNS = {
    "calibration": "string",
    "calibration_end": "datetime64[ns]",
    "model": "string",
    "parameter": "string",
    "value": "float64",
    "log_likelihood": "float64",
    "n_members": "int64",
}
PREDICTION_COLUMNS = {
    "calibration": "string",
    "member_id": "string",
    "p_alive": "float64",
    "expected_purchases": "float64",
    "discounted_expected_purchases": "float64",
    "expected_average_spend": "float64",
    "in_gamma_gamma_fit": "bool",
}


@dataclass(frozen=True)
class ClvSettings:
    """The dbt vars of kpi-spec §6 and the minimum population of a fit."""

    horizon_months: int = 12
    annual_discount_rate: float = 0.10
    holdout_weeks: int = 26
    min_members: int = 100

    @classmethod
    def from_config(cls, values: Mapping[str, Any]) -> ClvSettings:
        """From the dbt vars (as a dbt Python model's config gives them: maybe strings); a missing or
        empty value keeps the default."""
        defaults = cls()

        def pick(name: str, default: Any, kind: type) -> Any:
            value = values.get(f"clv_{name}")
            return default if value is None or value == "" else kind(value)

        return cls(
            horizon_months=pick("horizon_months", defaults.horizon_months, int),
            annual_discount_rate=pick("annual_discount_rate", defaults.annual_discount_rate, float),
            holdout_weeks=pick("holdout_weeks", defaults.holdout_weeks, int),
            min_members=pick("min_members", defaults.min_members, int),
        )


class ClvFitError(RuntimeError):
    """A maximum-likelihood fit that did not converge, or whose estimates cannot be used."""


@dataclass(frozen=True)
class ModelFit:
    """One fitted model of one calibration."""

    calibration: str
    calibration_end: pd.Timestamp
    model: str
    parameters: dict[str, float]
    log_likelihood: float
    n_members: int
    optimizer_report: str
    seconds: float


# ------------------------------------------------------------------------------------------- pymc setup


def _configure_pytensor() -> None:
    """Cache pytensor's compiled C code in the project (first fit: tens of seconds; then about one)."""
    flags = os.environ.get("PYTENSOR_FLAGS", "")
    if "compiledir" in flags or "pytensor" in sys.modules:
        return
    cache = os.environ.get("LOYALTY_PYTENSOR_CACHE") or str(PROJECT_DIR / ".cache" / "pytensor")
    os.environ["PYTENSOR_FLAGS"] = ",".join(part for part in (flags, f"base_compiledir={cache}") if part)


@contextmanager
def _quiet() -> Iterator[None]:
    """pymc, pytensor and arviz warn about experimental modules and deprecations: not the reader's concern."""
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        yield


def pytensor_lock_path() -> Path:
    """The lock file of the pytensor cache in use (see _pytensor)."""
    _configure_pytensor()
    import pytensor

    return Path(pytensor.config.base_compiledir) / "loyalty_kpi_clv.lock"


@contextmanager
def _pytensor() -> Iterator[None]:
    """pytensor configured and quiet, and this the only CLV fit or scoring on the machine using its cache:
    pytensor's cache is not safe for processes that add the same new compiled module at once (an
    AssertionError in its KeyData.add_key, seen when four fits of the same members started together).
    An exclusive flock (released if the process dies); the fits are CPU-bound, so waiting costs little."""
    with _quiet(), exclusive_lock(pytensor_lock_path()):
        yield


def _flat_config(names: Mapping[str, str]) -> dict[str, Any]:
    from pymc_extras.prior import Prior

    # Flat priors make the maximum a posteriori the maximum-likelihood estimate; pymc-marketing's
    # default BG/NBD priors are informative and move the estimates (kpi-spec §6).
    return {library_name: Prior("HalfFlat") for library_name in names.values()}


def _bg_nbd_frame(summary: pd.DataFrame) -> pd.DataFrame:
    # customer_id = row position: pymc-marketing's predictions come back ordered by customer_id (xarray
    # combines by coordinates), so an increasing integer keeps them in the summary's row order.
    return pd.DataFrame(
        {
            "customer_id": np.arange(len(summary)),
            "frequency": summary["frequency"].to_numpy(dtype="float64"),
            "recency": summary["recency_weeks"].to_numpy(dtype="float64"),
            "T": summary["t_weeks"].to_numpy(dtype="float64"),
        }
    )


def _gamma_gamma_frame(summary: pd.DataFrame) -> pd.DataFrame:
    return pd.DataFrame(
        {
            "customer_id": np.arange(len(summary)),
            "frequency": summary["frequency"].to_numpy(dtype="float64"),
            "monetary_value": summary["monetary_value"].to_numpy(dtype="float64"),
        }
    )


def _maximum_likelihood(
    clv_model: Any, data: pd.DataFrame, names: Mapping[str, str], what: str
) -> tuple[dict[str, float], float, str]:
    """Build the pymc-marketing model on `data` and maximise its log-likelihood (scipy L-BFGS-B through
    `pymc.find_MAP`); fail unless the optimizer reports convergence at finite, positive estimates."""
    import pymc as pm

    clv_model.build_model(data)
    point, raw = pm.find_MAP(model=clv_model.model, return_raw=True, progressbar=False, maxeval=5000)
    estimates = {name: float(np.asarray(point[library_name])) for name, library_name in names.items()}
    report = (
        f"scipy {raw.get('message', '?')!s} (success={raw.get('success')}, iterations={raw.get('nit')}, "
        f"evaluations={raw.get('nfev')}, -log L={raw.get('fun')})"
    )
    usable = all(np.isfinite(value) and value > 0 for value in estimates.values())
    if not raw.get("success") or not np.isfinite(raw.get("fun", np.nan)) or not usable:
        shown = ", ".join(f"{name}={value:.6g}" for name, value in estimates.items())
        raise ClvFitError(
            f"{what}: the maximum-likelihood fit did not converge. Optimizer: {report}. "
            f"Last estimates: {shown}."
        )
    return estimates, -float(raw["fun"]), report


def fit_bg_nbd(summary: pd.DataFrame, what: str = "BG/NBD") -> tuple[dict[str, float], float, str]:
    """BG/NBD (Fader, Hardie & Lee 2005) parameters r, alpha, a, b and the log-likelihood (weeks)."""
    with _pytensor():
        from pymc_marketing.clv import BetaGeoModel

        model = BetaGeoModel(model_config=_flat_config(BG_NBD_PARAMETERS))
        return _maximum_likelihood(model, _bg_nbd_frame(summary), BG_NBD_PARAMETERS, what)


def fit_gamma_gamma(summary: pd.DataFrame, what: str = "Gamma-Gamma") -> tuple[dict[str, float], float, str]:
    """Gamma-Gamma (Fader & Hardie 2013) parameters p, q, gamma and the log-likelihood of the members'
    mean repeat spend; `summary` holds only members with x > 0 and a positive monetary value."""
    with _pytensor():
        from pymc_marketing.clv import GammaGammaModel

        model = GammaGammaModel(model_config=_flat_config(GAMMA_GAMMA_PARAMETERS))
        estimates, log_likelihood, report = _maximum_likelihood(
            model, _gamma_gamma_frame(summary), GAMMA_GAMMA_PARAMETERS, what
        )
    if estimates["q"] <= 1:
        raise ClvFitError(
            f"{what}: q = {estimates['q']:.6g} <= 1, so the mean spend p * gamma / (q - 1) does not exist; "
            f"optimizer: {report}."
        )
    return estimates, log_likelihood, report


# ------------------------------------------------------------------------------------------------ the fit


def gamma_gamma_population(summary: pd.DataFrame) -> pd.Series:
    """Which members of a calibration enter the Gamma-Gamma fit: x > 0 and a positive mean repeat spend."""
    monetary = pd.to_numeric(summary["monetary_value"], errors="coerce")
    return (summary["frequency"] > 0) & (monetary > 0)


def fit_calibration(summary: pd.DataFrame, calibration: str, settings: ClvSettings) -> list[ModelFit]:
    """BG/NBD (and, for the as-of calibration, Gamma-Gamma) on one calibration's members.

    Fewer than `settings.min_members` members → no fit and a warning; members with x > 0 and a mean
    repeat spend <= 0 are left out of Gamma-Gamma (counted in the log).
    """
    # In member order: the log-likelihood is a floating-point sum, so the rows' order (which a parallel
    # scan does not fix) would otherwise move the estimates in their last digits from build to build.
    members = summary[summary["calibration"] == calibration].sort_values("member_id", kind="stable")
    if members.empty:
        LOGGER.warning(
            "CLV %s calibration: no member with a purchase day — no fit, %s empty.",
            calibration,
            MARTS_OF[calibration],
        )
        return []
    calibration_end = pd.Timestamp(members["calibration_end"].iloc[0])
    label = f"CLV {calibration} calibration ending {calibration_end.date()}"
    if len(members) < settings.min_members:
        LOGGER.warning(
            "%s: %d members with a purchase day, fewer than clv_min_members = %d — no fit, %s empty.",
            label,
            len(members),
            settings.min_members,
            MARTS_OF[calibration],
        )
        return []

    fits = []
    started = time.perf_counter()
    parameters, log_likelihood, report = fit_bg_nbd(members, what=f"{label}, model bg_nbd (BG/NBD)")
    fits.append(
        ModelFit(
            calibration,
            calibration_end,
            BG_NBD,
            parameters,
            log_likelihood,
            len(members),
            report,
            time.perf_counter() - started,
        )
    )
    LOGGER.info(
        "%s: bg_nbd on %d members: %s; log L %.4f; %s",
        label,
        len(members),
        _shown(parameters),
        log_likelihood,
        report,
    )
    if calibration != AS_OF:
        return fits

    in_fit = gamma_gamma_population(members)
    repeaters = int((members["frequency"] > 0).sum())
    excluded = repeaters - int(in_fit.sum())
    if excluded:
        LOGGER.info(
            "%s: %d of %d members with a repeat purchase day left out of the Gamma-Gamma fit: mean repeat "
            "spend <= 0.",
            label,
            excluded,
            repeaters,
        )
    if int(in_fit.sum()) < settings.min_members:
        LOGGER.warning(
            "%s: %d members with a positive mean repeat spend, fewer than clv_min_members = %d — no "
            "Gamma-Gamma fit; expected_average_spend and predicted_clv are null.",
            label,
            int(in_fit.sum()),
            settings.min_members,
        )
        return fits
    started = time.perf_counter()
    parameters, log_likelihood, report = fit_gamma_gamma(
        members[in_fit], what=f"{label}, model gamma_gamma (Gamma-Gamma)"
    )
    fits.append(
        ModelFit(
            calibration,
            calibration_end,
            GAMMA_GAMMA,
            parameters,
            log_likelihood,
            int(in_fit.sum()),
            report,
            time.perf_counter() - started,
        )
    )
    LOGGER.info(
        "%s: gamma_gamma on %d members: %s; log L %.4f; %s",
        label,
        int(in_fit.sum()),
        _shown(parameters),
        log_likelihood,
        report,
    )
    return fits


def _shown(parameters: Mapping[str, float]) -> str:
    return ", ".join(f"{name} = {value:.4f}" for name, value in parameters.items())


def fits_to_frame(fits: list[ModelFit]) -> pd.DataFrame:
    """One row per calibration, model and parameter (the `int_clv_fit` table)."""
    rows = [
        {
            "calibration": fit.calibration,
            "calibration_end": fit.calibration_end,
            "model": fit.model,
            "parameter": parameter,
            "value": value,
            "log_likelihood": fit.log_likelihood,
            "n_members": fit.n_members,
        }
        for fit in fits
        for parameter, value in fit.parameters.items()
    ]
    return pd.DataFrame(rows, columns=list(FIT_COLUMNS)).astype(FIT_COLUMNS)


def fit_table(summary: pd.DataFrame, settings: ClvSettings) -> pd.DataFrame:
    """Every calibration of the summary fitted: the as-of one always, the holdout when h > 0."""
    calibrations = [AS_OF] + ([HOLDOUT] if settings.holdout_weeks > 0 else [])
    fits = [fit for calibration in calibrations for fit in fit_calibration(summary, calibration, settings)]
    return fits_to_frame(fits)


# ------------------------------------------------------------------------------------------ predictions


def discounted_purchases(cumulative: np.ndarray, annual_discount_rate: float) -> np.ndarray:
    """sum over i = 1..m of (E_i - E_(i-1)) / (1 + d)^(i/12), per row of `cumulative` (n rows, m columns:
    E_1 ... E_m; E_0 = 0).

    A row-wise sum, not a matrix product: BLAS's result for a row can change in its last digit with the
    row's position in the matrix, so a member's predicted_clv would depend on the other members."""
    cumulative = np.atleast_2d(np.asarray(cumulative, dtype="float64"))
    months = np.arange(1, cumulative.shape[1] + 1)
    increments = np.diff(cumulative, axis=1, prepend=0.0)
    return (increments * (1.0 + annual_discount_rate) ** (-months / 12.0)).sum(axis=1)


def _parameters(fit_rows: pd.DataFrame, calibration: str, model: str) -> dict[str, float] | None:
    rows = fit_rows[(fit_rows["calibration"] == calibration) & (fit_rows["model"] == model)]
    if rows.empty:
        return None
    return {str(row.parameter): float(row.value) for row in rows.itertuples()}


def _with_estimates(clv_model: Any, estimates: Mapping[str, float]) -> Any:
    """Give a pymc-marketing model a one-draw 'posterior' at the estimates, so that its predictive
    methods evaluate the closed forms there (what `fit(method="map")` leaves behind)."""
    import arviz as az

    clv_model.idata = az.from_dict(posterior={name: np.array([[value]]) for name, value in estimates.items()})
    return clv_model


def _draw(values: Any) -> np.ndarray:
    """The single draw of a (chain, draw, customer_id) prediction as a float array."""
    return np.asarray(values, dtype="float64").reshape(-1)


def predict_members(
    members: pd.DataFrame,
    bg_nbd: Mapping[str, float],
    gamma_gamma: Mapping[str, float] | None,
    horizon_weeks: list[float],
    annual_discount_rate: float | None,
) -> pd.DataFrame:
    """p_alive, E(horizon) (the last of `horizon_weeks`), its discounted monthly sum (when a rate is
    given, one horizon point per month) and the expected spend per purchase day, per member."""
    with _pytensor():
        from pymc_marketing.clv import BetaGeoModel, GammaGammaModel

        data = _bg_nbd_frame(members)
        model = BetaGeoModel(model_config=_flat_config(BG_NBD_PARAMETERS))
        model.build_model(data)
        _with_estimates(model, {BG_NBD_PARAMETERS[k]: v for k, v in bg_nbd.items()})
        p_alive = _draw(model.expected_probability_alive(data))
        cumulative = np.column_stack(
            [_draw(model.expected_purchases(data, future_t=float(weeks))) for weeks in horizon_weeks]
        )

        in_gamma_gamma = gamma_gamma_population(members).to_numpy()
        spend = np.full(len(members), np.nan)
        if gamma_gamma is not None:
            p, q, gamma = gamma_gamma["p"], gamma_gamma["q"], gamma_gamma["gamma"]
            spend[:] = p * gamma / (q - 1)  # the population mean: x = 0 or not in the fit
            if in_gamma_gamma.any():
                spend_model = _with_estimates(
                    GammaGammaModel(model_config=_flat_config(GAMMA_GAMMA_PARAMETERS)),
                    {GAMMA_GAMMA_PARAMETERS[k]: v for k, v in gamma_gamma.items()},
                )
                spend[in_gamma_gamma] = _draw(
                    spend_model.expected_customer_spend(_gamma_gamma_frame(members[in_gamma_gamma]))
                )
    return pd.DataFrame(
        {
            "member_id": members["member_id"].to_numpy(),
            "p_alive": p_alive,
            "expected_purchases": cumulative[:, -1],
            "discounted_expected_purchases": (
                discounted_purchases(cumulative, annual_discount_rate)
                if annual_discount_rate is not None
                else np.nan
            ),
            "expected_average_spend": spend,
            "in_gamma_gamma_fit": in_gamma_gamma & (gamma_gamma is not None),
        }
    )


def prediction_table(summary: pd.DataFrame, fit_rows: pd.DataFrame, settings: ClvSettings) -> pd.DataFrame:
    """Every member of every fitted calibration scored (the `int_clv_member_predictions` table).

    As-of calibration: the next `horizon_months` months, discounted monthly. Holdout calibration: the
    holdout's `holdout_weeks` weeks (expected_purchases only, for clv_holdout_validation).
    """
    frames = []
    for calibration in (AS_OF, HOLDOUT):
        bg_nbd = _parameters(fit_rows, calibration, BG_NBD)
        # in member order, as fitted: the same members give the same rows whatever order they were read in
        members = summary[summary["calibration"] == calibration].sort_values("member_id", kind="stable")
        if bg_nbd is None or members.empty:
            continue
        if calibration == AS_OF:
            horizon = [month * WEEKS_PER_MONTH for month in range(1, settings.horizon_months + 1)]
            scored = predict_members(
                members,
                bg_nbd,
                _parameters(fit_rows, AS_OF, GAMMA_GAMMA),
                horizon,
                settings.annual_discount_rate,
            )
        else:
            scored = predict_members(members, bg_nbd, None, [float(settings.holdout_weeks)], None)
        scored.insert(0, "calibration", calibration)
        frames.append(scored)
    if not frames:
        return pd.DataFrame(columns=list(PREDICTION_COLUMNS)).astype(PREDICTION_COLUMNS)
    return pd.concat(frames, ignore_index=True)[list(PREDICTION_COLUMNS)].astype(PREDICTION_COLUMNS)


def run(summary: pd.DataFrame, settings: ClvSettings) -> tuple[pd.DataFrame, pd.DataFrame]:
    """The whole CLV step on a calibration summary: (fit rows, member predictions)."""
    fit_rows = fit_table(summary, settings)
    return fit_rows, prediction_table(summary, fit_rows, settings)
