"""Alerts: one per change of state, recorded in the outbox before any channel is tried.

An alert is raised when something *changes* (a connector's health, a finding opening or closing),
never because a sweep ran again and saw the same thing. Its ``alert_id`` is fixed when it is
recorded, so every retry of a delivery carries the same id and receivers can de-duplicate.

Every configured channel gets a ``Delivery`` when the alert is recorded; whether the channel takes
it (routing, quiet hours) is decided when it is delivered, by ``shared.alerting.routing``, and written back
on the delivery (``skipped`` with the reason, ``held`` until quiet hours end), so nothing is ever
dropped without a trace. A ``Thread`` remembers what one channel was told about one finding: for
ServiceNow and Jira the ticket, so later alerts on the finding update that ticket.
"""

from __future__ import annotations

import uuid
from collections.abc import Mapping
from dataclasses import dataclass, field
from datetime import datetime
from enum import StrEnum
from typing import Any

from shared.findings.model import Finding, Severity, resolve
from shared.store.rows import RowKind

DIGEST_KIND = "alertDigest"  # the kind of the one message that carries alerts held in quiet hours


class DeliveryStatus(StrEnum):
    """Where one alert stands on one channel (``Delivery.status``, ``GET /api/alerts?status=``).

    ``pending`` and ``held`` are open (the outbox still works on them); the others are final, except
    that ``dead`` goes back to ``pending`` when a person asks for a redelivery.
    """

    PENDING = "pending"  # to be sent (again) once ``next_attempt_at`` has passed
    HELD = "held"  # an info alert in the channel's quiet hours: goes out in the digest after them
    DELIVERED = "delivered"
    SKIPPED = "skipped"  # the channel's routing rules do not take it (``note`` says why)
    DIGESTED = "digested"  # went out inside digest alert ``digest_id``
    DEAD = "dead"  # gave up after too many attempts: raises a finding of its own

    @property
    def open(self) -> bool:
        """Still to be worked on by the outbox."""
        return self in (DeliveryStatus.PENDING, DeliveryStatus.HELD)


@dataclass(frozen=True)
class Delivery:
    """How far one alert got on one channel."""

    status: DeliveryStatus = DeliveryStatus.PENDING
    attempts: int = 0
    last_error: str | None = None
    delivered_at: datetime | None = None
    next_attempt_at: datetime | None = None  # not before: backoff after a failure, end of quiet hours
    note: str | None = None  # why it was skipped or held
    ticket: str | None = None  # the ticket it went to (INC0010001, MTD-42)
    digest_id: str | None = None  # the digest alert that carried it


@dataclass(frozen=True)
class Alert:
    """One change worth telling people about, as recorded in the outbox (row kind ``alert``).

    Created by ``new_alert`` with a fixed ``alert_id`` and a ``Delivery`` per configured channel, in the
    same batch as the change that caused it; afterwards only its deliveries change, as the outbox works
    through them. ``detected_at`` is UTC; ``payload`` is what the receivers get.
    """

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
    resolves: bool | None = None  # the finding is over with this alert (None: see resolves_finding)
    remediation: str | None = None  # what to do, when the producer knows it

    @property
    def resolves_finding(self) -> bool:
        """Whether this alert closes its finding: tickets are resolved, not opened, by it.

        Producers say so with ``resolves``; for alerts recorded without it, the conventional details
        tell: a connector back to healthy or removed, or a finding whose status is resolved.
        """
        if self.resolves is not None:
            return self.resolves
        return (
            self.details.get("health") in ("healthy", "removed") or self.details.get("status") == "resolved"
        )

    def payload(self) -> dict[str, Any]:
        """The JSON body receivers get: common fields plus the kind's own details."""
        body = {
            "alertId": self.alert_id,
            "tenantId": self.tenant_id,
            "kind": self.kind,
            "findingId": self.finding_id,
            "severity": self.severity.value,
            "title": self.title,
            "reason": self.reason,
            "detectedAt": self.detected_at.isoformat().replace("+00:00", "Z"),
            "resolvesFinding": self.resolves_finding,
            **self.details,
        }
        if self.remediation:
            body["remediation"] = self.remediation
        return body

    @property
    def pending_channels(self) -> list[str]:
        """Channels this alert still has to go to (pending or held for a digest)."""
        return [n for n, d in self.deliveries.items() if d.status.open]


ALERT_ROWS = RowKind(
    Alert,
    "alert",
    key=lambda a: a.alert_id,
    layout="an alert and its deliveries; column pending: any channel still to deliver",
    columns=lambda a: {"pending": bool(a.pending_channels)},
)


@dataclass(frozen=True)
class Thread:
    """What one channel has been told about one finding, across that finding's alerts.

    ``open`` while the finding's current episode is under way on the channel: later alerts on the
    finding go to the channel even below its minimum severity (a recovery is heard where the problem
    was), and ticket channels update ``ticket_id`` instead of opening another ticket. Closed by the
    alert that resolves the finding; the next problem opens a new episode (and a new ticket).
    """

    tenant_id: str
    channel: str
    finding_id: str
    open: bool
    opened_at: datetime
    updated_at: datetime
    last_alert_id: str
    ticket_id: str | None = None  # ServiceNow sys_id, Jira issue id
    ticket_key: str | None = None  # ServiceNow number, Jira issue key
    ticket_url: str | None = None  # where a person opens it


THREAD_ROWS = RowKind(
    Thread,
    "thread",
    key=lambda t: f"{t.channel}|{t.finding_id}",
    layout="<channel>|<finding id>: what one alert channel was told about one finding, with its ticket",
)


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
    resolves: bool | None = None,
    remediation: str | None = None,
) -> Alert:
    """A new alert with a fresh id (UUID4) and a pending ``Delivery`` for each name in ``channels``.

    ``detected_at`` is a UTC time; ``details`` are the kind's own camelCase fields, merged into the
    payload; ``resolves`` says whether the alert closes its finding (None: inferred from the details,
    see ``Alert.resolves_finding``). Nothing is stored: the caller commits the alert with its change.
    """
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
        resolves=resolves,
        remediation=remediation,
    )


def finding_alert(
    finding: Finding,
    title: str,
    now: datetime,
    channels: list[str],
    details: Mapping[str, Any] | None = None,
) -> Alert:
    """The one alert of a finding opening or closing (its status tells receivers which)."""
    return new_alert(
        tenant_id=finding.tenant_id,
        kind=finding.kind,
        finding_id=finding.id,
        severity=finding.severity if finding.is_active else Severity.INFO,
        title=title,
        reason=finding.message,
        detected_at=now,
        details={"status": finding.status.value, "resourceId": finding.resource_id, **(details or {})},
        channels=channels,
        resolves=not finding.is_active,
        remediation=finding.remediation if finding.is_active else None,
    )


def close_finding(
    finding: Finding | None, message: str, title: str, now: datetime, channels: list[str]
) -> tuple[Finding | None, Alert | None]:
    """Resolve an active finding with one alert; nothing for a finding already closed or absent."""
    if finding is None or not finding.is_active:
        return None, None
    done = resolve(finding, message=message, now=now)
    return done, finding_alert(done, title, now, channels)
