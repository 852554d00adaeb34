"""Modern Conditional Access policies that enforce MTD: baseline, drift and platform coverage. Pure.

The enforcement chain of MTD is: connector enabled for a platform -> compliance policy with the
device threat level rule -> a Conditional Access policy granting access only to a compliant device.
This module watches the last link on a supported API (``/identity/conditionalAccess/policies``,
Policy.Read.All, read into ``CaPolicy`` by shared/graph/conditional_access_policies.py):

* Every policy whose grant controls include ``compliantDevice`` is baselined (row
  ``capolicy|<id>``). Once it has been seen enforcing (``enforcement.enforces``: On, every way
  through its grant needs a compliant device, about someone and some app), it being deleted,
  disabled, switched to report-only, losing ``compliantDevice`` or gaining a way in without it is
  a ``high`` finding: MTD enforcement through it silently stops. Enforcing again resolves it.
* Per platform with an enabled connector (``androidEnabled``, ``iosEnabled``, ``windowsEnabled``,
  beta ``macEnabled``), when no policy enforces on that platform (``enforcement.judge``), a
  ``warning`` naming the policies that only seem to, and why. Policies scoped to selected users or
  apps still count: coverage finds a missing link, it does not prove every user is covered.
"""

from __future__ import annotations

from collections.abc import Iterable, Mapping
from dataclasses import dataclass, replace
from datetime import datetime

from shared import catalog
from shared.alerting.alerts import Alert, close_finding, finding_alert
from shared.conditional_access.enforcement import enforces, gaps, judge
from shared.findings.kinds import KINDS
from shared.findings.model import Finding, FindingKind, finding_id, observe
from shared.graph.conditional_access_policies import (
    DISABLED,
    ENABLED,
    REPORT_ONLY,
    CaPolicy,
)
from shared.graph.connectors import ConnectorReading
from shared.heartbeat.plan import TRANSIENT_REMEDIATION
from shared.store.rows import RowKind, safe_key

DELETED = "deleted"  # our baseline's state for a policy Graph no longer lists

# connector toggle -> Conditional Access device platform (conditions.platforms values)
PLATFORM_TOGGLES = {
    "androidEnabled": "android",
    "iosEnabled": "iOS",
    "windowsEnabled": "windows",
    "macEnabled": "macOS",  # beta only
}
PLATFORM_NAMES = {"android": "Android", "iOS": "iOS/iPadOS", "windows": "Windows", "macOS": "macOS"}


@dataclass(frozen=True)
class ModernPolicy:
    """Baseline row ``capolicy|<id>``: the last state seen of a policy that included compliantDevice."""

    tenant_id: str
    policy_id: str
    display_name: str
    state: str  # enabled | disabled | enabledForReportingButNotEnforced | deleted
    compliant_device: bool
    operator: str | None
    content_hash: str
    first_seen: datetime
    updated_at: datetime
    watched: bool  # seen enforcing at least once: stopping from here on is drift
    modified_at: str | None = None


MODERN_POLICY_ROWS = RowKind(
    ModernPolicy,
    "capolicy",
    key=lambda p: safe_key(p.policy_id.lower()),
    layout="baseline of a modern policy that included compliantDevice",
)


def _reason(policy: CaPolicy | None) -> str:
    if policy is None:
        return "was deleted"
    if policy.state == DISABLED:
        return "was turned off"
    if policy.state == REPORT_ONLY:
        return "was switched to report-only (evaluated, not enforced)"
    if not policy.has_compliant_device:
        controls = ", ".join(policy.controls) or "none"
        return f"no longer requires a compliant device (grant controls now: {controls})"
    if policy.state != ENABLED:
        return f"is in state {policy.state!r}, which does not enforce"
    return "now " + "; ".join(gaps(policy))


def _remedy(policy: CaPolicy | None) -> str:
    if policy is None:
        return (
            "Restore it from Entra admin center > Protection > Conditional Access > Deleted policies "
            "(soft-deleted policies can be restored for a limited time), or create a policy that "
            "requires a compliant device for the platforms your MTD connectors enable. Ask who deleted "
            "it: the Entra audit log lists 'Delete conditional access policy'."
        )
    if policy.state in (DISABLED, REPORT_ONLY):
        return (
            "Set the policy back to On in Entra admin center > Protection > Conditional Access, after "
            "checking with whoever changed it (audit log: 'Update conditional access policy'). If the "
            "change is intended, acknowledge this finding."
        )
    if policy.state != ENABLED:  # a state Graph does not document
        pass
    elif policy.has_compliant_device and not policy.requires_compliant_device:
        return (
            "Remove the other grant controls or set the grant to 'Require all the selected controls' "
            f"(grantControls.operator AND): {', '.join(policy.alternatives)} now let a device MTD marks "
            "at risk in. Acknowledge this finding if another policy now enforces compliance."
        )
    elif policy.has_compliant_device:
        return (
            "Assign the policy to users and cloud apps again (Entra admin center > Protection > "
            "Conditional Access), including browsers and mobile apps and desktop clients, or acknowledge "
            "this finding if another policy now enforces compliance."
        )
    return (
        "Add 'Require device to be marked as compliant' back to the policy's grant controls, or "
        "acknowledge this finding if another policy now enforces compliance."
    )


@dataclass
class ModernPlan:
    """What one look at the modern policies writes and raises."""

    groups: list[list[object]]  # each: a baseline row with its finding and alert, written together
    alerts: list[Alert]
    drifted: list[str]  # policy ids whose enforcement stopped (open findings)


def plan_modern(
    policies: Iterable[CaPolicy],
    baseline: Mapping[str, ModernPolicy],
    findings: Mapping[str, Finding],
    *,
    tenant_id: str,
    now: datetime,
    channels: list[str],
) -> ModernPlan:
    """Compare Graph's policies with the baseline (keyed by lowercase policy id): baseline
    rows for every policy with ``compliantDevice``, a ``high`` caPolicyDrift finding (and one alert)
    for a watched policy that stopped enforcing, resolved when it enforces again. Pure."""
    current = {p.id.lower(): p for p in policies}
    plan = ModernPlan([], [], [])
    keys = set(baseline) | {k for k, p in current.items() if p.has_compliant_device}
    for key in sorted(keys):
        before = baseline.get(key)
        policy = current.get(key)
        row = _row(before, policy, tenant_id=tenant_id, now=now)
        group: list[object] = []
        if before is None or replace(row, updated_at=before.updated_at) != before:
            group.append(row)
        fid = finding_id(FindingKind.CA_POLICY_DRIFT, row.policy_id)
        existing = findings.get(fid)
        stopped = row.watched and not (policy is not None and enforces(policy))
        finding: Finding | None
        alert: Alert | None = None
        if stopped:
            finding = observe(
                existing,
                tenant_id=tenant_id,
                kind=FindingKind.CA_POLICY_DRIFT,
                resource_id=row.policy_id,
                resource_name=row.display_name,
                severity=KINDS[FindingKind.CA_POLICY_DRIFT].severity,
                message=f"Conditional Access policy '{row.display_name}' {_reason(policy)}: it required a "
                "compliant device, so MTD enforcement through it has stopped and devices MTD marks at "
                "risk are no longer blocked by it.",
                remediation=_remedy(policy),
                now=now,
            )
            plan.drifted.append(row.policy_id)
            if existing is None or not existing.is_active:
                alert = finding_alert(
                    finding,
                    f"CA policy '{row.display_name}' {_reason(policy)}: MTD enforcement stopped",
                    now,
                    channels,
                    details={"policyId": row.policy_id, "policyName": row.display_name, "state": row.state},
                )
        else:
            finding, alert = close_finding(
                existing,
                f"Conditional Access policy '{row.display_name}' requires a compliant device again.",
                f"CA policy '{row.display_name}' enforces compliance again",
                now,
                channels,
            )
        group += [x for x in (finding, alert) if x is not None]
        if group:
            plan.groups.append(group)
        if alert is not None:
            plan.alerts.append(alert)
    return plan


def _row(
    before: ModernPolicy | None, policy: CaPolicy | None, *, tenant_id: str, now: datetime
) -> ModernPolicy:
    if policy is None:
        assert before is not None  # only baselined policies can be missing
        return replace(before, state=DELETED, updated_at=now)
    return ModernPolicy(
        tenant_id=tenant_id,
        policy_id=policy.id,
        display_name=policy.display_name,
        state=policy.state or "unknown",
        compliant_device=policy.has_compliant_device,
        operator=policy.operator,
        content_hash=policy.content_hash,
        first_seen=before.first_seen if before else now,
        updated_at=now,
        watched=(before.watched if before else False) or enforces(policy),
        modified_at=policy.modified_at,
    )


# -- coverage: a platform with an enabled connector and no policy requiring compliance ----------------


def enabled_platforms(readings: Iterable[ConnectorReading]) -> dict[str, list[str]]:
    """CA platform -> partners whose connector enables compliance evaluation on it."""
    found: dict[str, list[str]] = {}
    for reading in readings:
        for toggle, platform in PLATFORM_TOGGLES.items():
            if reading.toggles.get(toggle):
                found.setdefault(platform, []).append(catalog.by_id(reading.id).name)
    return found


def plan_coverage(
    platforms: Mapping[str, list[str]],
    policies: Iterable[CaPolicy],
    findings: Mapping[str, Finding],
    *,
    tenant_id: str,
    now: datetime,
    channels: list[str],
) -> tuple[list[list[object]], list[Alert], dict[str, bool]]:
    """Per platform: (rows to write, alerts, covered?) for the coverage findings."""
    listed = list(policies)
    groups: list[list[object]] = []
    alerts: list[Alert] = []
    covered: dict[str, bool] = {}
    for platform, label in PLATFORM_NAMES.items():
        partners = platforms.get(platform, [])
        requiring = [p for p in listed if (v := judge(p, platform)) is not None and v.enforces]
        existing = findings.get(finding_id(FindingKind.CA_COVERAGE, platform))
        finding: Finding | None
        alert: Alert | None = None
        if partners:
            covered[platform] = bool(requiring)
        if partners and not requiring:
            finding = observe(
                existing,
                tenant_id=tenant_id,
                kind=FindingKind.CA_COVERAGE,
                resource_id=platform,
                resource_name=label,
                severity=KINDS[FindingKind.CA_COVERAGE].severity,
                message=f"{label}: the MTD connector(s) of {', '.join(sorted(partners))} evaluate compliance "
                f"on {label}, but no enabled Conditional Access policy requires a compliant device there, "
                f"so devices MTD marks at risk keep their access.{_near_misses(listed, platform)}",
                remediation=(
                    f"Create (or fix) a Conditional Access policy for {label} that grants access only with "
                    "'Require device to be marked as compliant' (alone, or combined with AND), set it to On, "
                    "and make sure the platform's compliance policy uses the Device Threat Level rule."
                ),
                now=now,
            )
            if existing is None or not existing.is_active:
                alert = finding_alert(
                    finding,
                    f"{label}: no Conditional Access policy enforces MTD",
                    now,
                    channels,
                    details={"platform": platform, "partners": sorted(partners)},
                )
        else:
            why = "a policy requires a compliant device" if partners else "no connector enables it any more"
            finding, alert = close_finding(
                existing,
                f"{label}: {why}.",
                f"{label}: MTD enforcement covered again",
                now,
                channels,
            )
        if finding is not None:
            groups.append([x for x in (finding, alert) if x is not None])
        if alert is not None:
            alerts.append(alert)
    return groups, alerts, covered


def _near_misses(policies: list[CaPolicy], platform: str) -> str:
    """The policies that only seem to enforce on ``platform``, each with why (a policy in a state
    Graph does not document is odd data, not a near miss)."""
    verdicts = [judge(p, platform) for p in policies if p.state in (ENABLED, REPORT_ONLY, DISABLED)]
    notes = [v.summary for v in verdicts if v is not None and not v.enforces]
    return (" Close, but not enforcing: " + "; ".join(notes) + ".") if notes else ""


# -- reading Graph: one finding per data source that cannot be read ------------------------------------


def plan_access(
    problem: str | None,
    existing: Finding | None,
    *,
    resource: str,
    what: str,
    tenant_id: str,
    now: datetime,
    channels: list[str],
    transient: bool = False,
) -> tuple[Finding | None, Alert | None]:
    """'Cannot read X' as a warning finding: opened once, resolved once when X answers again.
    ``transient`` (throttling or a service fault past the grace): the remediation speaks of
    throttling and service health, not access."""
    if problem is None:
        return close_finding(
            existing, f"{what} can be read again.", f"{what}: access restored", now, channels
        )
    finding = observe(
        existing,
        tenant_id=tenant_id,
        kind=FindingKind.GRAPH_ACCESS,
        resource_id=resource,
        resource_name=what,
        severity=KINDS[FindingKind.GRAPH_ACCESS].severity,
        message=problem,
        remediation=f"{TRANSIENT_REMEDIATION if transient else KINDS[FindingKind.GRAPH_ACCESS].remediation}; "
        f"until then {what} is not checked.",
        now=now,
    )
    if existing is not None and existing.is_active:
        return finding, None
    return finding, finding_alert(finding, f"Cannot read {what}", now, channels)
