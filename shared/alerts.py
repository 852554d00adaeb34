"""Alerts: one per change of state, recorded in the outbox before any channel is tried.

An alert is raised when something *changes* (a connector's health, a finding opening or closing),
never because a sweep ran again and saw the same thing. Its ``alert_id`` is fixed when it is
recorded, so every retry of a delivery carries the same id and receivers can de-duplicate.
"""

from __future__ import annotations

import uuid
from dataclasses import dataclass, field
from datetime import datetime
from enum import StrEnum
from typing import Any

from shared.findings import Severity


class DeliveryStatus(StrEnum):
    PENDING = "pending"
    DELIVERED = "delivered"
    DEAD = "dead"  # gave up after too many attempts: raises a finding of its own


@dataclass(frozen=True)
class Delivery:
    """How far one alert got on one channel."""

    status: DeliveryStatus = DeliveryStatus.PENDING
    attempts: int = 0
    last_error: str | None = None
    delivered_at: datetime | None = None


@dataclass(frozen=True)
class Alert:
    alert_id: str
    tenant_id: str
    kind: str  # the finding kind it is about, e.g. "heartbeat"
    finding_id: str
    severity: Severity
    title: str
    reason: str
    detected_at: datetime
    details: dict[str, Any] = field(default_factory=dict)  # kind-specific, camelCase keys
    deliveries: dict[str, Delivery] = field(default_factory=dict)  # channel name -> progress

    def payload(self) -> dict[str, Any]:
        """The JSON body receivers get: common fields plus the kind's own details."""
        return {
            "alertId": self.alert_id,
            "tenantId": self.tenant_id,
            "kind": self.kind,
            "findingId": self.finding_id,
            "severity": self.severity.value,
            "title": self.title,
            "reason": self.reason,
            "detectedAt": self.detected_at.isoformat().replace("+00:00", "Z"),
            **self.details,
        }

    @property
    def pending_channels(self) -> list[str]:
        return [n for n, d in self.deliveries.items() if d.status is DeliveryStatus.PENDING]


def new_alert(
    *,
    tenant_id: str,
    kind: str,
    finding_id: str,
    severity: Severity,
    title: str,
    reason: str,
    detected_at: datetime,
    details: dict[str, Any],
    channels: list[str],
) -> Alert:
    return Alert(
        alert_id=str(uuid.uuid4()),
        tenant_id=tenant_id,
        kind=kind,
        finding_id=finding_id,
        severity=severity,
        title=title,
        reason=reason,
        detected_at=detected_at,
        details=details,
        deliveries={name: Delivery() for name in channels},
    )
