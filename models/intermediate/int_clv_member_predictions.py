"""Every member of each fitted calibration scored with the fitted parameters (kpi-spec §6): p_alive,
expected purchase days (next clv_horizon_months months; the holdout's weeks for 'holdout'), their
monthly discounted sum and the expected spend per purchase day. The work is loyalty_kpi.clv's."""

from loyalty_kpi import clv
from loyalty_kpi.dbt_events import logs_as_dbt_events


def model(dbt, session):
    settings = clv.ClvSettings.from_config(
        {
            "clv_horizon_months": dbt.config.get("clv_horizon_months"),
            "clv_annual_discount_rate": dbt.config.get("clv_annual_discount_rate"),
            "clv_holdout_weeks": dbt.config.get("clv_holdout_weeks"),
            "clv_min_members": dbt.config.get("clv_min_members"),
        }
    )
    summary = dbt.ref("int_clv_calibration_summary").df()
    fit_rows = dbt.ref("int_clv_fit").df()
    with logs_as_dbt_events(clv.LOGGER.name, prefix="int_clv_member_predictions: "):
        predictions = clv.prediction_table(summary, fit_rows, settings)
    return predictions
