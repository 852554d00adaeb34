"""Who is calling, and how a capability's refusal (``Refused``) reads as an HTTP answer."""

from __future__ import annotations

import math
from typing import Any

import azure.functions as func

from functions.http.endpoint import request_path, trusted_principal
from functions.http.problems import Problem, problem_response
from shared.audit.entries import Caller
from shared.configure.refusal import Refused

TICKET_HEADER = "X-Ticket-Reference"
KEY_HEADERS = ("Idempotency-Key", "X-Atlassian-Webhook-Identifier")  # first present wins
MAX_TICKET = 200
GRAPH_RETRY_AFTER_SECONDS = 30  # a transient Graph failure whose answer named no wait


def clean_ticket(value: Any, where: str) -> str | None:
    """A ticket reference as given (e.g. OPS-123, CHG0031234), stripped; None when absent or blank.

    400 ``Invalid ticket reference`` naming ``where`` when it is not text of at most 200 printable
    characters.
    """
    if value is None or value == "":
        return None
    if not isinstance(value, str) or len(value) > MAX_TICKET or not value.isprintable():
        raise Problem(
            400,
            "Invalid ticket reference",
            f"{where} must be text of at most {MAX_TICKET} printable characters.",
        )
    return value.strip() or None


def caller_for(req: func.HttpRequest, via: str, ticket: str | None, anonymous: str) -> Caller:
    """Who is calling: the Entra principal Easy Auth vouches for, else ``anonymous``.

    The principal headers are trusted only when the platform says App Service authentication is on
    (``trusted_principal``; it strips client-sent copies); otherwise any holder of a function key
    could put another person's name into the audit trail. ``via`` is the channel (api, jira,
    servicenow, generic); the idempotency key, if any, is kept for the audit trail.
    """
    who = trusted_principal(req)
    key = next((v for h in KEY_HEADERS if (v := req.headers.get(h))), None)
    return Caller(
        who=who.display if who else anonymous,
        via=via,
        principal_id=who.id if who else None,
        ticket=ticket,
        idempotency_key=key,
    )


def refused_response(req: func.HttpRequest, refused: Refused, **extra: Any) -> func.HttpResponse:
    """The problem+json answer of a refusal, with its ``extra`` members and ``Retry-After``."""
    response = problem_response(
        Problem(refused.status, refused.title, refused.detail, refused.kind, **refused.extra, **extra),
        request_path(req),
    )
    wait = retry_after(refused)
    if wait is not None:
        response.headers["Retry-After"] = str(wait)
    return response


def retry_after(refused: Refused) -> int | None:
    """The ``Retry-After`` seconds of a refusal: the longest of its own (``refused.retry_after``)
    and, for a 503 caused by a transient GraphError (429, 503, 504, no answer), the wait Graph asked
    for, else ``GRAPH_RETRY_AFTER_SECONDS``; None when neither applies. Every route shapes its
    refusals here, so a throttled Graph call tells every caller how long Graph asked to wait."""
    from shared.graph.errors import GraphError

    waits = [] if refused.retry_after is None else [refused.retry_after]
    cause = refused.__cause__
    if refused.status == 503 and isinstance(cause, GraphError) and cause.transient:
        asked = cause.retry_after_seconds
        waits.append(GRAPH_RETRY_AFTER_SECONDS if asked is None else math.ceil(asked))
    return max(waits, default=None)
