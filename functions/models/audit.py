"""The audit trail: GET /api/audit."""

from __future__ import annotations

from typing import Annotated, Any, TypedDict

from msgspec import Meta

from functions.models.common import Time, Token
from shared.audit.entries import AuditAction, Result
from shared.tickets.payloads import HookSource

Via = Annotated[str, Meta(extra_json_schema={"enum": ["api", *(s.value for s in HookSource)]})]


class AuditEntry(TypedDict):
    """One write or refused write: who, through what, on what, and how it ended."""

    id: str
    at: Time
    who: Annotated[
        str, Meta(description='the Entra principal, else "<source> webhook" or "function key caller"')
    ]
    principalId: Annotated[str | None, Meta(description="Entra object id when an Entra principal called")]
    via: Via
    action: AuditAction
    target: Annotated[str, Meta(description='connector id, finding id, or "heartbeat" for a check')]
    targetName: str
    ticket: str | None
    result: Result
    status: Annotated[int, Meta(description="the HTTP status answered")]
    detail: str
    before: dict[str, Any] | None
    after: dict[str, Any] | None
    changes: list[dict[str, Any]]
    idempotencyKey: str | None


class AuditPage(TypedDict):
    """A page of this tenant's audit entries, newest first; continuationToken is null on the last page."""

    tenantId: str
    entries: Annotated[list[AuditEntry], Meta(description="newest first")]
    continuationToken: Token
