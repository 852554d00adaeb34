"""How domain objects read as JSON in API answers (camelCase, stable field names)."""

from __future__ import annotations

from typing import Any

from shared.alerts import Alert
from shared.health import SEVERITY
from shared.heartbeat import ConnectorStatus
from shared.monitor import SweepResult
from shared.store import Observation


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
        "delivery": {
            "delivered": result.delivery.delivered,
            "failed": result.delivery.failed,
            "errors": result.delivery.errors,
        },
    }
