"""Sensors: a build when raw files land or change; an alert when a run fails."""

import hashlib
import json
from pathlib import Path

from dagster import (
    DefaultSensorStatus,
    RunFailureSensorContext,
    RunRequest,
    SensorDefinition,
    SensorEvaluationContext,
    SkipReason,
    run_failure_sensor,
    sensor,
)

from loyalty_kpi.raw_contract import raw_contract
from orchestration.jobs import loyalty_build_job
from orchestration.resources import AlertSender
from orchestration.settings import Settings


def raw_files_state(raw_dir: Path) -> dict[str, list[int]]:
    """{file name: [modification time ns, size]} of every raw-contract file in raw_dir."""
    state: dict[str, list[int]] = {}
    for table in raw_contract():
        for extension in ("parquet", "csv"):
            path = raw_dir / f"{table.name}.{extension}"
            if path.exists():
                stat = path.stat()
                state[path.name] = [stat.st_mtime_ns, stat.st_size]
    return state


def build_raw_files_sensor(settings: Settings) -> SensorDefinition:
    """Requests a build when a raw file is new or changed since the last evaluation (cursor)."""

    @sensor(
        name="raw_files_changed",
        job=loyalty_build_job,
        minimum_interval_seconds=60,
        default_status=DefaultSensorStatus.STOPPED,
        description=f"Starts loyalty_build when files in {settings.raw_dir} are new or changed.",
    )
    def raw_files_changed(context: SensorEvaluationContext) -> RunRequest | SkipReason:
        state = raw_files_state(settings.raw_dir)
        previous = json.loads(context.cursor) if context.cursor else {}
        if state == previous:
            return SkipReason(f"no new or changed raw file in {settings.raw_dir}")
        changed = sorted(name for name in state if state[name] != previous.get(name))
        removed = sorted(set(previous) - set(state))
        serialized = json.dumps(state, sort_keys=True)
        context.update_cursor(serialized)
        if not state:
            return SkipReason(f"no raw file in {settings.raw_dir}")
        return RunRequest(
            run_key=hashlib.sha256(serialized.encode()).hexdigest()[:16],
            tags={"loyalty/changed_files": ",".join(changed + [f"-{name}" for name in removed])[:200]},
        )

    return raw_files_changed


@run_failure_sensor(name="alert_on_run_failure", default_status=DefaultSensorStatus.RUNNING)
def alert_on_run_failure(context: RunFailureSensorContext, alerts: AlertSender) -> None:
    """Send an alert naming the failed run, its job and the failure."""
    alerts.send(
        f"Dagster run {context.dagster_run.run_id} of {context.dagster_run.job_name} failed",
        {
            "run_id": context.dagster_run.run_id,
            "job": context.dagster_run.job_name,
            "failure": context.failure_event.message,
        },
    )
