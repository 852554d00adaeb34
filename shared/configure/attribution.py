"""Who changed a drifted connector, from Intune's audit log. Pure rules, no I/O.

Whether Intune logs edits of MTD connectors (and under which activity names) is unconfirmed, so
matching is configurable (CONNECTOR_AUDIT_MATCH) and nothing is guessed: the finding says who only
when an event matches, "unknown" when none does, and "cannot see" when the log could not be read
(a missing permission never silences the drift finding itself).
"""

from __future__ import annotations

from collections.abc import Iterable, Mapping
from dataclasses import replace
from datetime import datetime, timedelta
from fnmatch import fnmatchcase

from shared import catalog
from shared.configure.drift import DriftPlan
from shared.graph.intune_audit_events import IntuneAuditEvent

UNKNOWN = "changed by: unknown (no matching Intune audit event)"
OVERLAP_MINUTES = 60  # Intune may log an event late: the window starts this long before the last sweep


def cannot_see(problem: str) -> str:
    """The line when Intune's audit log could not be read (``problem``: what Graph said, with the fix)."""
    return f"changed by: cannot see (Intune's audit log could not be read: {problem})"


def matches(event: IntuneAuditEvent, connector_id: str, patterns: Iterable[str]) -> bool:
    """The event is about this connector: a resource carries its id, or the event's activity or a
    resource's type matches a pattern (lower-case globs) and a resource's displayName names the
    partner (its catalog name or an alias)."""
    wanted = connector_id.lower()
    if any((r.resource_id or "").lower() == wanted for r in event.resources):
        return True
    words = [event.activity, event.activity_type, *(r.type for r in event.resources)]
    if not any(fnmatchcase(w.casefold(), p) for w in words if w for p in patterns):
        return False
    names = [n.casefold() for n in catalog.by_id(connector_id).names]
    return any(n in (r.display_name or "").casefold() for r in event.resources for n in names)


def changed_by(events: Iterable[IntuneAuditEvent], connector_id: str, patterns: Iterable[str]) -> str:
    """'changed by: <who> (<activity> at <time> UTC)[; <who> ...]', latest first, or UNKNOWN."""
    patterns = tuple(patterns)
    found = sorted(
        (e for e in events if matches(e, connector_id, patterns)), key=lambda e: e.activity_at, reverse=True
    )
    if not found:
        return UNKNOWN
    said = [_one(e) for e in found[:3]]
    more = f"; and {len(found) - 3} more event(s)" if len(found) > 3 else ""
    return "changed by: " + "; ".join(said) + more


def _one(event: IntuneAuditEvent) -> str:
    when = f"{event.activity_at:%Y-%m-%d %H:%M} UTC"
    return f"{event.actor or 'an unnamed actor'} ({event.activity or 'an activity'} at {when})"


def needs_attribution(drifts: Mapping[str, DriftPlan]) -> list[str]:
    """The connectors (lower-case ids) whose drift alerts now: the only ones worth a log read."""
    return [
        k for k, d in drifts.items() if d.alert is not None and d.finding is not None and d.finding.is_active
    ]


def attributed(plan: DriftPlan, line: str) -> DriftPlan:
    """The plan with ``line`` added to its finding's message and its alert's reason and details."""
    if plan.finding is None or plan.alert is None:
        return plan
    finding = replace(plan.finding, message=f"{plan.finding.message}. {line}")  # drift.CHANGED_BY
    alert = replace(
        plan.alert, reason=f"{plan.alert.reason}. {line}", details={**plan.alert.details, "changedBy": line}
    )
    return replace(plan, finding=finding, alert=alert)


def attribute_all(
    drifts: Mapping[str, DriftPlan],
    events: list[IntuneAuditEvent] | None,
    problem: str | None,
    patterns: Iterable[str],
) -> dict[str, DriftPlan]:
    """Every alerting drift with its 'changed by' line: from ``events``, or ``cannot_see(problem)``
    when the log could not be read (``events`` None)."""
    patterns = tuple(patterns)
    wanted = set(needs_attribution(drifts))
    out: dict[str, DriftPlan] = {}
    for key, plan in drifts.items():
        if key not in wanted or plan.finding is None:
            out[key] = plan
            continue
        line = (
            cannot_see(problem or "unknown error")
            if events is None
            else changed_by(events, plan.finding.resource_id, patterns)
        )
        out[key] = attributed(plan, line)
    return out


def window_start(last_sweep: datetime | None, now: datetime) -> datetime:
    """Where the log read starts: the last sweep less the overlap, or a day back before any sweep."""
    start = last_sweep if last_sweep is not None else now - timedelta(days=1)
    return start - timedelta(minutes=OVERLAP_MINUTES)
