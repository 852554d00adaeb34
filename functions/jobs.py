"""What every timer trigger shares: a misconfigured app logs one clear line per problem, no
traceback, and the run ends there (HTTP routes answer 503 problem+json instead, see http/endpoint.py)."""

from __future__ import annotations

import logging

from shared.context import Services, services
from shared.settings import SettingsError

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
