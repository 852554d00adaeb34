"""Configuration drift: a connector's settings against its baseline. Pure rules, no I/O.

The heartbeat sweep already lists every connector with its settings, so drift costs no Graph call:
the sweep hands each connector's settings (Graph property -> value) and its stored baseline to
``plan_drift``, which answers the ``connectorDrift`` finding, its alert and, under
CONNECTOR_BASELINE=first-seen, the baseline to adopt.

Each difference reads in the admin center's words (``fields.FIELDS``): "Connect iOS/iPadOS devices
to Lookout for Work (compliance evaluation): On -> Off", "Number of days until partner is
unresponsive: 7 -> 30". Severity is high when a difference weakens enforcement (an enforcing
toggle turned off, the threshold raised), warning otherwise. The finding alerts when it opens and
again only when the SET of differences changes; it resolves when the connector matches again.
Only properties present on both sides are compared: a property Graph did not report (a beta-only
one read through v1.0) is not judged rather than reported as changed.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass
from datetime import datetime
from typing import Any

from shared.alerting.alerts import Alert, finding_alert, new_alert
from shared.configure.baseline import AUTOMATIC, Baseline, BaselineSource
from shared.configure.fields import FIELDS, THRESHOLD_PROPERTY, Field
from shared.findings.kinds import KINDS
from shared.findings.model import Finding, FindingKind, Severity, finding_id, observe, resolve, seen_again

THRESHOLD = THRESHOLD_PROPERTY


@dataclass(frozen=True)
class SettingDrift:
    """One setting that differs from the baseline."""

    field: Field
    baseline: bool | int
    current: bool | int

    @property
    def weakens(self) -> bool:
        """Enforcement is weaker now: an enforcing toggle went off, or the threshold went up."""
        if self.field.integer:
            return self.current > self.baseline
        return self.field.enforces and self.baseline is True and self.current is False

    @property
    def key(self) -> tuple[str, bool | int, bool | int]:
        """What makes two differences the same one (property, baseline value, current value)."""
        return (self.field.graph, self.baseline, self.current)

    def describe(self, partner: str) -> str:
        """'<admin center label>: <baseline> -> <current>', toggles as On/Off."""
        return f"{self.field.label_for(partner)}: {_shown(self.baseline)} -> {_shown(self.current)}"

    def view(self) -> dict[str, Any]:
        """The difference as the API and alerts show it."""
        return {
            "field": self.field.pointer,
            "property": self.field.graph,
            "label": self.field.label,
            "baseline": self.baseline,
            "current": self.current,
            "weakens": self.weakens,
        }


def _shown(value: bool | int) -> str:
    if isinstance(value, bool):
        return "On" if value else "Off"
    return str(value)


def diff(baseline: Mapping[str, Any], current: Mapping[str, Any]) -> list[SettingDrift]:
    """Every managed setting whose current value differs from the baseline, in FIELDS order.
    Values of the wrong type on either side (not a bool for a toggle, not a whole number for the
    threshold) and properties missing on either side are not compared."""
    found: list[SettingDrift] = []
    for spec in FIELDS:
        before, now = baseline.get(spec.graph), current.get(spec.graph)
        if _typed(spec, before) and _typed(spec, now) and before != now:
            assert before is not None and now is not None  # _typed says so
            found.append(SettingDrift(spec, before, now))
    return found


def _typed(spec: Field, value: Any) -> bool:
    if spec.integer:
        return isinstance(value, int) and not isinstance(value, bool)
    return isinstance(value, bool)


def severity(changes: list[SettingDrift]) -> Severity:
    """High when any difference weakens enforcement, else warning."""
    return Severity.HIGH if any(c.weakens for c in changes) else Severity.WARNING


def silent_threshold(changes: list[SettingDrift], heartbeat_age_hours: float | None) -> str | None:
    """The sentence for a threshold raised while the partner was already past the old one:
    'threshold raised from 7 to 90 days while the partner had been silent for 12 days: Intune
    now uses 12-day-old risk data'; None otherwise."""
    raised = next((c for c in changes if c.field.graph == THRESHOLD and c.weakens), None)
    if raised is None or heartbeat_age_hours is None:
        return None
    return raised_while_silent(int(raised.baseline), int(raised.current), heartbeat_age_hours)


def raised_while_silent(before_days: int, after_days: int, heartbeat_age_hours: float) -> str | None:
    """The sentence when ``after_days`` > ``before_days`` and the last heartbeat is at least
    ``before_days`` old (the partner was unresponsive under the old threshold); None otherwise."""
    silent_days = heartbeat_age_hours / 24
    if after_days <= before_days or silent_days < before_days:
        return None
    age = f"{silent_days:.0f}" if silent_days >= 10 else f"{silent_days:.1f}"
    return (
        f"threshold raised from {before_days} to {after_days} days while the partner had been silent "
        f"for {age} days: Intune now uses {age}-day-old risk data"
    )


@dataclass(frozen=True)
class DriftPlan:
    """What a sweep writes for one connector's configuration: the finding if it changed, its
    alert, a first-seen baseline to store; ``drifted`` True while it differs from its baseline."""

    finding: Finding | None = None
    alert: Alert | None = None
    baseline: Baseline | None = None
    drifted: bool = False

    def rows(self) -> list[object]:
        """The rows to commit with the connector's status."""
        return [r for r in (self.baseline, self.finding, self.alert) if r is not None]


@dataclass(frozen=True)
class Seen:
    """One connector as this sweep saw it: its settings (Graph property -> value) and heartbeat age."""

    connector_id: str
    partner: str
    settings: Mapping[str, bool | int]
    heartbeat_age_hours: float | None


def plan_sweep_drift(
    seen: list[Seen],
    baselines: Mapping[str, Baseline],
    findings: Mapping[str, Finding],
    previous: Mapping[str, Mapping[str, bool | int]],
    *,
    tenant_id: str,
    first_seen: bool,
    now: datetime,
    channels: list[str],
) -> dict[str, DriftPlan]:
    """``plan_drift`` for every connector a sweep listed, by lower-case connector id.
    ``baselines`` and ``previous`` (the settings the last sweep stored) are keyed by lower-case
    connector id, ``findings`` by finding id."""
    return {
        c.connector_id.lower(): plan_drift(
            c.connector_id,
            c.settings,
            baselines.get(c.connector_id.lower()),
            findings.get(drift_finding_id(c.connector_id)),
            previous.get(c.connector_id.lower()),
            tenant_id=tenant_id,
            partner=c.partner,
            heartbeat_age_hours=c.heartbeat_age_hours,
            first_seen=first_seen,
            now=now,
            channels=channels,
        )
        for c in seen
    }


def close_removed(
    removed: Mapping[str, str], findings: Mapping[str, Finding], now: datetime
) -> list[Finding]:
    """The active drift findings of connectors Graph no longer lists (``removed``: connector id ->
    partner name), resolved: a deleted connector has no settings left to drift. The heartbeat's
    removal alert already says it is gone, so no alert here."""
    closed: list[Finding] = []
    for connector_id, partner in removed.items():
        found = findings.get(drift_finding_id(connector_id))
        if found is not None and found.is_active:
            message = f"{partner}: the connector no longer exists in Intune; nothing left to compare"
            closed.append(resolve(found, message=message, now=now))
    return closed


def drift_finding_id(connector_id: str) -> str:
    """The id of a connector's connectorDrift finding."""
    return finding_id(FindingKind.CONNECTOR_DRIFT, connector_id)


def plan_drift(
    connector_id: str,
    current: Mapping[str, bool | int],
    baseline: Baseline | None,
    finding: Finding | None,
    previous: Mapping[str, bool | int] | None,
    *,
    tenant_id: str,
    partner: str,
    heartbeat_age_hours: float | None,
    first_seen: bool,
    now: datetime,
    channels: list[str],
) -> DriftPlan:
    """Judge one connector's settings ``current`` against ``baseline``. ``previous`` are the
    settings the last sweep saw (None: unknown), so an unchanged set of differences is not alerted
    again. Without a baseline, ``first_seen`` adopts ``current``. Never raises."""
    if baseline is None:
        if first_seen and current:
            adopted = Baseline(
                tenant_id, connector_id, dict(current), AUTOMATIC, now, BaselineSource.FIRST_SEEN
            )
            return DriftPlan(baseline=adopted)
        return DriftPlan()
    changes = diff(baseline.settings, current)
    if not changes:
        if finding is None or not finding.is_active:
            return DriftPlan()
        done = resolve(finding, message=f"{partner}: settings match the baseline again", now=now)
        return DriftPlan(
            done, finding_alert(done, f"{partner} settings match the baseline again", now, channels)
        )
    opened = finding is None or not finding.is_active
    before = None if previous is None else {c.key for c in diff(baseline.settings, previous)}
    changed_set = before is not None and before != {c.key for c in changes}
    message = drift_message(partner, baseline, changes, heartbeat_age_hours)
    if not opened and not changed_set:
        # the same differences: who made them (read from Intune's log only when they alerted) stays
        message += attribution_of(finding)
    level = severity(changes)
    updated = observe(
        finding,
        tenant_id=tenant_id,
        kind=FindingKind.CONNECTOR_DRIFT,
        resource_id=connector_id,
        resource_name=partner,
        severity=level,
        message=message,
        remediation=KINDS[FindingKind.CONNECTOR_DRIFT].remediation,
        now=now,
    )
    if not (opened or changed_set) and seen_again(updated, finding):
        return DriftPlan(drifted=True)  # the same drift seen again: nothing to write
    alert = None
    if opened or changed_set:
        alert = new_alert(
            tenant_id=tenant_id,
            kind=FindingKind.CONNECTOR_DRIFT,
            finding_id=updated.id,
            severity=level,
            title=f"{partner} settings were changed outside MTD Guard",
            reason=message,
            detected_at=now,
            details={
                "connectorId": connector_id,
                "partner": partner,
                "changes": [c.view() for c in changes],
                "baselineSetAt": baseline.set_at.isoformat(),
                "baselineSetBy": baseline.set_by,
            },
            channels=channels,
            remediation=updated.remediation,
        )
    return DriftPlan(updated, alert, None, drifted=True)


CHANGED_BY = ". changed by: "  # how configure.attribution appends who changed it to the message


def attribution_of(finding: Finding | None) -> str:
    """The '. changed by: ...' tail of a drift finding's message, '' when it has none."""
    message = finding.message if finding is not None else ""
    at = message.find(CHANGED_BY)
    return "" if at < 0 else message[at:]


def drift_message(
    partner: str, baseline: Baseline, changes: list[SettingDrift], heartbeat_age_hours: float | None
) -> str:
    """'<partner> differs from its baseline (set <when> by <who>): <change>; <change>[. <silent>]'."""
    listed = "; ".join(c.describe(partner) for c in changes)
    text = (
        f"{partner} differs from its baseline (set {baseline.set_at:%Y-%m-%d %H:%M} UTC by "
        f"{baseline.set_by}, {baseline.source.value}): {listed}"
    )
    if note := silent_threshold(changes, heartbeat_age_hours):
        text += f". {note[0].upper()}{note[1:]}"
    return text
