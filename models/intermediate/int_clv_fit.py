"""BG/NBD and Gamma-Gamma fitted by maximum likelihood on the calibration summary (kpi-spec §6): one row
per calibration ('as_of', 'holdout'), model and parameter. The work is loyalty_kpi.clv's."""

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
    with logs_as_dbt_events(clv.LOGGER.name, prefix="int_clv_fit: "):
        fit_rows = clv.fit_table(summary, settings)
    return fit_rows
