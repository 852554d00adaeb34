"""Configure a connector from the HTTP API: PUT /api/connectors/{partner} (?dryRun=true)."""

from __future__ import annotations

import azure.functions as func

from functions import views
from functions.http import endpoint, json_response
from functions.http.body import read_json
from functions.http.callers import TICKET_HEADER, caller_for, clean_ticket, refused_response
from functions.http.query import Flag, QuerySpec
from functions.replay import idempotent
from shared.configure.apply import Refused, configure
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
