"""The daily prune timer: history and delivered alerts past the retention (shared/heartbeat/retention.py)."""

from __future__ import annotations

import logging

import azure.functions as func

from functions.jobs import configured_services
from shared.clock import now_utc
from shared.store.errors import StoreError

bp = func.Blueprint()
log = logging.getLogger(__name__)


@bp.function_name("prune_history")
@bp.timer_trigger(arg_name="timer", schedule="%PRUNE_SCHEDULE%", run_on_startup=False)
def prune_history(timer: func.TimerRequest) -> None:
    """Timer (PRUNE_SCHEDULE, daily): delete observations and delivered alerts older than
    HISTORY_RETENTION_DAYS; logs how many went, or why it could not (the next run tries again)."""
    from shared.heartbeat.retention import prune

    if (s := configured_services()) is None:
        return

    tenant = s.settings.tenant_id
    try:
        pruned = prune(s.store, tenant, now_utc(), s.settings.history_retention_days)
    except StoreError as exc:
        log.error("prune of tenant %s stopped: %s", tenant, exc)
        return
    log.info(
        "prune of tenant %s: %d observation(s), %d alert(s) past %d days deleted",
        tenant,
        pruned.observations,
        pruned.alerts,
        s.settings.history_retention_days,
    )
