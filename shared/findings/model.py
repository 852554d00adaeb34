"""Findings: what MTD Guard has detected, read like a security tool's results.

Shaped after Prowler's findings (status, severity, resource, message, remediation). A finding has a
stable id per (kind, resource), so a problem that persists across sweeps is one finding whose
``last_seen`` moves, not a new one every run.
"""

from __future__ import annotations

from dataclasses import dataclass, field, fields, replace
from datetime import datetime
from enum import StrEnum
from operator import attrgetter

from shared.store.rows import RowKind, Write, safe_key


class Severity(StrEnum):
    """How urgent a finding or alert is (``GET /api/findings?severity=``, channel minimum severities)."""

    HIGH = "high"  # enforcement is off or about to be: act now
    WARNING = "warning"  # heading for trouble, or cannot be judged
    INFO = "info"  # nothing is broken: recoveries, hygiene


class FindingStatus(StrEnum):
    """A finding's lifecycle: ``open`` (by ``observe``), ``acknowledged`` by a person, ``resolved``
    when the problem is gone; ``observe`` reopens a resolved finding if the problem comes back."""

    OPEN = "open"
    ACKNOWLEDGED = "acknowledged"  # a person has seen it: no more alerts while it lasts
    RESOLVED = "resolved"


class FindingKind(StrEnum):
    """What a finding is about (``Finding.kind``, ``GET /api/findings?kind=``, ``<CHANNEL>_KINDS``);
    each kind's title, default severity and remediation are in shared/findings/kinds.py."""

    HEARTBEAT = "heartbeat"
    GRAPH_ACCESS = "graphAccess"
    # Conditional Access drift (shared/conditional_access/classic/, modern.py)
    CLASSIC_POLICY_DRIFT = "classicPolicyDrift"  # a classic MTD policy was added/edited/disabled/deleted
    CLASSIC_POLICY_HYGIENE = "classicPolicyHygiene"  # classic MTD policies still exist (obsolete)
    AUDIT_LOG_GAP = "auditLogGap"  # the audit log was not read within its retention
    CA_POLICY_DRIFT = "caPolicyDrift"  # a modern policy requiring compliant devices stopped enforcing
    CA_COVERAGE = "caCoverage"  # a platform with an enabled connector has no policy requiring compliance
    ALERT_DELIVERY = "alertDelivery"  # an alert channel gave up on an alert (dead letter)
    GRAPH_DATA = "graphData"  # Graph listed entries MTD Guard cannot judge, or its paging broke
    CONNECTOR_DRIFT = "connectorDrift"  # a connector's settings differ from its baseline (configure/drift)
    # The enforcement chain (shared/posture/)
    COMPLIANCE_THREAT_LEVEL = "complianceThreatLevel"  # no assigned compliance policy uses the threat rule
    APP_PROTECTION_THREAT_LEVEL = "appProtectionThreatLevel"  # no app protection policy sets a max level


@dataclass(frozen=True)
class Finding:
    """One problem MTD Guard detected on one resource (row kind ``finding``), id ``<kind>.<resource>``.

    Opened or refreshed by ``observe`` on every sweep that sees the problem (``last_seen`` moves),
    acknowledged by a person, closed by ``resolve``; the row is kept after it resolves. Times are UTC.
    """

    id: str
    tenant_id: str
    kind: str
    resource_id: str
    resource_name: str
    severity: Severity
    status: FindingStatus
    message: str
    remediation: str
    first_seen: datetime
    last_seen: datetime
    resolved_at: datetime | None = None
    note: str | None = None  # the acknowledging person's note
    acknowledged_by: str | None = None  # who acknowledged it (Entra principal or webhook source)
    acknowledged_at: datetime | None = None
    # The stored row's version this finding was read at (None: not stored yet). The store writes a
    # finding only if its row is still at this version, so a sweep and a person acknowledging the
    # same finding at the same moment cannot silently undo each other. Not part of its identity.
    etag: str | None = field(default=None, compare=False, repr=False, metadata={"stored": False})

    @property
    def is_active(self) -> bool:
        """Open or acknowledged: the problem is still there."""
        return self.status is not FindingStatus.RESOLVED


FINDING_ROWS = RowKind(
    Finding,
    "finding",
    key=lambda f: f.id,
    layout="a finding; written only over the version it was read at (see Finding.etag)",
    write=Write.IF_UNCHANGED,
    etag=lambda f: f.etag,
)


def finding_id(kind: str, resource_id: str) -> str:
    """The stable id of the finding about ``resource_id`` of ``kind``: '<kind>.<resource id in lower
    case>', e.g. 'heartbeat.2c7790de-8b02-4814-85cf-e0c59380dee8'."""
    # Table Storage row keys forbid '/', '\\', '#' and '?': an id carrying one (or too long) is
    # hashed; GUIDs and every id stored so far are kept as they were, so existing rows still read.
    return f"{kind}.{safe_key(resource_id.lower())}"


def observe(
    existing: Finding | None,
    *,
    tenant_id: str,
    kind: str,
    resource_id: str,
    resource_name: str,
    severity: Severity,
    message: str,
    remediation: str,
    now: datetime,
) -> Finding:
    """The finding after seeing the problem (again) now: opened, kept open, or reopened."""
    if existing is not None and existing.is_active:
        return replace(
            existing,
            severity=severity,
            message=message,
            remediation=remediation,
            resource_name=resource_name,
            last_seen=now,
        )
    return Finding(
        id=finding_id(kind, resource_id),
        tenant_id=tenant_id,
        kind=kind,
        resource_id=resource_id,
        resource_name=resource_name,
        severity=severity,
        status=FindingStatus.OPEN,
        message=message,
        remediation=remediation,
        first_seen=now,
        last_seen=now,
        etag=existing.etag if existing is not None else None,  # reopening replaces the stored row
    )


# What a finding's equality compares, but its message and lastSeen (``seen_again``), read in one call.
_kept = attrgetter(*(f.name for f in fields(Finding) if f.compare and f.name not in ("message", "last_seen")))


def seen_again(new: Finding | None, stored: Finding | None) -> bool:
    """True when ``new`` (``observe``'s result) differs from ``stored`` only in its message and
    lastSeen: the same open problem seen again, whose wording moved with the clock (an age).
    Its row is not rewritten: message and lastSeen stay true as of the last change."""
    if new is None or stored is None:
        return False
    return _kept(new) == _kept(stored)


def resolve(existing: Finding, *, message: str, now: datetime) -> Finding:
    """The finding closed now (UTC): status ``resolved``, ``message`` saying why it is over."""
    return replace(existing, status=FindingStatus.RESOLVED, message=message, last_seen=now, resolved_at=now)


class FindingClosed(ValueError):
    """An acknowledgement of a finding that is already resolved: there is nothing left to see."""


def acknowledge(existing: Finding, *, note: str | None, who: str, now: datetime) -> Finding:
    """The finding after a person has seen it: no more alerts while it lasts, until it resolves.

    Acknowledging again replaces the note and who/when (the latest word counts). A resolved
    finding cannot be acknowledged (raises FindingClosed): if the problem comes back, ``observe``
    opens it again and it can be acknowledged then.
    """
    if existing.status is FindingStatus.RESOLVED:
        raise FindingClosed(
            f"finding {existing.id} was resolved at {existing.resolved_at}; nothing to acknowledge"
        )
    return replace(
        existing,
        status=FindingStatus.ACKNOWLEDGED,
        note=note,
        acknowledged_by=who,
        acknowledged_at=now,
    )
