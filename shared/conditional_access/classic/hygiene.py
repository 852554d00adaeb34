"""Classic policies that still exist (obsolete since 2404), and audit-log reads older than its
retention: one finding each, opened and resolved with one alert. Pure."""

from __future__ import annotations

from collections.abc import Mapping
from datetime import datetime, timedelta

from shared.alerting.alerts import Alert, close_finding, finding_alert
from shared.conditional_access.classic.changes import when
from shared.conditional_access.classic.rows import AuditCursor, ClassicPolicy
from shared.findings.model import Finding, FindingKind, Severity, observe

HYGIENE_RESOURCE = "classic-policies"
GAP_RESOURCE = "directory-audit-log"


HYGIENE_REMEDIATION = (
    "Classic MTD policies are obsolete: Intune stopped creating them for Defender for Endpoint in "
    "service release 2308 (August 2023) and, since 2404 (April 2024), they are not needed for any "
    "partner and can be deleted. Remove them safely: (1) make sure an enabled modern Conditional "
    "Access policy requires a compliant device on every platform your connectors enable (MTD Guard's "
    "caCoverage findings list any gap); (2) announce each removal with POST /api/ca/planned-removals "
    "(or the ticket webhook) so MTD Guard records it as planned; (3) delete the policy in Entra admin "
    "center > Protection > Conditional Access > Classic policies - delete, never disable: a disabled "
    "classic policy cannot be re-enabled; (4) import the new inventory (PUT /api/ca/classic-baseline)."
)


def plan_hygiene(
    baseline: Mapping[str, ClassicPolicy],
    existing: Finding | None,
    *,
    tenant_id: str,
    now: datetime,
    channels: list[str],
) -> tuple[Finding | None, Alert | None]:
    """One info finding while classic MTD policies are known to exist; resolved when none are left."""
    remaining = sorted((p for p in baseline.values() if p.exists), key=lambda p: p.display_name.casefold())
    if not remaining:
        return close_finding(
            existing,
            "No classic MTD policy is known to remain.",
            "No classic CA policies remain",
            now,
            channels,
        )
    names = "; ".join(f"'{p.display_name}'" + (f" ({p.partner})" if p.partner else "") for p in remaining)
    finding = observe(
        existing,
        tenant_id=tenant_id,
        kind=FindingKind.CLASSIC_POLICY_HYGIENE,
        resource_id=HYGIENE_RESOURCE,
        resource_name="classic MTD Conditional Access policies",
        severity=Severity.INFO,
        message=f"{len(remaining)} classic MTD Conditional Access "
        f"{'policy still exists' if len(remaining) == 1 else 'policies still exist'}: {names}.",
        remediation=HYGIENE_REMEDIATION,
        now=now,
    )
    if existing is not None and existing.is_active:
        return (finding if finding != existing else None), None
    return finding, finding_alert(
        finding, "Classic CA policies still exist (obsolete since 2404)", now, channels
    )


def plan_gap(
    cursor: AuditCursor | None,
    existing: Finding | None,
    *,
    retention_days: int,
    tenant_id: str,
    now: datetime,
    channels: list[str],
) -> tuple[Finding | None, Alert | None]:
    """A warning when the audit log was last read longer ago than it keeps events."""
    if cursor is None or now - cursor.position <= timedelta(days=retention_days):
        return None, None
    lost_until = now - timedelta(days=retention_days)
    finding = observe(
        existing,
        tenant_id=tenant_id,
        kind=FindingKind.AUDIT_LOG_GAP,
        resource_id=GAP_RESOURCE,
        resource_name="Entra directory audit log",
        severity=Severity.WARNING,
        message=(
            f"The directory audit log was last read up to {when(cursor.position)}, but it keeps "
            f"events for {retention_days} days only: changes to classic CA policies between "
            f"{when(cursor.position)} and {when(lost_until)} may have been missed."
        ),
        remediation=(
            "Re-export the classic policy inventory from the Entra portal and import it "
            "(PUT /api/ca/classic-baseline): the import re-baselines and closes this finding. Keep the "
            "monitor running more often than the retention (AUDIT_LOG_RETENTION_DAYS), or stream the "
            "audit log to Log Analytics for longer retention."
        ),
        now=now,
    )
    if existing is not None and existing.is_active:
        return finding, None
    return finding, finding_alert(finding, "Classic CA policy changes may have been missed", now, channels)
