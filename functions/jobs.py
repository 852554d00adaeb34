"""What every timer trigger shares: a misconfigured app logs one clear line per problem, no
traceback, and the run ends there (HTTP routes answer 503 problem+json instead, see http/endpoint.py)."""

from __future__ import annotations

import logging

from shared import job_runs
from shared.clock import now_utc
from shared.context import Services, services
from shared.settings import SettingsError
from shared.store.state import StoreError

log = logging.getLogger(__name__)


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


def succeeded(s: Services, job: job_runs.Job) -> None:
    """Record that a timer run of ``job`` ended without problems (GET /api/health reports it and
    says ``stale`` when runs stop). Storage down is logged, never raised: the run itself is done."""
    try:
        job_runs.record_success(s.store, s.settings.tenant_id, job, now_utc())
    except StoreError as exc:
        log.warning("%s: its success was not recorded: %s", job.value, exc)
