"""The compliance and app protection links as findings, with their drift. Pure.

Per platform and link (``complianceThreatLevel.<platform>``, ``appProtectionThreatLevel.<platform>``):

* **broken** (no assigned policy of the platform with the threat level set): the finding opens,
  or changes when the link changes again; its message and alert carry *before* (the link as last
  seen whole) and *after* (now), so "rule turned off", "policy unassigned", "policy deleted" read
  as what they are.
* **relaxed** (whole, but its strictest level allows more risk than the level last accepted, e.g.
  low -> high): an ``info`` finding with before and after. Acknowledging it accepts the new level
  (the next run resolves it); going back to the accepted level resolves it too.
* **whole**: the finding resolves (once, with one alert).
* **cannot see** (a permission, a v1.0 read) or **not needed**: nothing is opened; "not needed"
  resolves an open finding (no connector asks for the link any more), "cannot see" leaves it as it
  was (never a false pass).

What was last seen is kept per platform and link in row ``chainlink|<kind>.<platform>``.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass, replace
from datetime import datetime

from shared.alerting.alerts import Alert, close_finding, finding_alert
from shared.findings.kinds import KINDS
from shared.findings.model import Finding, FindingKind, FindingStatus, Severity, finding_id, observe
from shared.graph.compliance_policies import LEVELS
from shared.posture.model import PLATFORMS, Link, LinkState
from shared.store.rows import RowKind


@dataclass(frozen=True)
class LinkBaseline:
    """Row ``chainlink|<kind>.<platform>``: the link as last seen, and the level last accepted."""

    tenant_id: str
    kind: str  # complianceThreatLevel | appProtectionThreatLevel
    platform: str
    state: str  # LinkState value when last judged
    summary: str  # the platform's policies in words, e.g. "'iOS baseline' (assigned, rule at low)"
    level: str | None  # the strictest level of the whole link, as last accepted
    updated_at: datetime


LINK_BASELINE_ROWS = RowKind(
    LinkBaseline,
    "chainlink",
    key=lambda b: f"{b.kind}.{b.platform.lower()}",
    layout="a chain link (compliance or app protection) as last seen per platform: before/after of its drift",
)

_TITLES = {
    FindingKind.COMPLIANCE_THREAT_LEVEL: "compliance policies do not use the Device Threat Level rule",
    FindingKind.APP_PROTECTION_THREAT_LEVEL: "app protection policies set no maximum device threat level",
}


def strictest(levels: list[str | None]) -> str | None:
    """The strictest of Graph's threat levels (secured < low < medium < high); None if none."""
    ranked = [lvl for lvl in levels if lvl in LEVELS]
    return min(ranked, key=LEVELS.index) if ranked else None


def _relaxed(before: str | None, now: str | None) -> bool:
    if before is None or now is None or before not in LEVELS or now not in LEVELS:
        return False
    return LEVELS.index(now) > LEVELS.index(before)


@dataclass(frozen=True)
class LinkPlan:
    """What one link's judgement writes: rows (finding, alert, baseline) in one batch."""

    rows: list[object]
    alerts: list[Alert]


@dataclass(frozen=True)
class LinkNow:
    """One platform's link as judged now: its state and reason, its policies in words, and the
    strictest level among the policies that make it whole (None when it is not whole)."""

    kind: FindingKind
    platform: str
    link: Link
    summary: str
    level: str | None

    @property
    def label(self) -> str:
        return PLATFORMS[self.platform]


@dataclass(frozen=True)
class _Run:
    tenant_id: str
    now: datetime
    channels: list[str]


def plan_link(
    current: LinkNow,
    baseline: LinkBaseline | None,
    findings: Mapping[str, Finding],
    *,
    tenant_id: str,
    now: datetime,
    channels: list[str],
) -> LinkPlan:
    """One platform's compliance or app protection link -> its finding, alert and baseline row
    (the row only when it changed: most runs change nothing)."""
    plan = _plan_link(current, baseline, findings, _Run(tenant_id, now, channels))
    return LinkPlan([r for r in plan.rows if r is not None and not _same(r, baseline)], plan.alerts)


def _same(row: object, baseline: LinkBaseline | None) -> bool:
    """A baseline row equal to the stored one but for its time: not worth a write."""
    if not isinstance(row, LinkBaseline) or baseline is None:
        return False
    return replace(row, updated_at=baseline.updated_at) == baseline


def _plan_link(
    current: LinkNow, baseline: LinkBaseline | None, findings: Mapping[str, Finding], run: _Run
) -> LinkPlan:
    now, channels = run.now, run.channels
    label, link, level = current.label, current.link, current.level
    existing = findings.get(finding_id(current.kind, current.platform))
    if link.state is LinkState.CANNOT_SEE:
        return LinkPlan([], [])
    if link.state is LinkState.NOT_NEEDED:
        why = f"{label}: no connector asks for this link any more."
        return _closed(close_finding(existing, why, f"{label}: link not needed", now, channels))
    accepted = baseline.level if baseline is not None else None
    if link.state is LinkState.BROKEN:
        before = baseline.summary if baseline is not None else None
        changed = (
            f" Before: {before}. Now: {current.summary}." if before and before != current.summary else ""
        )
        row = _row(current, run, accepted)
        severity = KINDS[current.kind].severity
        return _observe(current, existing, row, baseline, link.reason + changed, run=run, severity=severity)
    if not _relaxed(accepted, level):
        title = f"{label}: {_TITLES[current.kind]} - repaired"
        return _closed(close_finding(existing, link.reason, title, now, channels), _row(current, run, level))
    if existing is not None and existing.status is FindingStatus.ACKNOWLEDGED:
        who = existing.acknowledged_by or "an admin"
        why = f"{label}: the relaxed level ({level}) was accepted by {who}."
        title = f"{label}: relaxed threat level accepted"
        return _closed(close_finding(existing, why, title, now, channels), _row(current, run, level))
    message = (
        f"{label}: the threat level was relaxed from {accepted} to {level}: devices at a higher threat "
        f"level now count as compliant. Before: {baseline.summary if baseline else None}. "
        f"Now: {current.summary}."
    )
    row = _row(current, run, accepted)
    return _observe(current, existing, row, baseline, message, run=run, severity=Severity.INFO)


def _row(current: LinkNow, run: _Run, level: str | None) -> LinkBaseline:
    return LinkBaseline(
        run.tenant_id,
        current.kind.value,
        current.platform,
        current.link.state.value,
        current.summary,
        level,
        run.now,
    )


def _closed(closed: tuple[Finding | None, Alert | None], row: LinkBaseline | None = None) -> LinkPlan:
    done, alert = closed
    return LinkPlan([row, done, alert], [alert] if alert else [])


def _observe(
    current: LinkNow,
    existing: Finding | None,
    row: LinkBaseline,
    baseline: LinkBaseline | None,
    message: str,
    *,
    run: _Run,
    severity: Severity,
) -> LinkPlan:
    finding = observe(
        existing,
        tenant_id=run.tenant_id,
        kind=current.kind,
        resource_id=current.platform,
        resource_name=current.label,
        severity=severity,
        message=message,
        remediation=KINDS[current.kind].remediation,
        now=run.now,
    )
    changed = baseline is None or baseline.summary != row.summary or baseline.state != row.state
    opening = existing is None or not existing.is_active
    if not (opening or changed):
        return LinkPlan([row, finding], [])
    title = f"{current.label}: {_TITLES[current.kind]}" + ("" if opening else " (changed)")
    details = {
        "platform": current.platform,
        "before": baseline.summary if baseline else None,
        "after": row.summary,
    }
    alert = finding_alert(finding, title, run.now, run.channels, details=details)
    return LinkPlan([row, finding, alert], [alert])
