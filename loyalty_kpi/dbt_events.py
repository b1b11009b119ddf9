"""Python log records as dbt events, for code that runs inside a dbt Python model (dbt-duckdb runs them
in dbt's own process): a warning shows in the run's output as a dbt warning, info as a log line."""

from __future__ import annotations

import logging
from collections.abc import Iterator
from contextlib import contextmanager


class DbtEventHandler(logging.Handler):
    """Fires each record as dbt's `JinjaLogWarning` (warning and above) or `JinjaLogInfo` event."""

    def emit(self, record: logging.LogRecord) -> None:
        from dbt.events.types import JinjaLogInfo, JinjaLogWarning
        from dbt_common.events.functions import fire_event

        message = self.format(record)
        if record.levelno >= logging.WARNING:
            fire_event(JinjaLogWarning(msg=message), force_warn_or_error_handling=True)
        else:
            fire_event(JinjaLogInfo(msg=message))


@contextmanager
def logs_as_dbt_events(logger_name: str, prefix: str = "") -> Iterator[None]:
    """Within the block, the records of `logger_name` (info and above) become dbt events."""
    logger = logging.getLogger(logger_name)
    handler = DbtEventHandler()
    handler.setFormatter(logging.Formatter(f"{prefix}%(message)s"))
    previous_level, previous_propagate = logger.level, logger.propagate
    logger.addHandler(handler)
    logger.setLevel(logging.INFO)
    logger.propagate = False  # once is enough: not again through a root handler some library installed
    try:
        yield
    finally:
        logger.removeHandler(handler)
        logger.setLevel(previous_level)
        logger.propagate = previous_propagate
