"""The audit trail of changes: one entry per write MTD Guard made, refused or tried.

Pure data. Every configure request that got past authentication leaves one entry, whether it
changed Intune (``applied``), found nothing to change (``unchanged``), only previewed
(``dryRun``), was refused before any write (``refused``: invalid body, Intune rule, concurrent
change) or failed at Graph (``failed``). Webhook actions (run a check, acknowledge a finding) are
recorded the same way. Stored as ``AUDIT_ENTRY_ROWS`` (written and read by shared/audit/trail.py);
read through ``GET /api/audit``.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from datetime import datetime
from enum import StrEnum
from typing import Any

from shared.store.codec import bounded
from shared.store.rows import CHANGES_TABLE, RowKind, Write, inverted_ticks


class Result(StrEnum):
    """How a write ended, as ``GET /api/audit?result=`` filters it."""

    APPLIED = "applied"  # Intune (or MTD Guard's state) was changed
    UNCHANGED = "unchanged"  # already as desired: nothing was written
    DRY_RUN = "dryRun"  # a preview: nothing was written
    REFUSED = "refused"  # refused before any write (400/409/422)
    FAILED = "failed"  # Graph or storage failed (a write may not have happened)
    PARTIAL = "partial"  # written, but the re-read shows Intune did not keep all of it, or changed more


class AuditAction(StrEnum):
    """What was asked: configure a connector, run a check, acknowledge a finding."""

    CONFIGURE = "configure"
    CHECK = "check"
    ACKNOWLEDGE = "acknowledge"
    BASELINE = "baseline"  # a connector's baseline set (adopted, or accepted with a drift finding)
    RESTORE = "restore"  # a connector's baseline written back (by a person or automatically)
    DELETE = "delete"  # a connector deleted in Intune


MAX_DETAIL = 2_000  # characters of an entry's detail sentence


@dataclass(frozen=True)
class Caller:
    """Who asked, through which door, for which ticket: the "who" of every audit entry."""

    who: str
    via: str  # api | jira | servicenow | generic
    principal_id: str | None = None
    ticket: str | None = None
    idempotency_key: str | None = None


@dataclass(frozen=True)
class AuditEntry:
    """One write MTD Guard made, refused or tried (row kind ``audit``), appended once and never
    changed. ``at`` is UTC; ``before``/``after`` are the connector's settings around a configure,
    as the API shows them, and ``changes`` the fields that differ."""

    id: str
    tenant_id: str
    at: datetime
    who: str  # the Entra principal, else "<source> webhook" / "function key caller"
    via: str  # api | jira | servicenow | generic
    action: AuditAction
    target: str  # connector id, finding id, or "heartbeat" for a check
    target_name: str  # the partner's name, the finding's resource, ...
    result: Result
    status: int  # the HTTP status answered
    detail: str  # one readable sentence: what happened or why not
    ticket: str | None = None
    principal_id: str | None = None  # Entra object id when an Entra principal called
    before: dict[str, Any] | None = None
    after: dict[str, Any] | None = None
    changes: list[dict[str, Any]] = field(default_factory=list)
    idempotency_key: str | None = None

    def __post_init__(self) -> None:
        # The detail of a refusal quotes every bad field: 300 unknown ones must still fit the row
        # (and stay readable in GET /api/audit); the answer to the request lists them all.
        object.__setattr__(self, "detail", bounded(self.detail, MAX_DETAIL))


def entry_by(
    caller: Caller,
    *,
    entry_id: str,
    tenant_id: str,
    at: datetime,
    action: AuditAction,
    target: str,
    target_name: str,
    result: Result,
    status: int,
    detail: str,
    before: dict[str, Any] | None = None,
    after: dict[str, Any] | None = None,
    changes: list[dict[str, Any]] | None = None,
) -> AuditEntry:
    """The audit entry of something ``caller`` asked for: who, door, ticket, principal and
    idempotency key taken from the caller, the rest as given (``at`` in UTC)."""
    return AuditEntry(
        id=entry_id,
        tenant_id=tenant_id,
        at=at,
        who=caller.who,
        via=caller.via,
        action=action,
        target=target,
        target_name=target_name,
        result=result,
        status=status,
        detail=detail,
        ticket=caller.ticket,
        principal_id=caller.principal_id,
        before=before,
        after=after,
        changes=changes or [],
        idempotency_key=caller.idempotency_key,
    )


def audit_key(at: datetime, entry_id: str) -> str:
    """The key of an entry (after ``audit|``): inverted ticks first, so the newest sort first
    and a time window is a RowKey range."""
    return f"{inverted_ticks(at)}|{entry_id}"


AUDIT_ENTRY_ROWS = RowKind(
    AuditEntry,
    "audit",
    key=lambda e: audit_key(e.at, e.id),
    layout=(
        "<inverted ticks>|<entry id>: one audit entry: at, who, via, action, target, result, "
        "HTTP status, detail, ticket, before/after/changes (JSON text), idempotency key; newest first"
    ),
    write=Write.INSERT,
    table=CHANGES_TABLE,
)


@dataclass(frozen=True)
class AuditQuery:
    """Filters of GET /api/audit; each None means "any"."""

    target: str | None = None
    result: Result | None = None
    ticket: str | None = None
    since: datetime | None = None  # inclusive
    until: datetime | None = None  # exclusive
    action: AuditAction | None = None
