"""The daily build schedule (cron and time zone from env vars)."""

from dagster import DefaultScheduleStatus, ScheduleDefinition

from orchestration.jobs import loyalty_build_job
from orchestration.settings import Settings


def build_daily_schedule(settings: Settings) -> ScheduleDefinition:
    """Daily `loyalty_build`; stopped until turned on in the UI, unless LOYALTY_SCHEDULE_RUNNING=true."""
    return ScheduleDefinition(
        name="loyalty_daily_build",
        job=loyalty_build_job,
        cron_schedule=settings.schedule_cron,
        execution_timezone=settings.schedule_timezone,
        default_status=DefaultScheduleStatus.RUNNING
        if settings.schedule_running
        else DefaultScheduleStatus.STOPPED,
        description=f"Full build every day at '{settings.schedule_cron}' ({settings.schedule_timezone}).",
    )
