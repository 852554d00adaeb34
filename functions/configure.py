"""Configure a connector from the HTTP API: PUT /api/connectors/{partner} (?dryRun=true)."""

from __future__ import annotations

from typing import Any
from urllib.parse import urlsplit

import azure.functions as func

from functions import views
from functions.http import Problem, endpoint, json_response, problem_response
from functions.replay import KEY_HEADERS, body_json, idempotent
from shared import principal, settings
from shared.configure.apply import Caller, Refused, configure
from shared.context import services
from shared.principal import Role

bp = func.Blueprint()
TICKET_HEADER = "X-Ticket-Reference"
_MAX_TICKET = 200


def query_bool(req: func.HttpRequest, name: str) -> bool:
    raw = (req.params.get(name) or "").strip().lower()
    if raw in ("", "false", "0"):
        return False
    if raw in ("true", "1"):
        return True
    raise Problem(400, "Invalid query parameter", f"{name} must be true or false, got {raw!r}")


def clean_ticket(value: Any, where: str) -> str | None:
    """A ticket reference as given (e.g. OPS-123, CHG0031234); 400 when it cannot be one."""
    if value is None or value == "":
        return None
    if not isinstance(value, str) or len(value) > _MAX_TICKET or not value.isprintable():
        raise Problem(
            400,
            "Invalid ticket reference",
            f"{where} must be text of at most {_MAX_TICKET} printable characters.",
        )
    return value.strip() or None


def caller_for(req: func.HttpRequest, via: str, ticket: str | None, anonymous: str) -> Caller:
    """Who is calling: the Entra principal Easy Auth vouches for, else ``anonymous``.

    The principal headers are trusted only when REQUIRE_ENTRA_ROLE is on (it is deployed together
    with App Service authentication, which strips client-sent copies); otherwise any holder of a
    function key could put another person's name into the audit trail.
    """
    who = principal.from_headers(req.headers) if settings.require_entra_role() else None
    key = next((v for h in KEY_HEADERS if (v := req.headers.get(h))), None)
    return Caller(
        who=who.display if who else anonymous,
        via=via,
        principal_id=who.id if who else None,
        ticket=ticket,
        idempotency_key=key,
    )


def refused_response(req: func.HttpRequest, refused: Refused, **extra: Any) -> func.HttpResponse:
    response = problem_response(
        Problem(refused.status, refused.title, refused.detail, refused.kind, **refused.extra, **extra),
        urlsplit(req.url).path,
    )
    if refused.retry_after is not None:
        response.headers["Retry-After"] = str(refused.retry_after)
    return response


@bp.function_name("connector_configure")
@bp.route(route="connectors/{partner}", methods=["PUT"])
@endpoint(Role.OPERATOR)
def connector_configure(req: func.HttpRequest) -> func.HttpResponse:
    def run() -> func.HttpResponse:
        dry_run = query_bool(req, "dryRun")
        ticket = clean_ticket(req.headers.get(TICKET_HEADER), TICKET_HEADER)
        body = body_json(req)
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
