"""Classic Conditional Access policies of MTD connectors: baseline, evidence, drift. Pure rules.

Microsoft offers NO supported API that lists classic policies (the Entra portal reads them through
an undocumented internal API that needs an interactive user's token; MTD Guard does not use it).
What MTD Guard can know comes from two sources, both turned into the same ``ClassicChange`` records
and judged by the same rules here:

* ``audit``: events of the Entra directory audit log (``/auditLogs/directoryAudits``). Which events
  are changes to classic policies is UNCONFIRMED by Microsoft, so the matching is configurable
  (``AuditMatching``, from app settings) with documented defaults.
* ``import``: an inventory the admin copied from the Entra portal (``parse_inventory``); a later
  import is compared with the baseline (``diff_inventory``).

Severities follow Microsoft's guidance for classic MTD policies: never edit, disable or delete
them (a disabled one cannot be re-enabled; a deleted one means the connector must be deleted and
re-created if the tenant still depends on it), so an unplanned edit, disable or deletion is
``high``; since service release 2404 they are obsolete (2308 for Defender for Endpoint) and may be
deleted, so a deletion announced beforehand is ``info``, and a tenant that still has them gets one
``info`` hygiene finding saying how to remove them safely.
"""

from __future__ import annotations

import fnmatch
import hashlib
import json
import re
import uuid
from collections.abc import Iterable, Mapping
from dataclasses import dataclass, field, replace
from datetime import datetime, timedelta
from enum import StrEnum
from typing import Any

from shared import catalog
from shared.alerting.alerts import Alert, new_alert
from shared.findings.model import Finding, FindingKind, Severity, finding_id, observe, resolve
from shared.graph.connectors import parse_timestamp
from shared.graph.directory_audits import AuditEvent, AuditTarget, decode_value, values_of

AUDIT_CURSOR = "directoryAudits"  # the cursor row's name
IMPORT_NAME = "classic"  # the import record's name
HYGIENE_RESOURCE = "classic-policies"
GAP_RESOURCE = "directory-audit-log"


class Drift(StrEnum):
    ADDED = "added"
    MODIFIED = "modified"
    DISABLED = "disabled"
    DELETED = "deleted"


class PolicyState(StrEnum):
    ENABLED = "enabled"
    DISABLED = "disabled"
    DELETED = "deleted"
    UNKNOWN = "unknown"  # learned from an audit event that did not say


# -- rows (stored by shared/store.py) ------------------------------------------------------------


@dataclass(frozen=True)
class ClassicPolicy:
    """What MTD Guard knows of one classic policy: row ``classic|<key>``."""

    tenant_id: str
    key: str  # the policy's object id (lower case), or "name-<hash>" when only its name is known
    policy_id: str | None
    display_name: str
    state: PolicyState
    partner_id: str | None  # the MTD partner it belongs to, when known
    partner: str | None
    content_hash: str | None  # of the imported details; None when only audit events are known
    source: str  # "import" | "audit": where MTD Guard first learned of it
    first_seen: datetime
    updated_at: datetime
    last_change: str | None = None  # e.g. "deleted by admin@contoso.com (event Directory_...)"

    @property
    def exists(self) -> bool:
        return self.state is not PolicyState.DELETED


@dataclass(frozen=True)
class AuditCursor:
    """How far the audit log has been read: row ``cursor|<name>``.

    Every event with ``activityDateTime`` before ``position`` was processed; the next read starts
    at ``position`` minus the overlap, and events already processed there are skipped by id.
    """

    tenant_id: str
    name: str
    position: datetime
    updated_at: datetime


@dataclass(frozen=True)
class ProcessedEvent:
    """An audit event that changed something: row ``auditevent|<event id>``.

    Written with ``insert`` (never upsert) in the same batch as the changes the event caused: the
    batch of a second run processing the same event fails as a whole, so no event counts twice.
    """

    tenant_id: str
    event_id: str
    activity_at: datetime
    processed_at: datetime
    outcome: str


@dataclass(frozen=True)
class BaselineImport:
    """The last inventory import: row ``import|<name>``."""

    tenant_id: str
    name: str
    imported_at: datetime
    imported_by: str
    policies: int
    exported_at: datetime | None = None


@dataclass(frozen=True)
class PlannedRemoval:
    """A removal announced beforehand: row ``removal|<id>``. Covers deletions inside its window."""

    tenant_id: str
    id: str
    announced_by: str
    announced_at: datetime
    expires_at: datetime
    policy_id: str | None = None
    display_name: str | None = None
    partner_id: str | None = None
    ticket: str | None = None
    note: str | None = None
    used_at: datetime | None = None  # when a deletion last counted as planned because of it
    used_by: list[str] = field(default_factory=list)  # the policies whose deletion it covered

    def covers(self, policy: ClassicPolicy, at: datetime) -> bool:
        if not self.announced_at <= at <= self.expires_at:
            return False  # announced after the fact, or long expired
        if self.policy_id and policy.policy_id and self.policy_id.lower() == policy.policy_id.lower():
            return True
        if self.display_name and self.display_name.casefold() == policy.display_name.casefold():
            return True
        return bool(self.partner_id and policy.partner_id and self.partner_id == policy.partner_id)

    @property
    def target(self) -> str:
        parts = [
            f"policy {self.policy_id}" if self.policy_id else "",
            f"'{self.display_name}'" if self.display_name else "",
            f"every classic policy of {catalog.by_id(self.partner_id).name}" if self.partner_id else "",
        ]
        return ", ".join(p for p in parts if p)


# -- partners -------------------------------------------------------------------------------------

# Names a classic policy may carry for each partner, beyond the catalog's own (older product names).
_ALIASES: dict[str, tuple[str, ...]] = {
    "defender": ("Defender for Endpoint", "Defender ATP", "Windows Defender"),
    "lookout": ("Lookout",),
    "symantec": ("Symantec", "Broadcom"),
    "checkpoint": ("Check Point", "SandBlast"),
    "zimperium": ("Zimperium",),
    "pradeo": ("Pradeo",),
    "better": ("BETTER Mobile",),
    "sophos": ("Sophos",),
    "jamf": ("Jamf", "Wandera"),
    "blackberry": ("BlackBerry", "Cylance"),
    "trendmicro": ("Trend Micro",),
    "sentinelone": ("SentinelOne",),
    "crowdstrike": ("CrowdStrike",),
    "trellix": ("Trellix",),
}
GENERIC_NAMES = ("Mobile Threat Defense", "MTD")
PARTNER_PATTERNS = "@partners"


def partner_of(display_name: str) -> catalog.Partner | None:
    """The catalog partner a policy name mentions (longest match wins), else None."""
    lowered = display_name.casefold()
    best: tuple[int, catalog.Partner] | None = None
    for partner in catalog.partners():
        for name in (partner.name, *_ALIASES.get(partner.slug, ())):
            if name.casefold() in lowered and (best is None or len(name) > best[0]):
                best = (len(name), partner)
    return best[1] if best else None


def partner_patterns() -> tuple[str, ...]:
    names = {n for p in catalog.partners() for n in (p.name, *_ALIASES.get(p.slug, ()))}
    return tuple(sorted(f"*{n.casefold()}*" for n in (*names, *GENERIC_NAMES)))


# -- matching audit events (configurable: Microsoft does not document how classic changes log) -----


@dataclass(frozen=True)
class PropertyRule:
    """``Key=value|value``: a modified property named Key, or a Key inside its JSON, with a value."""

    key: str
    values: frozenset[str]  # case-folded

    @classmethod
    def parse(cls, setting: str, text: str) -> PropertyRule:
        key, sep, values = text.partition("=")
        wanted = frozenset(v.strip().casefold() for v in values.split("|") if v.strip())
        if not sep or not key.strip() or not wanted:
            raise ValueError(f"{setting} {text!r} is not 'Property=value' (alternatives with '|')")
        return cls(key.strip(), wanted)

    def found_in(self, properties: Iterable[tuple[str, str | None]]) -> bool:
        """Whether any (property name, JSON text) carries the key with one of the values."""
        for name, text in properties:
            decoded = decode_value(text)
            candidates = list(values_of(decoded, self.key))
            if name.casefold() == self.key.casefold():
                candidates.append(decoded)
            if any(s in self.values for c in candidates for s in _scalars(c)):
                return True
        return False

    def __str__(self) -> str:
        return f"{self.key}={'|'.join(sorted(self.values))}"


def _scalars(value: Any) -> Iterable[str]:
    if isinstance(value, list):
        for item in value:
            yield from _scalars(item)
    elif isinstance(value, str | int | float):  # bool is an int: True reads "true"
        yield str(value).casefold()


def _csv(text: str) -> list[str]:
    return [part.strip() for part in text.split(",") if part.strip()]


@dataclass(frozen=True)
class AuditMatching:
    """Which audit events are changes to classic MTD policies, and what kind of change.

    An event counts when it succeeded, was logged by one of ``services`` in one of ``categories``,
    its activity is one of ``activities``, and it targets a policy that is in the baseline, or whose
    display name matches ``name_patterns``, or that carries ``policy_type``. An update is a
    ``disabled`` change when ``disabled_when`` appears in the new values and not in the old.
    """

    services: tuple[str, ...]  # as configured; compared case-insensitively; "*" = any
    categories: tuple[str, ...]
    activities: Mapping[str, Drift]  # case-folded activity name -> change
    name_patterns: tuple[str, ...]  # case-folded globs
    policy_type: PropertyRule | None
    disabled_when: PropertyRule | None

    @classmethod
    def parse(
        cls,
        *,
        services: str,
        categories: str,
        activities: str,
        name_patterns: str,
        policy_type: str | None,
        disabled_when: str | None,
    ) -> AuditMatching:
        """From the app settings' text; raises ValueError naming the setting and the problem."""
        return cls(
            services=tuple(_csv(services)),
            categories=tuple(_csv(categories)),
            activities=parse_activities(activities),
            name_patterns=parse_name_patterns(name_patterns),
            policy_type=PropertyRule.parse("CA_CLASSIC_POLICY_TYPE", policy_type) if policy_type else None,
            disabled_when=PropertyRule.parse("CA_CLASSIC_DISABLED_WHEN", disabled_when)
            if disabled_when
            else None,
        )

    @property
    def server_filter(self) -> dict[str, str]:
        """Equality filters Graph can apply itself (only when one value is configured)."""
        found = {}
        if len(self.services) == 1 and "*" not in self.services:
            found["loggedByService"] = self.services[0]
        if len(self.categories) == 1 and "*" not in self.categories:
            found["category"] = self.categories[0]
        return found

    def _logged_as_configured(self, event: AuditEvent) -> bool:
        return _allowed(self.services, event.service) and _allowed(self.categories, event.category)

    def looks_classic(self, target: AuditTarget) -> str | None:
        """Why a target not in the baseline counts as a classic MTD policy, or None."""
        name = (target.display_name or "").casefold()
        if name and any(fnmatch.fnmatchcase(name, p) for p in self.name_patterns):
            return "display name pattern"
        props = [(p.name, t) for p in target.modified for t in (p.new_value, p.old_value)]
        if self.policy_type is not None and self.policy_type.found_in(props):
            return f"policy type {self.policy_type}"
        return None

    def drift_of(self, event: AuditEvent, target: AuditTarget) -> Drift | None:
        drift = self.activities.get(event.activity.casefold())
        if drift is Drift.MODIFIED and self.disabled_when is not None:
            new = [(p.name, p.new_value) for p in target.modified]
            old = [(p.name, p.old_value) for p in target.modified]
            if self.disabled_when.found_in(new) and not self.disabled_when.found_in(old):
                return Drift.DISABLED
        return drift


def _allowed(allowed: tuple[str, ...], value: str | None) -> bool:
    return "*" in allowed or (value or "").casefold() in {a.casefold() for a in allowed}


def parse_activities(text: str) -> dict[str, Drift]:
    found: dict[str, Drift] = {}
    for part in _csv(text):
        name, sep, kind = part.rpartition("=")
        try:
            drift = Drift(kind.strip().lower())
        except ValueError:
            drift = None
        if not sep or not name.strip() or drift is None:
            raise ValueError(
                f"CA_AUDIT_ACTIVITIES entry {part!r} is not 'Activity name=change' with change one of "
                + ", ".join(d.value for d in Drift)
            )
        found[name.strip().casefold()] = drift
    if not found:
        raise ValueError("CA_AUDIT_ACTIVITIES names no activity")
    return found


def parse_name_patterns(text: str) -> tuple[str, ...]:
    patterns: list[str] = []
    for part in _csv(text):
        patterns.extend(partner_patterns() if part.lower() == PARTNER_PATTERNS else [part.casefold()])
    return tuple(patterns)


@dataclass(frozen=True)
class ClassicChange:
    """One change to one classic policy, from either source."""

    drift: Drift
    policy_id: str | None
    display_name: str
    at: datetime
    source: str  # "audit" | "import"
    by: str | None = None  # who did it (audit) or who imported the inventory
    event_id: str | None = None
    evidence: str = ""  # how it was recognised and what changed, for people
    content_hash: str | None = None
    partner_id: str | None = None  # from the inventory, when the admin named it
    new_state: PolicyState | None = None


def changes_from_event(
    event: AuditEvent, matching: AuditMatching, baseline: Mapping[str, ClassicPolicy]
) -> list[ClassicChange]:
    """The classic-policy changes one audit event records (usually none)."""
    if not event.succeeded or not matching._logged_as_configured(event):
        return []
    found = []
    for target in event.targets:
        if target.type and target.type.casefold() != "policy":
            continue
        known = find_policy(baseline, target.id, target.display_name)
        why = "its baseline entry" if known is not None else matching.looks_classic(target)
        drift = matching.drift_of(event, target)
        if why is None or drift is None:
            continue
        name = target.display_name or (known.display_name if known else None) or target.id or "?"
        changed = ", ".join(sorted({p.name for p in target.modified if p.name})) or "nothing listed"
        found.append(
            ClassicChange(
                drift=drift,
                policy_id=target.id or (known.policy_id if known else None),
                display_name=name,
                at=event.activity_at,
                source="audit",
                by=event.initiated_by,
                event_id=event.id,
                evidence=f"audit event '{event.activity}' ({event.id}), recognised by {why}; "
                f"modified properties: {changed}",
                new_state={
                    Drift.DISABLED: PolicyState.DISABLED,
                    Drift.DELETED: PolicyState.DELETED,
                }.get(drift),
            )
        )
    return found


# -- the baseline -----------------------------------------------------------------------------------


def policy_key(policy_id: str | None, display_name: str) -> str:
    if policy_id:
        return policy_id.strip().lower()
    return "name-" + hashlib.sha256(display_name.strip().casefold().encode()).hexdigest()[:16]


def find_policy(
    baseline: Mapping[str, ClassicPolicy], policy_id: str | None, display_name: str | None
) -> ClassicPolicy | None:
    """By id first; else by name among policies whose id is not known (imported by name only)."""
    if policy_id and (found := baseline.get(policy_id.lower())):
        return found
    if display_name:
        wanted = display_name.casefold()
        for policy in baseline.values():
            if policy.policy_id is None and policy.display_name.casefold() == wanted:
                return policy
    return None


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
    known = find_policy(baseline, change.policy_id, change.display_name)
    key = policy_key(change.policy_id, change.display_name)
    partner = (
        catalog.by_id(change.partner_id)
        if change.partner_id
        else (
            catalog.by_id(known.partner_id) if known and known.partner_id else partner_of(change.display_name)
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
        f"on {_when(change.at)} {_who(change)}"
    )
    if planned and removal is not None:
        ticket = f", ticket {removal.ticket}" if removal.ticket else ""
        message += (
            f", as announced by {removal.announced_by} on {_when(removal.announced_at)}{ticket}: "
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
        "changedAt": _when(change.at),
        "changedBy": change.by,
        "source": change.source,
        "auditEventId": change.event_id,
    }


def _when(moment: datetime) -> str:
    return moment.isoformat(timespec="seconds").replace("+00:00", "Z")


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


def close(
    finding: Finding | None, message: str, title: str, now: datetime, channels: list[str]
) -> tuple[Finding | None, Alert | None]:
    """Resolve an active finding with one alert; nothing for a finding already closed or absent."""
    if finding is None or not finding.is_active:
        return None, None
    done = resolve(finding, message=message, now=now)
    return done, finding_alert(done, title, now, channels)


# -- hygiene and the audit log's retention ------------------------------------------------------------

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
        return close(
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
            f"The directory audit log was last read up to {_when(cursor.position)}, but it keeps "
            f"events for {retention_days} days only: changes to classic CA policies between "
            f"{_when(cursor.position)} and {_when(lost_until)} may have been missed."
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


# -- import: the inventory an admin copied from the Entra portal -------------------------------------

MAX_POLICIES = 500


class InvalidInventory(ValueError):
    def __init__(self, errors: list[str]) -> None:
        super().__init__("; ".join(errors))
        self.errors = errors


@dataclass(frozen=True)
class InventoryEntry:
    policy_id: str | None
    display_name: str
    state: PolicyState
    partner_id: str | None
    content_hash: str


@dataclass(frozen=True)
class Inventory:
    policies: list[InventoryEntry]
    exported_at: datetime | None = None
    exported_by: str | None = None


_INVENTORY_KEYS = {"exportedAt", "exportedBy", "policies"}
_POLICY_KEYS = {"id", "displayName", "state", "partner", "details"}


def content_hash(display_name: str, details: Any) -> str:
    canonical = json.dumps(
        {"displayName": display_name, "details": details}, sort_keys=True, separators=(",", ":")
    )
    return hashlib.sha256(canonical.encode()).hexdigest()[:16]


def parse_inventory(body: Any, now: datetime) -> Inventory:
    """Validate an inventory; raises InvalidInventory listing every problem with its JSON path."""
    if not isinstance(body, dict):
        raise InvalidInventory(["$: must be a JSON object with a 'policies' array"])
    errors = [
        f"$.{k}: unknown field (allowed: {', '.join(sorted(_INVENTORY_KEYS))})"
        for k in body
        if k not in _INVENTORY_KEYS
    ]
    exported_at = None
    if "exportedAt" in body:
        raw = body["exportedAt"]
        exported_at = _date_time(raw)
        if exported_at is None:
            errors.append("$.exportedAt: must be a date-time with its offset, such as 2026-11-20T09:00:00Z")
        elif exported_at > now + timedelta(minutes=5):
            errors.append("$.exportedAt: lies in the future")
        elif exported_at.year < 2015:  # before MTD connectors existed (and before what storage keeps well)
            errors.append("$.exportedAt: lies before 2015")
    exported_by = body.get("exportedBy")
    if "exportedBy" in body and (not isinstance(exported_by, str) or len(exported_by) > 256):
        errors.append("$.exportedBy: must be text of at most 256 characters")
    policies = body.get("policies")
    if not isinstance(policies, list):
        raise InvalidInventory(
            [*errors, "$.policies: required, an array (empty when no classic policy exists)"]
        )
    if len(policies) > MAX_POLICIES:
        errors.append(f"$.policies: more than {MAX_POLICIES} entries")
    entries: list[InventoryEntry] = []
    seen: set[str] = set()
    for index, item in enumerate(policies[:MAX_POLICIES]):
        entry = _entry(item, f"$.policies[{index}]", errors)
        if entry is None:
            continue
        key = policy_key(entry.policy_id, entry.display_name)
        if key in seen:
            errors.append(f"$.policies[{index}]: the same policy is listed twice ({entry.display_name!r})")
        seen.add(key)
        entries.append(entry)
    if errors:
        raise InvalidInventory(errors)
    return Inventory(entries, exported_at, exported_by if isinstance(exported_by, str) else None)


def _entry(item: Any, path: str, errors: list[str]) -> InventoryEntry | None:
    if not isinstance(item, dict):
        errors.append(f"{path}: must be a JSON object")
        return None
    count = len(errors)
    errors.extend(
        f"{path}.{k}: unknown field (allowed: {', '.join(sorted(_POLICY_KEYS))})"
        for k in item
        if k not in _POLICY_KEYS
    )
    name = item.get("displayName")
    if not isinstance(name, str) or not name.strip() or len(name) > 256:
        errors.append(f"{path}.displayName: required, text of 1 to 256 characters")
    policy_id = item.get("id")
    if "id" in item and (not isinstance(policy_id, str) or not _is_guid(policy_id)):
        errors.append(f"{path}.id: must be the policy's object id (a GUID) when given")
    state = item.get("state")
    if state not in ("enabled", "disabled"):
        errors.append(f"{path}.state: required, 'enabled' or 'disabled'")
    partner_id = None
    if "partner" in item:
        raw = item["partner"]
        partner_id = catalog.resolve(raw) if isinstance(raw, str) else None
        if partner_id is None or not catalog.by_id(partner_id).known:
            slugs = ", ".join(p.slug for p in catalog.partners())
            errors.append(
                f"{path}.partner: not a known partner; use a slug ({slugs}) or a connector id, "
                "or leave it out"
            )
    if len(errors) > count:
        return None
    assert isinstance(name, str) and isinstance(state, str)
    return InventoryEntry(
        policy_id=policy_id.strip() if isinstance(policy_id, str) else None,
        display_name=name.strip(),
        state=PolicyState(state),
        partner_id=partner_id,
        content_hash=content_hash(name.strip(), item.get("details")),
    )


GUID_PATTERN = r"^[0-9a-fA-F]{8}-([0-9a-fA-F]{4}-){3}[0-9a-fA-F]{12}$"


def _is_guid(value: str) -> bool:
    return re.fullmatch(GUID_PATTERN, value) is not None


def _date_time(value: Any) -> datetime | None:
    """An RFC 3339 date-time (date, 'T', time, offset); None for anything else."""
    if not isinstance(value, str) or not re.fullmatch(
        r"\d{4}-\d\d-\d\d[Tt]\d\d:\d\d:\d\d(\.\d+)?([Zz]|[+-]\d\d:\d\d)", value
    ):
        return None
    return parse_timestamp(value.upper())


def diff_inventory(
    inventory: Inventory,
    baseline: Mapping[str, ClassicPolicy],
    *,
    first_import: bool,
    by: str,
    now: datetime,
) -> tuple[list[ClassicChange], list[ClassicChange]]:
    """(drift, quiet updates): what the inventory says changed against the baseline.

    The first import only sets the baseline (every entry a quiet update). Later ones are compared:
    a known policy missing from the inventory was deleted; ``disabled`` / details changed; a new
    one was added. Entries with nothing to report are quiet updates that refresh the baseline.
    """
    at = inventory.exported_at or now
    drift: list[ClassicChange] = []
    quiet: list[ClassicChange] = []
    matched: set[str] = set()
    for entry in inventory.policies:
        known = find_policy(baseline, entry.policy_id, entry.display_name)
        if known is not None:
            matched.add(known.key)
        kind: Drift | None = None
        evidence = "listed in the imported inventory"
        if first_import:
            kind = None
        elif known is None or not known.exists:
            kind = Drift.ADDED
        elif entry.state is PolicyState.DISABLED and known.state is not PolicyState.DISABLED:
            kind = Drift.DISABLED
            evidence = f"state {known.state.value} -> disabled in the imported inventory"
        elif known.content_hash is not None and known.content_hash != entry.content_hash:
            kind = Drift.MODIFIED
            evidence = "its name or details differ from the baseline in the imported inventory"
        change = ClassicChange(
            drift=kind or Drift.MODIFIED,
            policy_id=entry.policy_id or (known.policy_id if known else None),
            display_name=entry.display_name,
            at=at,
            source="import",
            by=by,
            evidence=evidence,
            content_hash=entry.content_hash,
            partner_id=entry.partner_id,
            new_state=entry.state,
        )
        (drift if kind is not None else quiet).append(change)
    if not first_import:
        for policy in baseline.values():
            if policy.exists and policy.key not in matched:
                drift.append(
                    ClassicChange(
                        drift=Drift.DELETED,
                        policy_id=policy.policy_id,
                        display_name=policy.display_name,
                        at=at,
                        source="import",
                        by=by,
                        evidence="in the baseline but missing from the imported inventory",
                        new_state=PolicyState.DELETED,
                    )
                )
    return drift, quiet


def refreshed(
    policy: ClassicPolicy | None, change: ClassicChange, *, tenant_id: str, now: datetime
) -> ClassicPolicy:
    """The baseline row after an import entry with nothing to report (no finding)."""
    partner = catalog.by_id(change.partner_id) if change.partner_id else partner_of(change.display_name)
    if policy is not None and policy.partner_id and not change.partner_id:
        partner = catalog.by_id(policy.partner_id)
    return ClassicPolicy(
        tenant_id=tenant_id,
        key=policy_key(change.policy_id, change.display_name),
        policy_id=change.policy_id,
        display_name=change.display_name,
        state=change.new_state or PolicyState.UNKNOWN,
        partner_id=partner.id if partner else None,
        partner=partner.name if partner else None,
        content_hash=change.content_hash,
        source=policy.source if policy else "import",
        first_seen=policy.first_seen if policy else now,
        updated_at=now,
        last_change=policy.last_change if policy else f"imported by {change.by}",
    )


# -- planned removals ---------------------------------------------------------------------------------

MAX_REMOVAL_DAYS = 90
DEFAULT_REMOVAL_DAYS = 30
_REMOVAL_KEYS = {"policyId", "displayName", "partner", "ticket", "note", "expiresInDays"}


def parse_removal(body: Any, *, tenant_id: str, who: str, now: datetime) -> PlannedRemoval:
    """Validate an announcement; raises InvalidInventory (same shape of errors) on problems."""
    if not isinstance(body, dict):
        raise InvalidInventory(["$: must be a JSON object"])
    errors = [
        f"$.{k}: unknown field (allowed: {', '.join(sorted(_REMOVAL_KEYS))})"
        for k in body
        if k not in _REMOVAL_KEYS
    ]
    texts: dict[str, str | None] = {}
    for name, limit in (("policyId", 64), ("displayName", 256), ("ticket", 128), ("note", 1000)):
        value = body.get(name)
        if name in body and (not isinstance(value, str) or not value.strip() or len(value) > limit):
            errors.append(f"$.{name}: must be text of 1 to {limit} characters")
            value = None
        texts[name] = value.strip() if isinstance(value, str) else None
    if texts["policyId"] and not _is_guid(str(body["policyId"])):
        errors.append("$.policyId: must be the policy's object id (a GUID)")
    partner_id = None
    if "partner" in body:
        raw = body["partner"]
        partner_id = catalog.resolve(raw) if isinstance(raw, str) else None
        if partner_id is None or not catalog.by_id(partner_id).known:
            errors.append("$.partner: not a known partner slug or connector id")
            partner_id = None
    days = body.get("expiresInDays", DEFAULT_REMOVAL_DAYS)
    if isinstance(days, bool) or not isinstance(days, int) or not 1 <= days <= MAX_REMOVAL_DAYS:
        errors.append(f"$.expiresInDays: a whole number of days from 1 to {MAX_REMOVAL_DAYS}")
        days = DEFAULT_REMOVAL_DAYS
    if not (texts["policyId"] or texts["displayName"] or partner_id) and not errors:
        errors.append("$: name what will be removed: policyId, displayName or partner (at least one)")
    if errors:
        raise InvalidInventory(errors)
    return PlannedRemoval(
        tenant_id=tenant_id,
        id=str(uuid.uuid4()),
        announced_by=who,
        announced_at=now,
        expires_at=now + timedelta(days=days),
        policy_id=texts["policyId"].lower() if texts["policyId"] else None,
        display_name=texts["displayName"],
        partner_id=partner_id,
        ticket=texts["ticket"],
        note=texts["note"],
    )
