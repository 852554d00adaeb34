"""Heartbeat monitoring triggers: the unattended timer and the "check now" HTTP call."""

from __future__ import annotations

import logging
from typing import TYPE_CHECKING

import azure.functions as func

from functions.http import Problem, endpoint, json_response
from functions.jobs import configured_services, succeeded, timer_job
from shared.context import services
from shared.job_runs import Job
from shared.principal import Role

if TYPE_CHECKING:
    from shared.heartbeat.sweep import SweepResult

bp = func.Blueprint()
log = logging.getLogger(__name__)


def _sweep(job: Job | None = None) -> SweepResult:
    from shared.heartbeat.sweep import run_heartbeat_sweep

    s = services()
    return run_heartbeat_sweep(
        s.settings, s.graph, s.store, s.channels, tenant_id=s.settings.tenant_id, job=job
    )


@bp.function_name("heartbeat_monitor")
@bp.timer_trigger(arg_name="timer", schedule="%HEARTBEAT_SCHEDULE%", run_on_startup=False)
@timer_job
def heartbeat_monitor(timer: func.TimerRequest) -> None:
    """Timer (HEARTBEAT_SCHEDULE): run a heartbeat sweep and log the connectors per health and each
    problem; skipped when misconfigured.
    """
    if (s := configured_services()) is None:
        return
    result = _sweep(Job.HEARTBEAT)
    if result.ok:
        succeeded(s, Job.HEARTBEAT, recorded=result.success_recorded)
    if timer.past_due:
        log.info("heartbeat sweep ran late (past due)")
    counts: dict[str, int] = {}
    for status in result.statuses:
        counts[status.health] = counts.get(status.health, 0) + 1
    summary = ", ".join(f"{n} {h}" for h, n in sorted(counts.items())) or "no connectors"
    if result.storage_unavailable:
        summary = "nothing recorded (storage unavailable)"
    log.info(
        "heartbeat sweep of tenant %s: %s; %d alert(s)",
        result.tenant_id,
        summary,
        len(result.alerts),
    )
    for problem in result.problems:
        log.error("heartbeat sweep problem: %s", problem)


@bp.function_name("checks_run")
@bp.route(route="checks/heartbeat", methods=["POST"])
@endpoint(Role.OPERATOR)
def checks_run(req: func.HttpRequest) -> func.HttpResponse:
    """POST /api/checks/heartbeat (Operator): run a heartbeat sweep now; answers SweepResult, 200 even
    when Graph failed (``ok`` false, ``problems`` says why: the failure itself was recorded as a
    finding). 503 problem+json when nothing could be recorded (storage unavailable), as every other
    route answers then: a caller retries later instead of taking a sweep that left no trace for a
    check. 400 for any query parameter.
    """
    from functions import views

    result = _sweep()
    if result.storage_unavailable:
        detail = "the sweep ran but nothing was recorded: " + "; ".join(result.problems)
        raise Problem(503, "Storage unavailable", detail)
    return json_response(views.sweep(result))
