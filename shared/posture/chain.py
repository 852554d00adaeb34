"""One chain run's plan: every platform's posture, and the findings of its compliance and app
protection links. Pure; the Conditional Access drift job (conditional_access/drift.py) reads
Graph, calls ``plan_chain`` and commits what it returns."""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass
from datetime import datetime

from shared.alerting.alerts import Alert
from shared.findings.model import Finding, FindingKind
from shared.posture.findings import LinkBaseline, LinkNow, LinkPlan, plan_link, strictest
from shared.posture.links import ChainReads, platform_posture
from shared.posture.model import PLATFORMS, AppProtectionEntry, ComplianceEntry, LinkName, PlatformPosture


@dataclass(frozen=True)
class ChainPlan:
    """What one chain run writes: per link and platform a batch (baseline, finding, alert), and
    the posture rows (one per platform)."""

    groups: list[list[object]]
    alerts: list[Alert]
    postures: list[PlatformPosture]


def compliance_summary(entries: list[ComplianceEntry], label: str) -> str:
    """The platform's compliance policies in words, for before/after."""
    if not entries:
        return f"no {label} compliance policy"
    parts = []
    for e in sorted(entries, key=lambda e: (e.display_name.casefold(), e.policy_id)):
        rule = "rule not visible" if e.threat_rule is None else ("rule on at " + str(e.required_level))
        if e.threat_rule is False:
            rule = "rule off"
        parts.append(f"'{e.display_name}' ({'assigned' if e.assigned else 'not assigned'}, {rule})")
    return "; ".join(parts)


def app_summary(entries: list[AppProtectionEntry], label: str) -> str:
    """The platform's app protection policies in words, for before/after."""
    if not entries:
        return f"no {label} app protection policy"
    parts = []
    for e in sorted(entries, key=lambda e: (e.display_name.casefold(), e.policy_id)):
        level = e.max_threat_level or "notConfigured"
        parts.append(
            f"'{e.display_name}' ({'assigned' if e.assigned else 'not assigned'}, max threat level {level})"
        )
    return "; ".join(parts)


def plan_chain(
    reads: ChainReads,
    baselines: Mapping[str, LinkBaseline],
    findings: Mapping[str, Finding],
    *,
    tenant_id: str,
    now: datetime,
    channels: list[str],
) -> ChainPlan:
    """Every platform's posture from ``reads``; ``baselines`` keyed by '<kind>.<platform lower>'."""
    plan = ChainPlan([], [], [])
    for platform, label in PLATFORMS.items():
        posture = platform_posture(reads, platform, tenant_id=tenant_id, now=now)
        plan.postures.append(posture)
        links = {link.name: link for link in posture.links}
        good_compliance = [
            e.required_level for e in posture.compliance_policies if e.threat_rule and e.assigned
        ]
        good_apps = [e.max_threat_level for e in posture.app_protection_policies if e.assigned]
        for current in (
            LinkNow(
                FindingKind.COMPLIANCE_THREAT_LEVEL,
                platform,
                links[LinkName.COMPLIANCE],
                compliance_summary(posture.compliance_policies, label),
                strictest(good_compliance),
            ),
            LinkNow(
                FindingKind.APP_PROTECTION_THREAT_LEVEL,
                platform,
                links[LinkName.APP_PROTECTION],
                app_summary(posture.app_protection_policies, label),
                strictest(good_apps),
            ),
        ):
            done: LinkPlan = plan_link(
                current,
                baselines.get(f"{current.kind.value}.{platform.lower()}"),
                findings,
                tenant_id=tenant_id,
                now=now,
                channels=channels,
            )
            rows = [r for r in done.rows if r is not None]
            if rows:
                plan.groups.append(rows)
            plan.alerts.extend(done.alerts)
    return plan
