"""Which directory audit events are changes to classic MTD policies, and of what kind.

Configurable (``AuditMatching``, from app settings): Microsoft does not document how changes to
classic policies appear in the directory audit log. Pure."""

from __future__ import annotations

import fnmatch
import hashlib
from collections.abc import Iterable, Mapping
from dataclasses import dataclass
from datetime import datetime
from typing import Any

from shared import catalog
from shared.conditional_access.classic.rows import ClassicPolicy, Drift, PolicyState
from shared.graph.directory_audits import AuditEvent, AuditTarget, decode_value, values_of

PARTNER_PATTERNS = "@partners"  # in CA_CLASSIC_NAME_PATTERNS: every partner name and alias


@dataclass(frozen=True)
class PropertyRule:
    """``Key=value|value``: a modified property named Key, or a Key inside its JSON, with a value."""

    key: str
    values: frozenset[str]  # case-folded

    @classmethod
    def parse(cls, setting: str, text: str) -> PropertyRule:
        """A rule from the text of ``setting``, e.g. 'State=Disabled' (``CA_CLASSIC_DISABLED_WHEN``);
        raises ValueError naming ``setting`` when the text has no '=', no key or no value."""
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
        """What change ``event`` records for ``target`` (from its ``activityDisplayName``, by
        ``activities``), refined to ``disabled`` when ``disabled_when`` newly appears among the target's
        modified properties; None when the activity is not configured."""
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
    """``CA_AUDIT_ACTIVITIES`` ('Activity name=change, ...') as case-folded activity name ->
    change. Raises ValueError naming the entry that is not 'name=added|modified|disabled|deleted', or
    when the text names no activity."""
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
    """``CA_CLASSIC_NAME_PATTERNS`` (comma-separated globs) as case-folded patterns;
    '@partners' stands for every partner's name and aliases (``catalog.name_patterns``)."""
    patterns: list[str] = []
    for part in _csv(text):
        patterns.extend(catalog.name_patterns() if part.lower() == PARTNER_PATTERNS else [part.casefold()])
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


MODERN_SERVICE = "Conditional Access"  # loggedByService of modern policy changes


def modern_policy_ids(events: Iterable[AuditEvent]) -> set[str]:
    """Lower-case ids of the objects that modern Conditional Access audit events name (events
    logged by the service "Conditional Access"): whatever else logs them, they are modern."""
    return {
        t.id.lower()
        for e in events
        if (e.service or "").casefold() == MODERN_SERVICE.casefold()
        for t in e.targets
        if t.id
    }


def changes_from_event(
    event: AuditEvent,
    matching: AuditMatching,
    baseline: Mapping[str, ClassicPolicy],
    modern: frozenset[str] | set[str] = frozenset(),
) -> list[ClassicChange]:
    """The classic-policy changes one audit event records (usually none). ``modern`` holds the
    lower-case ids of known modern policies (Graph's list, the modern baseline, the modern audit
    events): Core Directory logs modern edits as "Update policy" too, so an object among them is
    never a classic policy, whatever its name."""
    if not event.succeeded or not matching._logged_as_configured(event):
        return []
    found = []
    for target in event.targets:
        if target.type and target.type.casefold() != "policy":
            continue
        if target.id and target.id.lower() in modern:
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


def policy_key(policy_id: str | None, display_name: str) -> str:
    """The baseline key of a classic policy: its object id in lower case, or 'name-' and a
    16-hex-digit hash of its case-folded name when only the name is known (an import by name)."""
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
