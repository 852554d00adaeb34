"""What every timer trigger shares: a time budget per run (``timer_job``); a misconfigured app logs
one clear line per problem, no traceback, and the run ends there (HTTP routes answer 503
problem+json instead, see http/endpoint.py); a successful run is recorded and logged."""

from __future__ import annotations

import functools
import logging
from collections.abc import Callable
from typing import TYPE_CHECKING

import azure.functions as func

from shared import deadline, job_runs, settings, startup
from shared.clock import now_utc
from shared.context import services
from shared.settings import SettingsError
from shared.store.errors import StoreError

if TYPE_CHECKING:
    from shared.context import Services

log = logging.getLogger(__name__)
Timer = Callable[[func.TimerRequest], None]

SUCCESS_LOG = "MTD Guard job succeeded: %s"
"""The line every successful timer run logs (``%s``: the job, e.g. ``heartbeat``). The watchdog
alert rule of infra/modules/watchdog.bicep searches the app's Application Insights traces for it:
change both together."""


def timer_job(run: Timer) -> Timer:
    """Run a timer function inside its time budget (TIMER_BUDGET_SECONDS, shared/deadline.py): every
    Graph, storage and channel call below ends by then, as the transient failure of its adapter
    (GraphError, StoreError, DeliveryError); the next run picks up what is left."""

    @functools.wraps(run)
    def wrapped(timer: func.TimerRequest) -> None:
        with startup.first_invocation(), deadline.budget(settings.time_budget(settings.TIMER_BUDGET_SECONDS)):
            run(timer)

    return wrapped


def configured_services() -> Services | None:
    """The process's Services; None, after logging one error line per settings problem, when the
    settings are invalid (the timer then ends its run without a traceback).
    """
    try:
        return services()
    except SettingsError as exc:
        for problem in exc.problems:
            log.error("MTD Guard is misconfigured: %s", problem)
        return None


def succeeded(s: Services, job: job_runs.Job, *, recorded: bool = False) -> None:
    """Log and record that a timer run of ``job`` ended without problems (GET /api/health reports
    it and says ``stale`` when runs stop; the watchdog searches for the line). ``recorded``: the run
    already wrote its success with its own batch (a steady heartbeat sweep), so only the line is
    due. Storage down is logged, never raised: the run itself is done."""
    log.info(SUCCESS_LOG, job.value)
    if recorded:
        return
    try:
        job_runs.record_success(s.store, s.settings.tenant_id, job, now_utc())
    except StoreError as exc:
        log.warning("%s: its success was not recorded: %s", job.value, exc)
