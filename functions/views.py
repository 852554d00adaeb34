"""How domain objects read as JSON in API answers (camelCase, stable field names)."""

from __future__ import annotations

from typing import Any

from shared import catalog
from shared.alerting.alerts import Alert
from shared.alerting.outbox import DeliveryReport
from shared.conditional_access.classic.matching import ClassicChange
from shared.conditional_access.classic.rows import ClassicPolicy, PlannedRemoval
from shared.conditional_access.drift import CaDriftResult, ImportResult
from shared.findings.model import Finding
from shared.heartbeat.health import SEVERITY
from shared.heartbeat.plan import ConnectorStatus
from shared.heartbeat.sweep import SweepResult
from shared.store.state import Observation


def connector(status: ConnectorStatus) -> dict[str, Any]:
    age = status.heartbeat_age_hours
    return {
        "id": status.id,
        "partner": status.partner,
        "partnerKnown": status.partner_known,
        "partnerState": status.partner_state,
        "lastHeartbeatDateTime": status.last_heartbeat,
        "thresholdDays": status.threshold_days,
        "thresholdSource": "connector" if status.threshold_from_connector else "default",
        "heartbeatAgeHours": None if age is None else round(age, 2),
        "health": status.health,
        "severity": SEVERITY[status.health],
        "reason": status.reason,
        "healthSince": status.health_since,
        "checkedAt": status.checked_at,
    }


def observation(o: Observation) -> dict[str, Any]:
    age = o.heartbeat_age_hours
    return {
        "checkedAt": o.checked_at,
        "health": o.health,
        "partnerState": o.partner_state,
        "lastHeartbeatDateTime": o.last_heartbeat,
        "heartbeatAgeHours": None if age is None else round(age, 2),
        "thresholdDays": o.threshold_days,
        "reason": o.reason,
    }


def alert(a: Alert) -> dict[str, Any]:
    return {
        **a.payload(),
        "deliveries": {
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
        },
    }


def sweep(result: SweepResult) -> dict[str, Any]:
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


def delivery(report: DeliveryReport) -> dict[str, Any]:
    return {"delivered": report.delivered, "failed": report.failed, "errors": report.errors}


def finding(f: Finding) -> dict[str, Any]:
    return {
        "id": f.id,
        "kind": f.kind,
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


# -- Conditional Access drift --


def classic_policy(p: ClassicPolicy) -> dict[str, Any]:
    return {
        "key": p.key,
        "policyId": p.policy_id,
        "displayName": p.display_name,
        "state": p.state,
        "partnerId": p.partner_id,
        "partner": p.partner,
        "contentHash": p.content_hash,
        "source": p.source,
        "firstSeen": p.first_seen,
        "updatedAt": p.updated_at,
        "lastChange": p.last_change,
    }


def classic_change(c: ClassicChange) -> dict[str, Any]:
    return {
        "drift": c.drift,
        "policyId": c.policy_id,
        "displayName": c.display_name,
        "at": c.at,
        "by": c.by,
        "source": c.source,
        "auditEventId": c.event_id,
        "evidence": c.evidence,
    }


def planned_removal(r: PlannedRemoval) -> dict[str, Any]:
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


def ca_drift(result: CaDriftResult) -> dict[str, Any]:
    audit = result.audit
    return {
        "tenantId": result.tenant_id,
        "checkedAt": result.checked_at,
        "ok": result.ok,
        "recorded": result.recorded,
        "problems": result.problems,
        "classic": {
            "source": result.classic_source,
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


def classic_import(result: ImportResult) -> dict[str, Any]:
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
