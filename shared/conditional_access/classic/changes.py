"""What one change to a classic policy does: the baseline row, the finding, the alert, the advice.

Severities follow Microsoft's guidance (see the package docstring): an unplanned edit, disable or
deletion is high; an announced deletion or a new policy is info. Pure."""

from __future__ import annotations

from collections.abc import Iterable, Mapping
from dataclasses import dataclass, replace
from datetime import datetime
from typing import Any

from shared import catalog
from shared.alerting.alerts import Alert, finding_alert
from shared.conditional_access.classic.matching import ClassicChange, find_policy, policy_key
from shared.conditional_access.classic.rows import ClassicPolicy, Drift, PlannedRemoval, PolicyState
from shared.findings.model import Finding, FindingKind, Severity, finding_id, observe


@dataclass(frozen=True)
class ChangePlan:
    """What one change does to the stored state (only what changed)."""

    policy: ClassicPolicy
    replaces_key: str | None  # a name-keyed row now known by its id: delete the old row
    findings: list[Finding]
    alerts: list[Alert]
    removal: PlannedRemoval | None  # the planned removal that covered a deletion, updated


_TITLES = {
    Drift.ADDED: "Classic CA policy '{name}' appeared",
    Drift.MODIFIED: "Classic CA policy '{name}' was edited",
    Drift.DISABLED: "Classic CA policy '{name}' was disabled",
    Drift.DELETED: "Classic CA policy '{name}' was deleted without a planned removal",
}
_VERBS = {
    Drift.ADDED: "appeared",
    Drift.MODIFIED: "was edited",
    Drift.DISABLED: "was disabled",
    Drift.DELETED: "was deleted",
}


def _who(change: ClassicChange) -> str:
    if change.source == "import":
        return f"(seen in the inventory imported by {change.by or 'unknown'})"
    return f"by {change.by}" if change.by else "(initiator not logged)"


def _connector_advice(partner: str | None) -> str:
    connector = f"the {partner} connector" if partner else "the MTD connector it belongs to"
    return (
        f"If this tenant still depends on it (a connector set up before Intune release 2404 with no "
        f"modern policy taking over), delete and re-create {connector} in Intune, then finish the "
        "partner side in its console. Since 2404 classic policies are no longer needed: make sure an "
        "enabled modern Conditional Access policy requires a compliant device on every platform the "
        "connector enables (MTD Guard's caCoverage findings name any gap)."
    )


def remediation(drift: Drift, partner: str | None, planned: bool) -> str:
    """What the admin should do about one change to a classic policy of ``partner`` (None: not
    known), in words: nothing for a planned deletion, otherwise Microsoft's guidance (never edit a
    classic MTD policy; a deleted or disabled one cannot be brought back; since Intune release 2404
    a modern policy requiring a compliant device replaces them)."""
    if drift is Drift.DELETED and planned:
        return (
            "Nothing to do: this is the cleanup Microsoft now recommends. Check that an enabled modern "
            "Conditional Access policy requires a compliant device on every platform the connector enables."
        )
    if drift is Drift.DELETED:
        return (
            "A deleted classic policy cannot be restored. "
            + _connector_advice(partner)
            + " Next time, announce a removal first: POST /api/ca/planned-removals or the ticket webhook."
        )
    if drift is Drift.DISABLED:
        return (
            "A disabled classic policy cannot be re-enabled. Delete it instead (announce the removal "
            "first with POST /api/ca/planned-removals). " + _connector_advice(partner)
        )
    if drift is Drift.MODIFIED:
        return (
            "Microsoft's guidance is never to edit classic MTD policies. Ask the person named here what "
            "changed and why; revert it in Entra admin center > Conditional Access > Classic policies, or "
            "remove the policy the supported way (announce, then delete). " + _connector_advice(partner)
        )
    return (
        "Since Intune release 2404 classic MTD policies are not created nor needed; find out what "
        "created this one. Remove it once a modern policy requiring a compliant device covers the "
        "connector's platforms (announce, then delete)."
    )


def plan_change(
    change: ClassicChange,
    baseline: Mapping[str, ClassicPolicy],
    findings: Mapping[str, Finding],
    removals: Iterable[PlannedRemoval],
    *,
    tenant_id: str,
    now: datetime,
    channels: list[str],
) -> ChangePlan:
    """What one classic-policy change does to the stored state, without touching it.

    ``baseline`` is keyed by ``policy_key``, ``findings`` by finding id; ``removals`` are the planned
    removals that may cover a deletion (``PlannedRemoval.covers``). ``now`` is UTC. The finding of
    ``classicPolicyDrift`` kind is high for an unplanned edit, disable or deletion and info for an
    added policy or a planned deletion; an alert is raised only when the finding opens (or reopens).
    A covering removal comes back marked as used.
    """
    known = find_policy(baseline, change.policy_id, change.display_name)
    key = policy_key(change.policy_id, change.display_name)
    partner = (
        catalog.by_id(change.partner_id)
        if change.partner_id
        else (
            catalog.by_id(known.partner_id)
            if known and known.partner_id
            else catalog.partner_of(change.display_name)
        )
    )
    state = change.new_state or (
        known.state if known and known.state is not PolicyState.DELETED else PolicyState.UNKNOWN
    )
    if change.drift is Drift.ADDED:
        state = change.new_state or PolicyState.ENABLED
    elif known is not None and not known.exists and change.drift is not Drift.DELETED:
        state = PolicyState.DELETED  # an edit logged late, after its deletion: it stays deleted
    policy = ClassicPolicy(
        tenant_id=tenant_id,
        key=key,
        policy_id=change.policy_id or (known.policy_id if known else None),
        display_name=change.display_name,
        state=state,
        partner_id=partner.id if partner else None,
        partner=partner.name if partner else None,
        content_hash=change.content_hash
        or (known.content_hash if known and change.source == "audit" else None),
        source=known.source if known else change.source,
        first_seen=known.first_seen if known else now,
        updated_at=now,
        last_change=f"{change.drift.value} {_who(change)}"
        + (f" (event {change.event_id})" if change.event_id else ""),
    )
    removal = None
    if change.drift is Drift.DELETED:
        removal = next((r for r in removals if r.covers(policy, change.at)), None)
    planned = removal is not None
    severity = Severity.HIGH
    if change.drift is Drift.ADDED or planned:
        severity = Severity.INFO
    resource = f"{key}.{change.drift.value}"
    fid = finding_id(FindingKind.CLASSIC_POLICY_DRIFT, resource)
    existing = findings.get(fid)
    partner_text = f" ({policy.partner})" if policy.partner else ""
    message = (
        f"Classic CA policy '{policy.display_name}'{partner_text} {_VERBS[change.drift]} "
        f"on {when(change.at)} {_who(change)}"
    )
    if planned and removal is not None:
        ticket = f", ticket {removal.ticket}" if removal.ticket else ""
        message += (
            f", as announced by {removal.announced_by} on {when(removal.announced_at)}{ticket}: "
            "cleanup as Microsoft now recommends"
        )
    elif change.drift is Drift.DISABLED:
        message += ". A disabled classic policy cannot be re-enabled"
    message += f". Evidence: {change.evidence}." if change.evidence else "."
    finding = observe(
        existing,
        tenant_id=tenant_id,
        kind=FindingKind.CLASSIC_POLICY_DRIFT,
        resource_id=resource,
        resource_name=policy.display_name,
        severity=severity,
        message=message,
        remediation=remediation(change.drift, policy.partner, planned),
        now=now,
    )
    alerts = []
    if existing is None or not existing.is_active:
        title = (
            f"Classic CA policy '{policy.display_name}' deleted as planned"
            if planned
            else _TITLES[change.drift].format(name=policy.display_name)
        )
        alerts.append(
            finding_alert(
                finding,
                title,
                now,
                channels,
                details=_details(policy, change, planned, removal),
            )
        )
    if removal is not None:
        removal = replace(removal, used_at=now, used_by=[*removal.used_by, policy.key][-20:])
    replaces = known.key if known is not None and known.key != key else None
    return ChangePlan(policy, replaces, [finding], alerts, removal)


def _details(
    policy: ClassicPolicy, change: ClassicChange, planned: bool, removal: PlannedRemoval | None
) -> dict[str, Any]:
    return {
        "policyId": policy.policy_id,
        "policyName": policy.display_name,
        "partner": policy.partner,
        "drift": change.drift.value,
        "planned": planned,
        "ticket": removal.ticket if removal else None,
        "changedAt": when(change.at),
        "changedBy": change.by,
        "source": change.source,
        "auditEventId": change.event_id,
    }


def when(moment: datetime) -> str:
    """A UTC moment as RFC 3339 to the second with 'Z', as alert details and messages show it."""
    return moment.isoformat(timespec="seconds").replace("+00:00", "Z")
