"""I/O entries for a connector beyond configuring it: adopt its baseline, accept its drift, delete
it, export every connector's settings. Each write is audited like a configure request.
"""

from __future__ import annotations

import uuid
from dataclasses import dataclass
from datetime import datetime
from typing import Any

from shared import catalog
from shared.audit import trail
from shared.audit.entries import AuditAction, Caller, Result, entry_by
from shared.clock import now_utc
from shared.configure import fields as connector_config
from shared.configure.apply import (
    OutcomeUnknown,
    Ports,
    acquire_lease,
    in_graph,
    lease_length,
    resolve_connector,
    unknown_refusal,
    write,
)
from shared.configure.baseline import Baseline, BaselineSource
from shared.configure.refusal import Refused
from shared.configure.stored import stored_baseline
from shared.findings.model import Finding, FindingKind, resolve
from shared.findings.stored import stored_findings
from shared.graph.errors import READ_CONNECTORS, WRITE_CONNECTORS, GraphError
from shared.heartbeat.plan import CONNECTOR_STATUS_ROWS, connector_key
from shared.store.changes import ChangeStore
from shared.store.state import StoreConflict


def _audit(
    services: Ports,
    caller: Caller,
    *,
    tenant_id: str,
    now: datetime,
    action: AuditAction,
    connector_id: str,
    result: Result,
    status: int,
    detail: str,
    before: dict[str, Any] | None = None,
    after: dict[str, Any] | None = None,
) -> str:
    entry_id = str(uuid.uuid4())
    trail.record(
        services.store,
        entry_by(
            caller,
            entry_id=entry_id,
            tenant_id=tenant_id,
            at=now,
            action=action,
            target=connector_id,
            target_name=catalog.by_id(connector_id).name,
            result=result,
            status=status,
            detail=detail,
            before=before,
            after=after,
        ),
    )
    return entry_id


def _shape(baseline: Baseline | None) -> dict[str, Any] | None:
    return None if baseline is None else connector_config.as_settings(baseline.settings)


def _graph_refusal(exc: GraphError, needs: Any) -> Refused:
    status = 503 if exc.status is None or exc.status in (429, 500, 502, 503, 504) else 502
    return Refused(status, "graph-failed", "Microsoft Graph failed", exc.describe(needs))


def adopt_baseline(
    services: Ports,
    partner: str,
    *,
    note: str | None,
    caller: Caller,
    tenant_id: str,
    now: datetime | None = None,
) -> Baseline:
    """Take the settings Graph holds now for ``partner`` (slug or connector id) as its baseline,
    with ``note``; audited. Raises Refused 404 (unknown partner, or no such connector in Intune),
    502/503 (Graph failed)."""
    now = now or now_utc()
    connector_id = resolve_connector(partner, in_graph(services.graph))
    try:
        current = services.graph.get_connector(connector_id)
    except GraphError as exc:
        raise _graph_refusal(exc, READ_CONNECTORS) from exc
    if current is None:
        detail = (
            f"Intune has no {catalog.by_id(connector_id).name} connector: there are no settings to adopt."
        )
        _audit(
            services,
            caller,
            tenant_id=tenant_id,
            now=now,
            action=AuditAction.BASELINE,
            connector_id=connector_id,
            result=Result.REFUSED,
            status=404,
            detail=detail,
        )
        raise Refused(404, "connector-not-found", "Connector not found", detail)
    previous = stored_baseline(services.store, tenant_id, connector_id)
    adopted = Baseline(
        tenant_id,
        connector_id,
        connector_config.current_values(current),
        caller.who,
        now,
        BaselineSource.ADOPTED,
        note,
        caller.ticket,
    )
    services.store.commit(tenant_id, [[adopted]])
    _audit(
        services,
        caller,
        tenant_id=tenant_id,
        now=now,
        action=AuditAction.BASELINE,
        connector_id=connector_id,
        result=Result.APPLIED,
        status=200,
        detail=f"baseline of {catalog.by_id(connector_id).name} adopted from the settings Intune holds"
        + (f": {note}" if note else ""),
        before=_shape(previous),
        after=_shape(adopted),
    )
    return adopted


def accept_drift(
    services: Ports,
    finding_id: str,
    note: str | None,
    caller: Caller,
    *,
    tenant_id: str,
    now: datetime | None = None,
) -> Finding:
    """Acknowledge a connectorDrift finding with accept: the settings the last sweep saw become the
    connector's baseline and the finding resolves, in one batch; audited. Raises Refused 404 (no
    such finding), 409 (already resolved, or changed meanwhile), 422 (not a connectorDrift finding,
    or no stored settings to adopt)."""
    now = now or now_utc()
    found = stored_findings(services.store, tenant_id).get(finding_id)
    if found is None:
        raise Refused(
            404,
            "finding-not-found",
            "Finding not found",
            f"No finding {finding_id!r} in tenant {tenant_id}; GET /api/findings lists them.",
        )
    if found.kind != FindingKind.CONNECTOR_DRIFT:
        raise Refused(
            422,
            "accept-not-drift",
            "Only connector drift can be accepted",
            f"accept adopts a connector's settings as its baseline: it applies to connectorDrift "
            f"findings only, and {finding_id} is a {found.kind} finding. Acknowledge it without accept.",
        )
    if not found.is_active:
        raise Refused(
            409,
            "finding-resolved",
            "Finding already resolved",
            f"{finding_id} is resolved: the connector matches its baseline, nothing to accept.",
        )
    connector_id = found.resource_id
    status = services.store.get(CONNECTOR_STATUS_ROWS, tenant_id, connector_key(connector_id))
    if status is None or not status.settings:
        raise Refused(
            422,
            "no-settings",
            "No settings to adopt",
            f"The last sweep stored no settings for {found.resource_name}; run POST "
            "/api/checks/heartbeat, then accept again.",
        )
    previous = stored_baseline(services.store, tenant_id, connector_id)
    adopted = Baseline(
        tenant_id,
        connector_id,
        dict(status.settings),
        caller.who,
        now,
        BaselineSource.ACCEPTED,
        note,
        caller.ticket,
    )
    who = f"accepted as the new baseline by {caller.who}" + (f": {note}" if note else "")
    closed = resolve(found, message=f"{found.resource_name}: {who}", now=now)
    try:
        services.store.commit(tenant_id, [[adopted, closed]])
    except StoreConflict as exc:
        raise Refused(
            409,
            "finding-changed",
            "Finding changed meanwhile",
            "A sweep updated this finding while it was being accepted; read it again and retry.",
        ) from exc
    _audit(
        services,
        caller,
        tenant_id=tenant_id,
        now=now,
        action=AuditAction.BASELINE,
        connector_id=connector_id,
        result=Result.APPLIED,
        status=200,
        detail=f"{found.resource_name}: drift {who}",
        before=_shape(previous),
        after=_shape(adopted),
    )
    return closed


@dataclass(frozen=True)
class Deletion:
    """What DELETE /api/connectors/{partner} did (or would do, dry run)."""

    connector_id: str
    partner: str
    dry_run: bool
    deleted: bool
    before: dict[str, Any]  # the connector's settings before, in the configure body's shape
    audit_id: str
    notes: list[str]


def delete_connector(
    services: Ports,
    partner: str,
    *,
    dry_run: bool,
    caller: Caller,
    tenant_id: str,
    now: datetime | None = None,
) -> Deletion:
    """Delete ``partner``'s connector in Intune (dry run: only say so), under the tenant's configure
    lease; audited. Its baseline is kept, so POST /api/connectors/{partner}/restore can set it up
    again (the recovery Intune documents after a classic CA policy was deleted). Raises Refused
    404 (unknown partner or no such connector), 409 (another change running), 502/503 (Graph)."""
    now = now or now_utc()
    connector_id = resolve_connector(partner, in_graph(services.graph))
    name = catalog.by_id(connector_id).name

    def audit(result: Result, status: int, detail: str, before: dict[str, Any] | None = None) -> str:
        return _audit(
            services,
            caller,
            tenant_id=tenant_id,
            now=now,
            action=AuditAction.DELETE,
            connector_id=connector_id,
            result=result,
            status=status,
            detail=detail,
            before=before,
        )

    changes = ChangeStore(services.store)
    holder = None if dry_run else acquire_lease(changes, tenant_id)
    if not dry_run and holder is None:
        detail = "Another change for this tenant is still being applied; retry in a few seconds."
        audit(Result.REFUSED, 409, detail)
        raise Refused(409, "concurrent-change", "Concurrent change", detail, retry_after=5)
    held_until = now_utc() + lease_length()
    try:
        try:
            current = services.graph.get_connector(connector_id)
            if current is None:
                detail = f"Intune has no {name} connector: nothing to delete."
                audit(Result.REFUSED, 404, detail)
                raise Refused(404, "connector-not-found", "Connector not found", detail)
            before = connector_config.as_settings(connector_config.current_values(current))
            if not dry_run:
                write(lambda: services.graph.delete_connector(connector_id))
        except OutcomeUnknown as unknown:
            # the delete may still land: the lease is kept to its end (see apply.configure)
            refusal, holder = unknown_refusal(unknown.error, connector_id, held_until), None
            audit(Result.FAILED, refusal.status, refusal.detail)
            raise refusal from unknown.error
        except GraphError as exc:
            refusal = _graph_refusal(exc, WRITE_CONNECTORS)
            audit(Result.FAILED, refusal.status, refusal.detail)
            raise refusal from exc
    finally:
        if holder is not None:
            changes.release_lease(tenant_id, holder)
    kept = stored_baseline(services.store, tenant_id, connector_id) is not None
    notes = [
        f"Intune stops using {name}'s risk data for compliance: devices are no longer judged with it.",
        f"its baseline is kept: POST /api/connectors/{catalog.by_id(connector_id).slug}/restore?dryRun=false "
        "creates the connector again with it"
        if kept
        else "it has no baseline to set it up again from",
    ]
    if dry_run:
        audit_id = audit(Result.DRY_RUN, 200, f"dry run: would delete {name}; nothing written", before)
    else:
        audit_id = audit(Result.APPLIED, 200, f"deleted {name}", before)
    return Deletion(connector_id, name, dry_run, not dry_run, before, audit_id, notes)


def export_settings(services: Ports) -> dict[str, dict[str, Any]]:
    """Every connector's settings as the PUT /api/connectors/{partner} body that sets them, keyed
    by the partner's slug (a connector id for a partner not in the catalog); read from Graph now.
    Raises Refused 502/503 when Graph failed."""
    try:
        listed = services.graph.list_connectors()
    except GraphError as exc:
        raise _graph_refusal(exc, READ_CONNECTORS) from exc
    found: dict[str, dict[str, Any]] = {}
    for reading in sorted(listed.readings, key=lambda r: catalog.by_id(r.id).slug):
        values = connector_config.connector_settings(reading.toggles, reading.threshold_days)
        partner = catalog.by_id(reading.id)
        # an alternate id (catalog.Partner.alternate_ids) is exported under itself: the slug would
        # PUT the partner's other id
        key = partner.slug if partner.id.lower() == reading.id.lower() else reading.id
        found[key] = connector_config.as_settings(values)
    return found
