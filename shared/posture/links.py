"""Each link of the MTD chain on each platform, judged from what Graph listed. Pure.

Inputs are what one chain run read (``ChainReads``): the connectors, the heartbeat statuses the
monitor stored, the compliance policies, the app protection policies (beta only) and the
Conditional Access policies. A list that could not be read is ``None`` with the reason
("cannot see: grant X"): its link is ``cannotSee``, never a false pass or a false alarm.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass
from datetime import datetime

from shared import catalog
from shared.conditional_access.enforcement import judge
from shared.findings.kinds import heartbeat_remediation
from shared.graph.app_protection_policies import AppProtectionPolicy
from shared.graph.compliance_policies import CompliancePolicy
from shared.graph.conditional_access_policies import CaPolicy
from shared.graph.connectors import ConnectorReading
from shared.heartbeat.health import Health
from shared.heartbeat.plan import ConnectorStatus
from shared.posture.model import (
    PLATFORMS,
    AppProtectionEntry,
    CaEntry,
    ComplianceEntry,
    ConnectorEntry,
    Link,
    LinkName,
    LinkState,
    PlatformPosture,
    weakest,
)

# connector toggles per CA platform: (compliance evaluation, app protection evaluation)
TOGGLES = {
    "android": ("androidEnabled", "androidMobileApplicationManagementEnabled"),
    "iOS": ("iosEnabled", "iosMobileApplicationManagementEnabled"),
    "windows": ("windowsEnabled", "windowsMobileApplicationManagementEnabled"),  # MAM: beta only
    "macOS": ("macEnabled", None),  # beta only
}
# beta connector fields with the partner's minimum OS version per platform (sent on some tenants)
MINIMUM_VERSIONS = {
    "android": "partnerMinimumSupportedAndroidVersion",
    "iOS": "partnerMinimumSupportedIosVersion",
    "windows": "partnerMinimumSupportedWindowsVersion",
    "macOS": "partnerMinimumSupportedMacVersion",
}
_BROKEN_HEALTH = {Health.UNRESPONSIVE, Health.NOT_SET_UP, Health.ERROR}


@dataclass(frozen=True)
class ChainReads:
    """What one run read. A list is None when it could not be read; ``*_unseen`` then says why in
    the words the posture shows (e.g. "cannot see: grant the application permission ...")."""

    connectors: list[ConnectorReading] | None
    statuses: Mapping[str, ConnectorStatus]  # by lower-case connector id (heartbeat monitor)
    compliance: list[CompliancePolicy] | None
    ca: list[CaPolicy] | None
    app_protection: list[AppProtectionPolicy] | None
    connectors_unseen: str = ""
    compliance_unseen: str = ""
    ca_unseen: str = ""
    app_protection_unseen: str = ""


def _names(partners: list[str]) -> tuple[str, str]:
    """('A and B', 'their') or ('A', 'its')."""
    if len(partners) == 1:
        return partners[0], "its"
    return ", ".join(partners[:-1]) + " and " + partners[-1], "their"


def _text(value: object) -> str | None:
    return value if isinstance(value, str) and value else None


def connector_entries(reads: ChainReads, platform: str) -> list[ConnectorEntry]:
    """The connectors evaluating ``platform`` (compliance or app protection), with stored health."""
    compliance_toggle, mam_toggle = TOGGLES[platform]
    found = []
    for reading in reads.connectors or []:
        compliance = bool(reading.toggles.get(compliance_toggle))
        mam = bool(mam_toggle and reading.toggles.get(mam_toggle))
        if not (compliance or mam):
            continue
        status = reads.statuses.get(reading.id.lower())
        found.append(
            ConnectorEntry(
                connector_id=reading.id,
                partner=catalog.by_id(reading.id).name,
                compliance=compliance,
                app_protection=mam,
                health=status.health.value if status else None,
                health_reason=status.reason if status else None,
                minimum_os_version=_text(reading.partner_facts.get(MINIMUM_VERSIONS[platform])),
            )
        )
    return found


def connector_link(reads: ChainReads, entries: list[ConnectorEntry], label: str) -> Link:
    """ok when every connector evaluating the platform is healthy (or only warned about)."""
    if reads.connectors is None:
        return Link(LinkName.CONNECTOR, LinkState.CANNOT_SEE, reads.connectors_unseen)
    if not entries:
        return Link(LinkName.CONNECTOR, LinkState.NOT_NEEDED, f"{label}: no MTD connector evaluates {label}.")
    broken = [e for e in entries if e.health in _BROKEN_HEALTH]
    if broken:
        worst = broken[0]
        fix = heartbeat_remediation(worst.connector_id, worst.health or "", "")
        return Link(
            LinkName.CONNECTOR,
            LinkState.BROKEN,
            f"{label}: the {worst.partner} connector is {worst.health} ({worst.health_reason}): Intune "
            f"ignores its risk verdicts.{fix}",
        )
    unswept = [e.partner for e in entries if e.health is None or e.health == Health.UNKNOWN]
    if unswept:
        return Link(
            LinkName.CONNECTOR,
            LinkState.CANNOT_SEE,
            f"{label}: the heartbeat of {', '.join(unswept)} is not known yet (no heartbeat check has "
            "judged it).",
        )
    names, _ = _names([e.partner for e in entries])
    return Link(LinkName.CONNECTOR, LinkState.OK, f"{label}: {names} reporting (heartbeat healthy).")


def compliance_entries(reads: ChainReads, platform: str) -> list[ComplianceEntry]:
    """The compliance policies of ``platform``."""
    return [
        ComplianceEntry(
            policy_id=p.id,
            display_name=p.display_name,
            policy_type=p.type_label,
            threat_rule=p.uses_threat_rule if p.rule_visible else None,
            required_level=p.required_level if p.rule_visible else None,
            assigned=p.assigned,
        )
        for p in reads.compliance or []
        if p.platform == platform
    ]


def _near_miss(entry: ComplianceEntry) -> str | None:
    if entry.threat_rule and not entry.assigned:
        return f"'{entry.display_name}' uses the rule but is not assigned"
    if entry.threat_rule is False:
        level = entry.required_level or "none"
        return f"'{entry.display_name}' has the rule off (required level: {level})"
    return None


def compliance_link(
    reads: ChainReads, entries: list[ComplianceEntry], partners: list[str], label: str
) -> Link:
    """ok when an assigned compliance policy of the platform uses the Device Threat Level rule."""
    if not partners:
        return Link(LinkName.COMPLIANCE, LinkState.NOT_NEEDED, f"{label}: no connector evaluates compliance.")
    if reads.compliance is None:
        return Link(LinkName.COMPLIANCE, LinkState.CANNOT_SEE, reads.compliance_unseen)
    good = [e for e in entries if e.threat_rule and e.assigned]
    if good:
        levels = ", ".join(f"'{e.display_name}' (at or under {e.required_level})" for e in good)
        return Link(
            LinkName.COMPLIANCE, LinkState.OK, f"{label}: the Device Threat Level rule is on in {levels}."
        )
    hidden = [e for e in entries if e.threat_rule is None and e.assigned]
    if hidden:
        types = sorted({e.policy_type for e in hidden})
        return Link(
            LinkName.COMPLIANCE,
            LinkState.CANNOT_SEE,
            f"{label}: cannot see the Device Threat Level rule of {', '.join(types)} compliance policies "
            "through Graph v1.0: set GRAPH_API_VERSION=beta to check them.",
        )
    names, its = _names(partners)
    notes = [n for e in entries if (n := _near_miss(e))]
    close = f" Close: {'; '.join(notes)}." if notes else ""
    verb = "evaluates" if its == "its" else "evaluate"
    return Link(
        LinkName.COMPLIANCE,
        LinkState.BROKEN,
        f"{label}: {names} {verb} compliance, but no assigned {label} compliance policy uses the Device "
        f"Threat Level rule: {its} risk verdicts change nothing.{close}",
    )


def ca_entries(reads: ChainReads, platform: str) -> list[CaEntry]:
    """The CA policies offering compliantDevice on ``platform``, with their verdicts."""
    found = []
    for policy in reads.ca or []:
        verdict = judge(policy, platform)
        if verdict is not None:
            found.append(
                CaEntry(
                    policy.id,
                    policy.display_name,
                    verdict.enforces,
                    list(verdict.reasons),
                    list(verdict.scope),
                )
            )
    return found


def ca_link(reads: ChainReads, entries: list[CaEntry], partners: list[str], label: str) -> Link:
    """ok when an enabled policy requires a compliant device on every path (enforcement.judge)."""
    if not partners:
        return Link(
            LinkName.CONDITIONAL_ACCESS, LinkState.NOT_NEEDED, f"{label}: no connector evaluates compliance."
        )
    if reads.ca is None:
        return Link(LinkName.CONDITIONAL_ACCESS, LinkState.CANNOT_SEE, reads.ca_unseen)
    enforcing = [e for e in entries if e.enforces]
    if enforcing:
        names = ", ".join(f"'{e.display_name}'" for e in enforcing)
        return Link(
            LinkName.CONDITIONAL_ACCESS, LinkState.OK, f"{label}: {names} require a compliant device."
        )
    seems = "; ".join(f"'{e.display_name}' {'; '.join(e.reasons)}" for e in entries)
    close = f" Only seem to: {seems}." if seems else ""
    return Link(
        LinkName.CONDITIONAL_ACCESS,
        LinkState.BROKEN,
        f"{label}: no enabled Conditional Access policy requires a compliant device, so a device MTD marks "
        f"at risk keeps its access.{close}",
    )


def app_entries(reads: ChainReads, platform: str) -> list[AppProtectionEntry]:
    """The app protection policies of ``platform`` (beta reads only)."""
    return [
        AppProtectionEntry(p.id, p.display_name, p.max_threat_level, p.remediation_action, p.assigned)
        for p in reads.app_protection or []
        if p.platform == platform
    ]


def app_link(
    reads: ChainReads, entries: list[AppProtectionEntry], partners: list[str], platform: str, label: str
) -> Link:
    """ok when an assigned app protection policy of the platform sets a maximum threat level."""
    if not partners:
        return Link(
            LinkName.APP_PROTECTION, LinkState.NOT_NEEDED, f"{label}: no connector evaluates app protection."
        )
    if platform == "windows":
        return Link(
            LinkName.APP_PROTECTION,
            LinkState.CANNOT_SEE,
            f"{label}: cannot see Windows app protection policies (MTD Guard reads iOS/iPadOS and "
            "Android ones).",
        )
    if reads.app_protection is None:
        return Link(LinkName.APP_PROTECTION, LinkState.CANNOT_SEE, reads.app_protection_unseen)
    good = [e for e in entries if e.assigned and e.max_threat_level not in (None, "notConfigured")]
    if good:
        levels = ", ".join(f"'{e.display_name}' (at most {e.max_threat_level})" for e in good)
        return Link(
            LinkName.APP_PROTECTION,
            LinkState.OK,
            f"{label}: a maximum allowed device threat level is set in {levels}.",
        )
    names, its = _names(partners)
    verb = "evaluates" if its == "its" else "evaluate"
    return Link(
        LinkName.APP_PROTECTION,
        LinkState.BROKEN,
        f"{label}: {names} {verb} app protection, but no assigned {label} app protection policy sets a "
        f"maximum allowed device threat level: {its} risk verdicts change nothing for apps on unenrolled "
        "devices.",
    )


def platform_posture(reads: ChainReads, platform: str, *, tenant_id: str, now: datetime) -> PlatformPosture:
    """The whole chain on ``platform`` (``now``: the run's UTC datetime)."""
    label = PLATFORMS[platform]
    connectors = connector_entries(reads, platform)
    compliance = compliance_entries(reads, platform)
    ca = ca_entries(reads, platform)
    apps = app_entries(reads, platform)
    by_compliance = [c.partner for c in connectors if c.compliance]
    by_mam = [c.partner for c in connectors if c.app_protection]
    links = [
        connector_link(reads, connectors, label),
        compliance_link(reads, compliance, by_compliance, label),
        ca_link(reads, ca, by_compliance, label),
        app_link(reads, apps, by_mam, platform, label),
    ]
    if reads.connectors is None:  # which links are needed is unknown: never "not needed" (a false pass)
        why = f"{label}: which connectors evaluate {label} is unknown ({reads.connectors_unseen})"
        links = [links[0], *(Link(link.name, LinkState.CANNOT_SEE, why) for link in links[1:])]
    name, reason = weakest(links, label)
    return PlatformPosture(
        tenant_id=tenant_id,
        platform=platform,
        label=label,
        checked_at=now,
        links=links,
        connectors=connectors,
        compliance_policies=compliance,
        ca_policies=ca,
        app_protection_policies=apps,
        weakest_link=name,
        weakest_reason=reason,
    )
