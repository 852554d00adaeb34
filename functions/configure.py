"""Configure a connector from the HTTP API: PUT /api/connectors/{partner} (?dryRun=true)."""

from __future__ import annotations

import azure.functions as func

from functions.http import endpoint, json_response
from functions.http.body import read_json
from functions.http.callers import TICKET_HEADER, caller_for, clean_ticket, refused_response
from functions.http.query import Flag, QuerySpec
from functions.replay import idempotent
from shared.configure.refusal import Refused
from shared.context import services
from shared.principal import Role

bp = func.Blueprint()
CONFIGURE_QUERY = QuerySpec(
    "connector_configure", (Flag("dryRun", "true: return the plan and write nothing to Graph"),)
)


@bp.function_name("connector_configure")
@bp.route(route="connectors/{partner}", methods=["PUT"])
@endpoint(Role.OPERATOR, CONFIGURE_QUERY)
def connector_configure(req: func.HttpRequest) -> func.HttpResponse:
    """PUT /api/connectors/{partner} (Operator): bring a connector (catalog slug or connector id) to
    the desired settings of the body (ConnectorSettings); ``?dryRun=true`` answers the plan and
    writes nothing. Answers ConfigureResult; audited; honours Idempotency-Key, and
    X-Ticket-Reference is kept in the audit trail and the answer.

    400 invalid JSON, settings (a pointer per field), ticket reference, idempotency key or query
    parameter; 404 unknown partner; 409 concurrent change (Retry-After), Intune's one-MAM-partner
    rule, or the same key still running; 413 body above 1,000,000 bytes; 422 a setting Intune or
    the partner does not support, or a reused idempotency key; 502/503 when
    Graph failed. Refusals carry ``ticket``.
    """
    from functions import views
    from shared.configure.apply import configure

    def run() -> func.HttpResponse:
        dry_run: bool = CONFIGURE_QUERY.parse(req)["dryRun"]
        ticket = clean_ticket(req.headers.get(TICKET_HEADER), TICKET_HEADER)
        body = read_json(req)
        caller = caller_for(req, "api", ticket, anonymous="function key caller")
        partner = req.route_params.get("partner", "")
        try:
            s = services()
            outcome = configure(
                s, partner, body, dry_run=dry_run, caller=caller, tenant_id=s.settings.tenant_id
            )
        except Refused as refused:
            return refused_response(req, refused, ticket=ticket)
        return json_response(views.configure_result(outcome, ticket))

    return idempotent(req, "api", run)
