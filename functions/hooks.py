"""Ticketing webhooks: POST /api/hooks/{source} for jira, servicenow and generic callers.

Each payload maps to one action (shared/tickets/payloads.py): configure a connector (same rules and dry run
as PUT /api/connectors/{partner}), run a heartbeat check now, or acknowledge a finding. Every
answer, problems included, carries the caller's ticket reference so the ticket can record the
outcome. Jira deliveries must be signed when JIRA_WEBHOOK_SECRET is set; ServiceNow cannot sign
(no HMAC in outbound REST messages): it authenticates with the function key and, with Entra
authentication on, an OAuth token carrying the MtdGuard.Operator role.
"""

from __future__ import annotations

import logging
import re
from typing import TYPE_CHECKING

import azure.functions as func

from functions.http import Problem, endpoint, json_response
from functions.http.body import read_json
from functions.http.callers import caller_for, refused_response
from functions.http.query import QuerySpec, Text
from functions.replay import idempotent
from shared import settings
from shared.configure.refusal import Refused
from shared.context import services
from shared.principal import Role

if TYPE_CHECKING:
    from shared.tickets.payloads import HookSource

bp = func.Blueprint()
log = logging.getLogger(__name__)
SIGNATURE_HEADER = "X-Hub-Signature"
HOOK_QUERY = QuerySpec(
    "hook_receive",
    (
        Text(
            "action",
            "jira: when the body has none",
            pattern=re.compile("configure|check|acknowledge|ack", re.IGNORECASE),
            example="configure, check or acknowledge",
        ),
    ),
)


def _source(req: func.HttpRequest) -> HookSource:
    from shared.tickets.payloads import HookSource

    raw = req.route_params.get("source", "")
    try:
        return HookSource(raw.lower())
    except ValueError:
        known = ", ".join(s.value for s in HookSource)
        raise Problem(404, "Unknown webhook source", f"No webhook {raw!r}; known sources: {known}.") from None


def _check_signature(req: func.HttpRequest, source: HookSource) -> None:
    from shared.tickets import payloads as hooks

    if source is not hooks.HookSource.JIRA:
        return
    secret = services().settings.jira_webhook_secret
    if not secret:
        if settings.unresolved_reference("JIRA_WEBHOOK_SECRET"):
            log.warning(
                "JIRA_WEBHOOK_SECRET is a Key Vault reference that did not resolve: Jira deliveries "
                "are accepted WITHOUT a signature check until the secret jira-webhook-secret exists"
            )
        return
    header = req.headers.get(SIGNATURE_HEADER)
    if not hooks.signature_valid(secret, req.get_body(), header):
        what = "is missing" if not header else "does not match the body"
        raise Problem(
            401,
            "Invalid signature",
            f"{SIGNATURE_HEADER} {what}: Jira deliveries must be signed with the shared secret "
            "(sha256=<hex HMAC-SHA256 of the raw body>).",
        )


@bp.function_name("hook_receive")
@bp.route(route="hooks/{source}", methods=["POST"])
@endpoint(Role.OPERATOR, HOOK_QUERY)
def hook_receive(req: func.HttpRequest) -> func.HttpResponse:
    """POST /api/hooks/{source} (Operator; source jira, servicenow or generic): configure a connector,
    run a heartbeat check or acknowledge a finding, as the payload asks; answers HookReply.
    Honours Idempotency-Key, else X-Atlassian-Webhook-Identifier.

    404 ``Unknown webhook source``; 401 ``Invalid signature`` for a Jira delivery whose
    X-Hub-Signature is missing or wrong while JIRA_WEBHOOK_SECRET is set (checked before anything
    is read or written); 400 invalid JSON, query parameter or payload (a pointer per field); 413
    body too large; otherwise the action's own refusals, as on PUT /api/connectors/{partner} and
    POST /api/findings/{id}/ack. Problems raised once the payload is read carry ``ticket`` and
    ``source``.
    """
    source = _source(req)
    _check_signature(req, source)  # before anything is claimed, read or written
    return idempotent(req, f"hooks/{source.value}", lambda: _handle(req, source))


def _handle(req: func.HttpRequest, source: HookSource) -> func.HttpResponse:
    from functions import views
    from shared.configure.apply import configure
    from shared.configure.fields import InvalidSettings
    from shared.tickets import payloads as hooks
    from shared.tickets.actions import acknowledge_finding, run_check

    payload = read_json(req)
    ticket = hooks.ticket_of(source, payload)
    try:
        action: str | None = HOOK_QUERY.parse(req)["action"]
    except Problem as problem:
        problem.extra.update(ticket=ticket, source=source.value)  # every answer names the ticket
        raise
    try:
        hook = hooks.parse(source, payload, action)
    except InvalidSettings as exc:
        errors = [{"pointer": e.pointer, "detail": e.detail} for e in exc.errors]
        detail = "The webhook payload is not valid: " + "; ".join(
            f"{e.pointer or '/'} {e.detail}" for e in exc.errors
        )
        raise Problem(
            400, "Invalid webhook payload", detail, errors=errors, ticket=ticket, source=source.value
        ) from None
    caller = caller_for(req, source.value, ticket, anonymous=f"{source.value} webhook")
    s = services()
    result: views.HookResult
    try:
        if hook.action == "configure":
            assert hook.partner is not None
            outcome = configure(
                s,
                hook.partner,
                hook.settings,
                dry_run=hook.dry_run,
                caller=caller,
                tenant_id=s.settings.tenant_id,
                pointer_base="/settings",
            )
            result = views.configure_result(outcome, ticket)
        elif hook.action == "check":
            result = views.sweep(run_check(s, caller, tenant_id=s.settings.tenant_id))
        else:
            assert hook.finding_id is not None
            result = views.finding(
                acknowledge_finding(s, hook.finding_id, hook.note, caller, tenant_id=s.settings.tenant_id)
            )
    except Refused as refused:
        return refused_response(req, refused, ticket=ticket, source=source.value)
    return json_response(views.hook_reply(source, ticket, hook.action, result))
