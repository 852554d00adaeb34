"""How domain objects read as JSON in API answers (camelCase, stable field names).

Each view returns one of the answer shapes in functions/models (a TypedDict: mypy checks every key
and value type against the shape the OpenAPI document is generated from). The answers are plain
dicts of JSON values, datetimes (encoded as ISO 8601 with Z by functions/http.json_response) and
StrEnum members (encoded as their values). The models are imported for type checking only: msgspec,
which they need, stays out of the timer functions' cold start.
"""

from __future__ import annotations

from collections.abc import Iterable, Mapping
from datetime import datetime
from typing import TYPE_CHECKING, Any, Literal, cast

from shared import catalog
from shared.conditional_access.settings import ClassicSource
from shared.configure import drift
from shared.configure import fields as connector_config
from shared.findings import kinds
from shared.heartbeat.health import SEVERITY
from shared.job_runs import Freshness

# Types only: a view is imported by every trigger module, so what it names must not load each
# job's machinery (the sweep, the drift monitor, configure) at function_app import (cold start).
if TYPE_CHECKING:
    from shared.alerting.alerts import Alert
    from shared.alerting.outbox import DeliveryReport
    from shared.audit.entries import AuditAction, AuditEntry
    from shared.conditional_access.classic.matching import ClassicChange
    from shared.conditional_access.classic.rows import ClassicPolicy, PlannedRemoval
    from shared.conditional_access.drift import CaDriftResult, ImportResult
    from shared.configure.apply import Outcome
    from shared.configure.baseline import Baseline
    from shared.configure.manage import Deletion
    from shared.findings.model import Finding
    from shared.heartbeat.health import Health
    from shared.heartbeat.plan import ConnectorStatus, Observation, SweepRecord
    from shared.heartbeat.sweep import SweepResult
    from shared.job_runs import Job
    from shared.tickets.payloads import HookSource

if TYPE_CHECKING:
    from functions import models as m
    from shared.alerting.channels import Channel

    HookResult = m.ConfigureResult | m.SweepResult | m.Finding


def liveness(
    problems: list[str],
    storage_ok: bool | None,
    jobs: Mapping[Job, tuple[datetime | None, Freshness]],
) -> m.Liveness:
    """GET /api/health: settings problems are counted, not listed (the route is anonymous);
    ``storage_ok`` None when storage was not read (misconfigured); each job's last success."""
    shown: dict[str, m.JobHealth] = {
        job.value: {"lastSuccess": last, "status": state} for job, (last, state) in jobs.items()
    }
    status: Literal["ok", "misconfigured", "storageUnavailable", "stale"] = "ok"
    if problems:
        status = "misconfigured"
    elif not storage_ok:
        status = "storageUnavailable"
    elif any(state is Freshness.STALE for _, state in jobs.values()):
        status = "stale"
    return {
        "status": status,
        "configurationProblems": len(problems),
        "storage": "notChecked" if storage_ok is None else "ok" if storage_ok else "unreachable",
        "jobs": shown,
    }


# -- heartbeat --


def _hours(age: float | None) -> float | None:
    return None if age is None else round(age, 2)


def connector(status: ConnectorStatus) -> m.ConnectorStatus:
    """A connector's health from a sweep; heartbeatAgeHours in hours, rounded to 2 decimals."""
    return {
        "id": status.id,
        "partner": status.partner,
        "partnerKnown": status.partner_known,
        "partnerState": status.partner_state,
        "lastHeartbeatDateTime": status.last_heartbeat,
        "thresholdDays": status.threshold_days,
        "thresholdSource": "connector" if status.threshold_from_connector else "default",
        "heartbeatAgeHours": _hours(status.heartbeat_age_hours),
        "health": status.health,
        "severity": SEVERITY[status.health],
        "reason": status.reason,
        "healthSince": status.health_since,
        "checkedAt": status.checked_at,
    }


def connector_view(status: ConnectorStatus, kept: Baseline | None) -> m.ConnectorView:
    """A connector's health with its settings (the PUT body's shape), baseline and drift."""
    return {
        **connector(status),
        "settings": connector_config.as_settings(status.settings),
        "baseline": baseline(kept) if kept else None,
        "drift": [cast("m.DriftChange", c.view()) for c in drift.diff(kept.settings, status.settings)]
        if kept
        else [],
    }


def connector_list(
    tenant_id: str,
    sweep: SweepRecord | None,
    statuses: Iterable[ConnectorStatus],
    baselines: Mapping[str, Baseline],
) -> m.ConnectorList:
    """GET /api/connectors: ``sweep`` is the last stored sweep (None before the first one);
    ``baselines`` by lower-case connector id."""
    return {
        "tenantId": tenant_id,
        "checkedAt": sweep.checked_at if sweep else None,
        "problems": sweep.problems if sweep else [],
        "connectors": [connector_view(c, baselines.get(c.id.lower())) for c in statuses],
    }


def connector_detail(
    status: ConnectorStatus, kept: Baseline | None, history: Iterable[Observation]
) -> m.ConnectorDetail:
    """GET /api/connectors/{partner}: the status, settings, baseline, drift and history, newest first."""
    return {**connector_view(status, kept), "history": [observation(o) for o in history]}


def baseline(b: Baseline) -> m.Baseline:
    """A connector's baseline, its settings in the PUT body's shape."""
    return {
        "connectorId": b.connector_id,
        "partner": catalog.by_id(b.connector_id).name,
        "settings": connector_config.as_settings(b.settings),
        "setBy": b.set_by,
        "setAt": b.set_at,
        "source": b.source,
        "note": b.note,
        "ticket": b.ticket,
    }


def connector_export(
    tenant_id: str, at: datetime, api_version: str, bodies: dict[str, dict[str, Any]]
) -> m.ConnectorExport:
    """GET /api/export: every connector's PUT body, by partner slug."""
    return {"tenantId": tenant_id, "exportedAt": at, "graphApiVersion": api_version, "connectors": bodies}


def connector_deletion(d: Deletion, ticket: str | None) -> m.ConnectorDeletion:
    """DELETE /api/connectors/{partner}: what was (or would be) deleted, for which ticket."""
    return {
        "connectorId": d.connector_id,
        "partner": d.partner,
        "ticket": ticket,
        "dryRun": d.dry_run,
        "deleted": d.deleted,
        "before": d.before,
        "notes": d.notes,
        "auditId": d.audit_id,
    }


def observation(o: Observation) -> m.Observation:
    """One stored reading of a connector (its history), in the same terms as ``connector``."""
    return {
        "checkedAt": o.checked_at,
        "health": cast("Health", o.health),  # stored as its value; passed on as stored, never refused
        "partnerState": o.partner_state,
        "lastHeartbeatDateTime": o.last_heartbeat,
        "heartbeatAgeHours": _hours(o.heartbeat_age_hours),
        "thresholdDays": o.threshold_days,
        "reason": o.reason,
    }


def sweep(result: SweepResult) -> m.SweepResult:
    """POST /api/checks/heartbeat (and the check webhook): connectors sorted by partner name."""
    return {
        "tenantId": result.tenant_id,
        "checkedAt": result.checked_at,
        "ok": result.ok,
        "recorded": result.recorded,
        "problems": result.problems,
        "connectors": [connector(s) for s in sorted(result.statuses, key=lambda s: s.partner.lower())],
        "alertsRaised": [alert(a) for a in result.alerts],
        "delivery": delivery(result.delivery),
    }


# -- alerts --


def alert(a: Alert) -> m.Alert:
    """An alert as webhooks receive it, plus its delivery on each channel (keyed by channel name)."""
    deliveries: dict[str, m.AlertDelivery] = {
        name: {
            "status": d.status,
            "attempts": d.attempts,
            "lastError": d.last_error,
            "deliveredAt": d.delivered_at,
            "nextAttemptAt": d.next_attempt_at,
            "note": d.note,
            "ticket": d.ticket,
            "digestId": d.digest_id,
        }
        for name, d in a.deliveries.items()
    }
    # payload() is what webhook receivers get (shared/alerting/alerts.py): the common fields of
    # m.Alert plus the kind's own details, which the shape leaves open.
    return cast("m.Alert", {**a.payload(), "deliveries": deliveries})


def alert_page(
    tenant_id: str,
    channels: Iterable[Channel],
    counts: dict[str, dict[str, int]],
    alerts: Iterable[Alert],
    token: str | None,
) -> m.AlertPage:
    """GET /api/alerts: ``counts`` is per channel, deliveries by status; ``token`` the next page's."""
    return {
        "tenantId": tenant_id,
        "channels": [cast("m.ChannelRouting", {"name": c.name, **c.rules.describe()}) for c in channels],
        "counts": counts,
        "alerts": [alert(a) for a in alerts],
        "continuationToken": token,
    }


def alert_redelivery(queued: list[str], a: Alert) -> m.AlertRedelivery:
    """POST /api/alerts/{alertId}/redeliver: the channels queued again and the alert as now stored."""
    return {
        "queued": queued,
        "detail": "Queued: the alert goes out on the next outbox run (ALERT_OUTBOX_SCHEDULE) or sweep.",
        "alert": alert(a),
    }


def delivery(report: DeliveryReport) -> m.DeliveryReport:
    """What a run delivered: counts of deliveries, and the errors of those that failed."""
    return {"delivered": report.delivered, "failed": report.failed, "errors": report.errors}


# -- findings, audit, configure, webhooks --


def finding(f: Finding) -> m.Finding:
    """A finding of any kind (GET /api/findings, and the acknowledgement's answer)."""
    return {
        "id": f.id,
        "kind": f.kind,
        "kindTitle": kinds.title_of(f.kind),
        "docs": kinds.docs_of(f.kind),
        "resourceId": f.resource_id,
        "resourceName": f.resource_name,
        "severity": f.severity,
        "status": f.status,
        "message": f.message,
        "remediation": f.remediation,
        "firstSeen": f.first_seen,
        "lastSeen": f.last_seen,
        "resolvedAt": f.resolved_at,
        "note": f.note,
        "acknowledgedBy": f.acknowledged_by,
        "acknowledgedAt": f.acknowledged_at,
    }


def finding_page(tenant_id: str, findings: Iterable[Finding], token: str | None) -> m.FindingPage:
    """GET /api/findings: ``token`` is the next page's, None on the last page."""
    return {"tenantId": tenant_id, "findings": [finding(f) for f in findings], "continuationToken": token}


def audit_entry(e: AuditEntry) -> m.AuditEntry:
    """One audit trail entry; before/after/changes as stored by the write they record."""
    return {
        "id": e.id,
        "at": e.at,
        "who": e.who,
        "principalId": e.principal_id,
        "via": e.via,
        "action": e.action,
        "target": e.target,
        "targetName": e.target_name,
        "ticket": e.ticket,
        "result": e.result,
        "status": e.status,
        "detail": e.detail,
        "before": e.before,
        "after": e.after,
        "changes": e.changes,
        "idempotencyKey": e.idempotency_key,
    }


def audit_page(tenant_id: str, entries: Iterable[AuditEntry], token: str | None) -> m.AuditPage:
    """GET /api/audit, newest first: ``token`` is the next page's, None on the last page."""
    return {"tenantId": tenant_id, "entries": [audit_entry(e) for e in entries], "continuationToken": token}


def configure_result(outcome: Outcome, ticket: str | None) -> m.ConfigureResult:
    """PUT /api/connectors/{partner} (and the configure webhook): the plan or what was applied."""
    return {
        "connectorId": outcome.connector_id,
        "partner": outcome.partner,
        "ticket": ticket,
        "dryRun": outcome.dry_run,
        "applied": outcome.applied,
        "action": outcome.action,
        "before": outcome.before,
        "after": outcome.after,
        # Change.view() is also what the audit trail stores (shared/configure/apply.py).
        "changes": [cast("m.Change", c.view()) for c in outcome.changes],
        "partnerState": outcome.partner_state,
        "lastHeartbeatDateTime": outcome.last_heartbeat,
        "nextSteps": outcome.next_steps,
        "notes": outcome.notes,
        "result": outcome.result,
        "auditId": outcome.audit_id,
    }


def hook_reply(
    source: HookSource, ticket: str | None, action: AuditAction, result: HookResult
) -> m.HookReply:
    """POST /api/hooks/{source}: what was done for which ticket, with the route's own answer."""
    return {"source": source, "ticket": ticket, "action": action, "result": result}


# -- Conditional Access drift --


def classic_policy(p: ClassicPolicy) -> m.ClassicPolicy:
    """A classic CA policy of the baseline."""
    return {
        "key": p.key,
        "policyId": p.policy_id,
        "displayName": p.display_name,
        "state": p.state,
        "partnerId": p.partner_id,
        "partner": p.partner,
        "contentHash": p.content_hash,
        "source": _source(p.source),
        "firstSeen": p.first_seen,
        "updatedAt": p.updated_at,
        "lastChange": p.last_change,
    }


def _source(source: str) -> ClassicSource:
    # the classic rules write only these values, and the settings accept only these
    return ClassicSource(source)


def classic_change(c: ClassicChange) -> m.ClassicChange:
    """A change to a classic policy, from the audit log or an inventory import."""
    return {
        "drift": c.drift,
        "policyId": c.policy_id,
        "displayName": c.display_name,
        "at": c.at,
        "by": c.by,
        "source": _source(c.source),
        "auditEventId": c.event_id,
        "evidence": c.evidence,
    }


def planned_removal(r: PlannedRemoval) -> m.PlannedRemoval:
    """An announced removal; partner is the catalog name of partnerId."""
    return {
        "id": r.id,
        "policyId": r.policy_id,
        "displayName": r.display_name,
        "partnerId": r.partner_id,
        "partner": catalog.by_id(r.partner_id).name if r.partner_id else None,
        "ticket": r.ticket,
        "note": r.note,
        "announcedBy": r.announced_by,
        "announcedAt": r.announced_at,
        "expiresAt": r.expires_at,
        "usedAt": r.used_at,
    }


def ca_drift(result: CaDriftResult) -> m.CaDriftResult:
    """POST /api/checks/ca-drift: the classic and modern halves of the check, and its alerts."""
    audit = result.audit
    return {
        "tenantId": result.tenant_id,
        "checkedAt": result.checked_at,
        "ok": result.ok,
        "recorded": result.recorded,
        "problems": result.problems,
        "classic": {
            "source": _source(result.classic_source),
            "knownPolicies": result.classic_known,
            "auditLog": None
            if audit is None
            else {
                "since": audit.since,
                "until": audit.until,
                "events": audit.events,
                "matched": audit.matched,
                "alreadyProcessed": audit.already_processed,
                "cursor": audit.cursor,
                "complete": audit.complete,
            },
            "changes": [classic_change(c) for c in result.changes],
        },
        "modern": {
            "policies": result.policies,
            "requiringCompliantDevice": result.watched,
            "drifted": result.drifted,
            "coverage": result.coverage,
        },
        "alertsRaised": [alert(a) for a in result.alerts],
        "delivery": delivery(result.delivery),
    }


def classic_import(result: ImportResult) -> m.ClassicImportResult:
    """PUT /api/ca/classic-baseline: the baseline after the import and what changed."""
    return {
        "tenantId": result.tenant_id,
        "importedAt": result.imported_at,
        "firstImport": result.first_import,
        "policies": [classic_policy(p) for p in result.policies],
        "changes": [classic_change(c) for c in result.changes],
        "resolvedFindings": result.resolved,
        "alertsRaised": [alert(a) for a in result.alerts],
        "problems": result.problems,
    }


def classic_baseline(
    tenant_id: str, source: str, retention_days: int, state: Mapping[str, Any]
) -> m.ClassicBaseline:
    """GET /api/ca/classic-baseline, from shared.conditional_access.drift.classic_state()."""
    imported, cursor = state["import"], state["cursor"]
    return {
        "tenantId": tenant_id,
        "source": _source(source),
        "policies": [classic_policy(p) for p in state["baseline"]],
        "lastImport": None
        if imported is None
        else {
            "importedAt": imported.imported_at,
            "importedBy": imported.imported_by,
            "policies": imported.policies,
            "exportedAt": imported.exported_at,
        },
        "auditLog": {"readUpTo": cursor.position if cursor else None, "retentionDays": retention_days},
        "plannedRemovals": [planned_removal(r) for r in state["removals"]],
    }
