"""Conditional Access drift triggers: the unattended timer, "check now", the classic-policy
baseline import and planned removals."""

from __future__ import annotations

import json
import logging
from typing import Any

import azure.functions as func

from functions import views
from functions.configure import caller_for
from functions.http import Problem, endpoint, json_response
from functions.jobs import configured_services
from shared.conditional_access.classic.inventory import InvalidInventory
from shared.conditional_access.drift import (
    CaDriftResult,
    announce_removal,
    classic_state,
    import_classic_baseline,
    run_ca_drift,
)
from shared.context import services
from shared.principal import Role

bp = func.Blueprint()
log = logging.getLogger(__name__)
MAX_BODY = 1_000_000  # an inventory of 500 policies with details fits comfortably


def _run() -> CaDriftResult:
    s = services()
    return run_ca_drift(s.settings, s.graph, s.store, s.channels)


@bp.function_name("ca_drift_monitor")
@bp.timer_trigger(arg_name="timer", schedule="%CA_DRIFT_SCHEDULE%", run_on_startup=False)
def ca_drift_monitor(timer: func.TimerRequest) -> None:
    if configured_services() is None:
        return
    result = _run()
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
    # 200 even when Graph failed: the check ran and its answer (with problems) is the result.
    return json_response(views.ca_drift(_run()))


def _json_body(req: func.HttpRequest) -> Any:
    raw = req.get_body()
    if len(raw) > MAX_BODY:
        raise Problem(413, "Body too large", f"The body may be at most {MAX_BODY} bytes.")
    try:
        return json.loads(raw)
    except ValueError:
        raise Problem(400, "Invalid body", "The body is not JSON.") from None


def _invalid(exc: InvalidInventory) -> Problem:
    return Problem(
        400,
        "Invalid body",
        f"{len(exc.errors)} problem(s): " + "; ".join(exc.errors),
        errors=[{"pointer": e.split(":", 1)[0], "detail": e.split(":", 1)[-1].strip()} for e in exc.errors],
    )


@bp.function_name("classic_baseline_import")
@bp.route(route="ca/classic-baseline", methods=["PUT"])
@endpoint(Role.OPERATOR)
def classic_baseline_import(req: func.HttpRequest) -> func.HttpResponse:
    body = _json_body(req)
    caller = caller_for(req, "api", None, anonymous="function key caller")
    s = services()
    try:
        result = import_classic_baseline(s.settings, s.store, s.channels, body, who=caller.who)
    except InvalidInventory as exc:
        raise _invalid(exc) from None
    return json_response(views.classic_import(result))


@bp.function_name("classic_baseline_get")
@bp.route(route="ca/classic-baseline", methods=["GET"])
@endpoint(Role.READER)
def classic_baseline_get(req: func.HttpRequest) -> func.HttpResponse:
    s = services()
    state = classic_state(s.settings, s.store)
    imported, cursor = state["import"], state["cursor"]
    return json_response(
        {
            "tenantId": s.settings.tenant_id,
            "source": s.settings.ca.classic_source,
            "policies": [views.classic_policy(p) for p in state["baseline"]],
            "lastImport": None
            if imported is None
            else {
                "importedAt": imported.imported_at,
                "importedBy": imported.imported_by,
                "policies": imported.policies,
                "exportedAt": imported.exported_at,
            },
            "auditLog": {
                "readUpTo": cursor.position if cursor else None,
                "retentionDays": s.settings.ca.audit_retention_days,
            },
            "plannedRemovals": [views.planned_removal(r) for r in state["removals"]],
        }
    )


@bp.function_name("planned_removal_create")
@bp.route(route="ca/planned-removals", methods=["POST"])
@endpoint(Role.OPERATOR)
def planned_removal_create(req: func.HttpRequest) -> func.HttpResponse:
    body = _json_body(req)
    caller = caller_for(req, "api", None, anonymous="function key caller")
    s = services()
    try:
        removal = announce_removal(s.settings, s.store, body, caller.who)
    except InvalidInventory as exc:
        raise _invalid(exc) from None
    return json_response(views.planned_removal(removal), status=201)
