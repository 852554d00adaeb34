"""The two non-configure actions a ticket can ask for, each audited like a configure request:
run a heartbeat check now, and acknowledge a finding."""

from __future__ import annotations

import uuid
from datetime import datetime
from typing import TYPE_CHECKING

from shared.audit import trail
from shared.audit.entries import AuditAction, AuditEntry, Caller, Result, entry_by
from shared.clock import now_utc
from shared.configure.refusal import Refused
from shared.findings.model import Finding, FindingClosed, acknowledge
from shared.findings.stored import stored_findings
from shared.heartbeat.sweep import SweepResult, run_heartbeat_sweep

if TYPE_CHECKING:
    from shared.context import Services  # built by the composition root, passed in


def _entry(
    services: Services,
    tenant_id: str,
    caller: Caller,
    action: AuditAction,
    *,
    target: str,
    target_name: str,
    result: Result,
    status: int,
    detail: str,
    now: datetime,
    before: dict[str, object] | None = None,
    after: dict[str, object] | None = None,
) -> AuditEntry:
    return entry_by(
        caller,
        entry_id=str(uuid.uuid4()),
        tenant_id=tenant_id,
        at=now,
        action=action,
        target=target,
        target_name=target_name,
        result=result,
        status=status,
        detail=detail,
        before=before,
        after=after,
    )


def run_check(
    services: Services, caller: Caller, *, tenant_id: str, now: datetime | None = None
) -> SweepResult:
    """The heartbeat sweep of ``tenant_id``, now (the same one the timer runs), with an audit
    entry naming ``caller``. Raises StoreError only if the audit entry cannot be written."""
    now = now or now_utc()
    result = run_heartbeat_sweep(
        services.settings, services.graph, services.store, services.channels, tenant_id=tenant_id, now=now
    )
    unhealthy = sum(1 for s in result.statuses if s.health != "healthy")
    detail = f"heartbeat check of {len(result.statuses)} connector(s): {unhealthy} not healthy"
    if result.problems:
        detail += "; problems: " + "; ".join(result.problems)
    trail.record(
        services.store,
        _entry(
            services,
            tenant_id,
            caller,
            AuditAction.CHECK,
            target="heartbeat",
            target_name="heartbeat check",
            result=Result.APPLIED if result.ok else Result.FAILED,
            status=200,
            detail=detail,
            now=now,
        ),
    )
    return result


def acknowledge_finding(
    services: Services,
    finding_id: str,
    note: str | None,
    caller: Caller,
    *,
    tenant_id: str,
    now: datetime | None = None,
) -> Finding:
    """Mark ``tenant_id``'s finding ``finding_id`` as seen (no more alerts while it lasts), with
    ``note``; audited. Raises Refused 404 (no such finding) or 409 (already resolved)."""
    now = now or now_utc()
    tenant = tenant_id
    found = stored_findings(services.store, tenant).get(finding_id)

    def record(result: Result, status: int, detail: str, **change: dict[str, object]) -> None:
        trail.record(
            services.store,
            _entry(
                services,
                tenant,
                caller,
                AuditAction.ACKNOWLEDGE,
                target=found.id if found else finding_id,
                target_name=found.resource_name if found else finding_id,
                result=result,
                status=status,
                detail=detail,
                now=now,
                **change,
            ),
        )

    if found is None:
        detail = f"No finding {finding_id!r} in tenant {tenant}; GET /api/findings lists them."
        record(Result.REFUSED, 404, detail)
        raise Refused(404, "finding-not-found", "Finding not found", detail)
    try:
        updated = acknowledge(found, note=note, who=caller.who, now=now)
    except FindingClosed as exc:
        record(Result.REFUSED, 409, str(exc))
        raise Refused(409, "finding-resolved", "Finding already resolved", str(exc)) from None
    services.store.commit(tenant, [[updated]])
    record(
        Result.APPLIED,
        200,
        f"acknowledged {found.kind} finding on {found.resource_name}",
        before={"status": found.status.value, "note": found.note},
        after={"status": updated.status.value, "note": updated.note},
    )
    return updated
