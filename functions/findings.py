"""Findings of every kind (heartbeat, Graph access, Conditional Access drift, alert delivery):
list them with filters and paging, and acknowledge one (no more alerts while it lasts)."""

from __future__ import annotations

import json
from typing import Any

import azure.functions as func

from functions import views
from functions.configure import TICKET_HEADER, caller_for, refused_response
from functions.http import Problem, endpoint, json_response, query_int
from shared.configure.apply import Refused
from shared.context import services
from shared.findings import query as finding_query
from shared.findings.stored import stored_findings
from shared.principal import Role
from shared.tickets.actions import acknowledge_finding

bp = func.Blueprint()
MAX_NOTE = 1000


@bp.function_name("findings_list")
@bp.route(route="findings", methods=["GET"])
@endpoint(Role.READER)
def findings_list(req: func.HttpRequest) -> func.HttpResponse:
    try:
        query = finding_query.FindingQuery.parse(
            req.params.get("kind"), req.params.get("severity"), req.params.get("status")
        )
        limit = query_int(
            req, "limit", default=finding_query.DEFAULT_LIMIT, low=1, high=finding_query.MAX_LIMIT
        )
        s = services()
        found, token = finding_query.page(
            stored_findings(s.store, s.settings.tenant_id).values(),
            query,
            limit=limit,
            token=req.params.get("continuationToken") or None,
        )
    except finding_query.BadQuery as exc:
        raise Problem(400, "Invalid query parameter", str(exc), parameter=exc.parameter) from None
    return json_response(views.finding_page(s.settings.tenant_id, found, token))


def _note(req: func.HttpRequest) -> str | None:
    raw = req.get_body()
    if not raw.strip():
        return None
    try:
        body: Any = json.loads(raw)
    except ValueError:
        raise Problem(400, "Invalid body", 'The body must be JSON: {"note": "..."} (or empty).') from None
    if not isinstance(body, dict) or set(body) - {"note"}:
        raise Problem(400, "Invalid body", "The body takes one optional field: note (text).")
    note = body.get("note")
    if "note" in body and (not isinstance(note, str) or len(note) > MAX_NOTE):
        raise Problem(400, "Invalid body", f"note must be text of at most {MAX_NOTE} characters.")
    return (note.strip() or None) if isinstance(note, str) else None


@bp.function_name("finding_acknowledge")
@bp.route(route="findings/{id}/ack", methods=["POST"])
@endpoint(Role.OPERATOR)
def finding_acknowledge(req: func.HttpRequest) -> func.HttpResponse:
    note = _note(req)
    caller = caller_for(req, "api", req.headers.get(TICKET_HEADER), anonymous="function key caller")
    try:
        s = services()
        updated = acknowledge_finding(
            s, req.route_params.get("id", ""), note, caller, tenant_id=s.settings.tenant_id
        )
    except Refused as refused:
        return refused_response(req, refused)
    return json_response(views.finding(updated))
