"""Conditional Access drift triggers: the unattended timer, "check now", the classic-policy
baseline import and planned removals."""

from __future__ import annotations

import logging
from typing import TYPE_CHECKING

import azure.functions as func

from functions.http import endpoint, json_response
from functions.http.body import read_json
from functions.http.callers import caller_for
from functions.http.problems import FieldError, Problem, invalid
from functions.jobs import configured_services, succeeded, timer_job
from shared.context import services
from shared.job_runs import Job
from shared.principal import Role

if TYPE_CHECKING:
    from shared.conditional_access.classic.inventory import InvalidInventory
    from shared.conditional_access.drift import CaDriftResult

bp = func.Blueprint()
log = logging.getLogger(__name__)


def _run() -> CaDriftResult:
    from shared.conditional_access.drift import run_ca_drift

    s = services()

    return run_ca_drift(s.settings, s.graph, s.store, s.channels, tenant_id=s.settings.tenant_id)


@bp.function_name("ca_drift_monitor")
@bp.timer_trigger(arg_name="timer", schedule="%CA_DRIFT_SCHEDULE%", run_on_startup=False)
@timer_job
def ca_drift_monitor(timer: func.TimerRequest) -> None:
    """Timer (CA_DRIFT_SCHEDULE): run the Conditional Access drift check and log its summary and
    each problem; skipped when misconfigured.
    """
    if (s := configured_services()) is None:
        return
    result = _run()
    if result.ok:
        succeeded(s, Job.CA_DRIFT)
    if timer.past_due:
        log.info("Conditional Access drift check ran late (past due)")
    audit = result.audit
    log.info(
        "CA drift check of tenant %s: %s; %d classic change(s), %d classic policies known, "
        "%s modern policies, %d stopped enforcing, coverage %s; %d alert(s)",
        result.tenant_id,
        f"audit log {audit.events} event(s), {audit.matched} matched" if audit else "audit log not read",
        len(result.changes),
        result.classic_known,
        "unread" if result.policies is None else result.policies,
        len(result.drifted),
        result.coverage or "not checked",
        len(result.alerts),
    )
    for problem in result.problems:
        log.error("CA drift check problem: %s", problem)


@bp.function_name("checks_ca_drift")
@bp.route(route="checks/ca-drift", methods=["POST"])
@endpoint(Role.OPERATOR)
def checks_ca_drift(req: func.HttpRequest) -> func.HttpResponse:
    """POST /api/checks/ca-drift (Operator): run the Conditional Access drift check now; answers
    CaDriftResult, 200 even when Graph failed (``ok`` false, ``problems`` says why). 400 for any
    query parameter.
    """
    from functions import views

    # 200 even when Graph failed: the check ran and its answer (with problems) is the result.
    return json_response(views.ca_drift(_run()))


def _invalid(exc: InvalidInventory) -> Problem:
    return invalid(
        "Invalid body",
        [FieldError(e.pointer, e.detail) for e in exc.errors],
    )


@bp.function_name("classic_baseline_import")
@bp.route(route="ca/classic-baseline", methods=["PUT"])
@endpoint(Role.OPERATOR)
def classic_baseline_import(req: func.HttpRequest) -> func.HttpResponse:
    """PUT /api/ca/classic-baseline (Operator): import the classic CA policy inventory copied from
    the Entra portal (ClassicInventory body): the first import sets the baseline, later ones are
    compared with it. Answers ClassicImportResult.

    400 ``Invalid JSON``, or ``Invalid body`` with a pointer per bad field (nothing written); 400
    for any query parameter; 413 for a body above 1,000,000 bytes.
    """
    from functions import views
    from shared.conditional_access.classic.inventory import InvalidInventory
    from shared.conditional_access.drift import import_classic_baseline

    body = read_json(req)
    caller = caller_for(req, "api", None, anonymous="function key caller")
    s = services()

    try:
        result = import_classic_baseline(
            s.settings, s.store, s.channels, body, tenant_id=s.settings.tenant_id, who=caller.who
        )
    except InvalidInventory as exc:
        raise _invalid(exc) from None
    return json_response(views.classic_import(result))


@bp.function_name("classic_baseline_get")
@bp.route(route="ca/classic-baseline", methods=["GET"])
@endpoint(Role.READER)
def classic_baseline_get(req: func.HttpRequest) -> func.HttpResponse:
    """GET /api/ca/classic-baseline (Reader): the stored classic-policy baseline, last import, audit
    log position and planned removals (ClassicBaseline); no Graph call. 400 for any query parameter.
    """
    from functions import views
    from shared.conditional_access.drift import classic_state

    s = services()

    state = classic_state(s.store, tenant_id=s.settings.tenant_id)
    ca = s.settings.ca
    return json_response(
        views.classic_baseline(s.settings.tenant_id, ca.classic_source, ca.audit_retention_days, state)
    )


@bp.function_name("planned_removal_create")
@bp.route(route="ca/planned-removals", methods=["POST"])
@endpoint(Role.OPERATOR)
def planned_removal_create(req: func.HttpRequest) -> func.HttpResponse:
    """POST /api/ca/planned-removals (Operator): announce that classic policies (by policyId,
    displayName or partner) will be removed within ``expiresInDays`` days (1-90, default 30).
    Answers 201 PlannedRemoval.

    400 ``Invalid JSON``, or ``Invalid body`` with a pointer per bad field; 400 for any query
    parameter; 413 for a body above 1,000,000 bytes.
    """
    from functions import views
    from shared.conditional_access.classic.inventory import InvalidInventory
    from shared.conditional_access.drift import announce_removal

    body = read_json(req)
    caller = caller_for(req, "api", None, anonymous="function key caller")
    s = services()

    try:
        removal = announce_removal(s.store, body, caller.who, tenant_id=s.settings.tenant_id)
    except InvalidInventory as exc:
        raise _invalid(exc) from None
    return json_response(views.planned_removal(removal), status=201)
