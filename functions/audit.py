"""The audit trail: GET /api/audit, newest first, with filters and opaque continuation tokens."""

from __future__ import annotations

import base64
import binascii
import hashlib
import json
from datetime import UTC, datetime
from typing import Any

import azure.functions as func

from functions import views
from functions.http import Problem, endpoint, json_response, query_int
from shared import catalog
from shared.audit import trail
from shared.audit.entries import AuditAction, AuditQuery, Result
from shared.context import services
from shared.principal import Role

bp = func.Blueprint()
TOKEN_PARAM = "continuationToken"  # noqa: S105 - a query parameter name, not a secret


def _moment(req: func.HttpRequest, name: str) -> datetime | None:
    raw = req.params.get(name)
    if raw is None:
        return None
    try:
        parsed = datetime.fromisoformat(raw.upper().replace("Z", "+00:00"))
    except ValueError:
        raise Problem(
            400, "Invalid query parameter", f"{name} must be an ISO 8601 time such as 2026-01-31T08:00:00Z"
        ) from None
    return (parsed if parsed.tzinfo else parsed.replace(tzinfo=UTC)).astimezone(UTC)


def _choice(req: func.HttpRequest, name: str, enum: type[Result] | type[AuditAction]) -> Any:
    raw = req.params.get(name)
    if raw is None:
        return None
    try:
        return enum(raw)
    except ValueError:
        known = ", ".join(m.value for m in enum)
        raise Problem(400, "Invalid query parameter", f"{name} must be one of {known}, got {raw!r}") from None


def _query(req: func.HttpRequest) -> AuditQuery:
    connector = req.params.get("connector") or None
    return AuditQuery(
        target=catalog.resolve(connector) if connector else None,
        result=_choice(req, "result", Result),
        action=_choice(req, "action", AuditAction),
        ticket=req.params.get("ticket") or None,
        since=_moment(req, "since"),
        until=_moment(req, "until"),
    )


def _filters_hash(query: AuditQuery) -> str:
    return hashlib.sha256(repr(query).encode()).hexdigest()[:16]


def encode_token(after: str, query: AuditQuery) -> str:
    raw = json.dumps({"after": after, "filters": _filters_hash(query)}, separators=(",", ":")).encode()
    return base64.urlsafe_b64encode(raw).decode().rstrip("=")


def decode_token(token: str, query: AuditQuery) -> str:
    try:
        data = json.loads(base64.urlsafe_b64decode(token + "=" * (-len(token) % 4)))
        after = data["after"]
        filters = data["filters"]
    except (binascii.Error, ValueError, KeyError, TypeError):
        raise Problem(
            400, "Invalid continuation token", f"{TOKEN_PARAM} is not one this API handed out."
        ) from None
    if not isinstance(after, str) or not after.startswith("audit|") or filters != _filters_hash(query):
        raise Problem(
            400,
            "Invalid continuation token",
            f"{TOKEN_PARAM} belongs to another query: keep the same filters when paging.",
        )
    return after


@bp.function_name("audit_list")
@bp.route(route="audit", methods=["GET"])
@endpoint(Role.READER)
def audit_list(req: func.HttpRequest) -> func.HttpResponse:
    query = _query(req)
    if req.params.get("limit") == "":
        raise Problem(400, "Invalid query parameter", "limit must be a whole number, got ''")
    limit = query_int(req, "limit", default=50, low=1, high=500)
    token = req.params.get(TOKEN_PARAM)
    after = decode_token(token, query) if token else None
    s = services()
    entries, last = trail.page(s.store, s.settings.tenant_id, query, limit, after)
    token = encode_token(last, query) if last else None
    return json_response(views.audit_page(s.settings.tenant_id, entries, token))
