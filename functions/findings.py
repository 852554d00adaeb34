"""Findings of every kind (heartbeat, Graph access, Conditional Access drift, alert delivery):
list them with filters and paging, and acknowledge one (no more alerts while it lasts)."""

from __future__ import annotations

import azure.functions as func

from functions.http import endpoint, json_response
from functions.http.body import read_json
from functions.http.callers import TICKET_HEADER, caller_for, clean_ticket, refused_response
from functions.http.problems import FieldError, invalid, json_pointer
from functions.http.query import Choice, Count, QuerySpec, Token
from shared.configure.refusal import Refused
from shared.context import services
from shared.findings import query as finding_query
from shared.findings.model import FindingKind, FindingStatus, Severity
from shared.principal import Role

bp = func.Blueprint()
MAX_NOTE = 1000

LIST_QUERY = QuerySpec(
    "findings_list",
    (
        Choice("kind", "comma-separated finding kinds", enum=FindingKind, many=True),
        Choice("severity", "comma-separated severities", enum=Severity, many=True),
        Choice("status", "comma-separated statuses", enum=FindingStatus, many=True),
        Count("limit", low=1, high=finding_query.MAX_LIMIT, fallback=finding_query.DEFAULT_LIMIT),
        Token(position=finding_query.as_sort_key),
    ),
)


@bp.function_name("findings_list")
@bp.route(route="findings", methods=["GET"])
@endpoint(Role.READER, LIST_QUERY)
def findings_list(req: func.HttpRequest) -> func.HttpResponse:
    """GET /api/findings (Reader): this tenant's findings, open before acknowledged before resolved,
    then by severity and most recently seen (FindingPage), ``limit`` per page (1-200, default 50).

    kind, severity and status take comma-separated values. 400 ``Invalid query parameter``, with a
    pointer per parameter, for a bad parameter or a continuationToken issued for another route or
    other filters.
    """
    from functions import views
    from shared.findings.stored import stored_findings

    q = LIST_QUERY.parse(req)
    query = finding_query.FindingQuery(
        kinds=q["kind"] or frozenset(),
        severities=q["severity"] or frozenset(),
        statuses=q["status"] or frozenset(),
    )
    s = services()
    found, last = finding_query.page(
        stored_findings(s.store, s.settings.tenant_id).values(), query, limit=q["limit"], after=q.after
    )
    token = q.next_token(list(last)) if last else None
    return json_response(views.finding_page(s.settings.tenant_id, found, token))


def note_body(req: func.HttpRequest, *, accept: bool = False) -> tuple[str | None, bool]:
    """The optional ``{"note": "..."}`` body (with ``accept``: also ``"accept": true|false``), as
    (note, accept): 400 with a pointer per bad field otherwise."""
    if not req.get_body().strip():
        return None, False
    body = read_json(req)
    allowed = ("note", "accept") if accept else ("note",)
    shape = '{"note": "...", "accept": true}' if accept else '{"note": "..."}'
    if not isinstance(body, dict):
        raise invalid(
            "Invalid body", [FieldError("", f"The body must be a JSON object: {shape} (or empty).")]
        )
    errors = [
        FieldError(
            json_pointer(k), f"unknown field {k!r}: the body takes {' and '.join(allowed)}, both optional"
        )
        if accept
        else FieldError(
            json_pointer(k), f"unknown field {k!r}: the body takes one optional field, note (text)"
        )
        for k in body
        if k not in allowed
    ]
    note = body.get("note")
    if "note" in body and (not isinstance(note, str) or len(note) > MAX_NOTE):
        errors.append(FieldError("/note", f"note must be text of at most {MAX_NOTE} characters"))
    accepted = body.get("accept", False)
    if not isinstance(accepted, bool):
        errors.append(FieldError("/accept", "accept must be true or false"))
    if errors:
        raise invalid("Invalid body", errors)
    return ((note.strip() or None) if isinstance(note, str) else None), accepted is True


@bp.function_name("finding_acknowledge")
@bp.route(route="findings/{id}/ack", methods=["POST"])
@endpoint(Role.OPERATOR)
def finding_acknowledge(req: func.HttpRequest) -> func.HttpResponse:
    """POST /api/findings/{id}/ack (Operator): acknowledge a finding (no alerts about it while it
    lasts), with an optional ``{"note": "...", "accept": true}`` body (note: at most 1000
    characters); audited. ``accept`` (connectorDrift findings only) adopts the settings the last
    sweep saw as the connector's baseline and resolves the finding. Answers the updated Finding.

    400 ``Invalid JSON`` or ``Invalid body`` (a pointer per bad field), or any query parameter; 404
    no such finding; 409 already resolved; 413 for a body above 1,000,000 bytes; 422 accept on a
    finding that is not connectorDrift.
    """
    from functions import views
    from shared.configure.manage import accept_drift
    from shared.tickets.actions import acknowledge_finding

    note, accept = note_body(req, accept=True)
    ticket = clean_ticket(req.headers.get(TICKET_HEADER), TICKET_HEADER)
    caller = caller_for(req, "api", ticket, anonymous="function key caller")
    try:
        s = services()
        act = accept_drift if accept else acknowledge_finding
        updated = act(s, req.route_params.get("id", ""), note, caller, tenant_id=s.settings.tenant_id)
    except Refused as refused:
        return refused_response(req, refused)
    return json_response(views.finding(updated))
