"""Graph's ``conditionalAccessPolicy``, reduced to what MTD enforcement depends on: the read model.

Mapped from the JSON of ``GET /identity/conditionalAccess/policies`` (Policy.Read.All). Lenient on
purpose: one unreadable property must not fail the whole list, so odd values read as "absent"
and only an entry with no id at all is rejected (``MalformedPolicy``). Pure, standard library only.
"""

from __future__ import annotations

import hashlib
import json
from dataclasses import dataclass
from typing import Any

# Graph's values (grantControls.builtInControls, state)
COMPLIANT_DEVICE = "compliantDevice"
ENABLED = "enabled"
DISABLED = "disabled"
REPORT_ONLY = "enabledForReportingButNotEnforced"


BLOCK = "block"
ALL = "all"  # Graph writes "All" in users and applications, "all" in platforms and client app types
NONE = "none"


@dataclass(frozen=True)
class Scope:
    """Who or what a condition includes and excludes (users: users, groups, roles, guests;
    applications: application ids), values as Graph sent them ("All", "None", ids)."""

    include: tuple[str, ...] = ()
    exclude: tuple[str, ...] = ()

    @property
    def everyone(self) -> bool:
        """Includes "All" (case-insensitive)."""
        return any(v.casefold() == ALL for v in self.include)

    @property
    def no_one(self) -> bool:
        """Includes nothing but "None" (or nothing at all)."""
        return all(v.casefold() == NONE for v in self.include)


EVERYONE = Scope(("All",))


class MalformedPolicy(ValueError):
    """An entry of Graph's list that is not a policy at all (no id, not an object)."""


@dataclass(frozen=True)
class CaPolicy:
    """One modern policy as Graph reports it, reduced to what enforcement depends on."""

    id: str
    display_name: str  # the id when Graph sends no name
    state: str | None  # enabled | disabled | enabledForReportingButNotEnforced; None: absent
    controls: tuple[str, ...]  # grantControls.builtInControls, e.g. ("compliantDevice", "mfa")
    operator: str | None  # grantControls.operator: "AND" | "OR"
    include_platforms: tuple[str, ...] | None  # None: no platform condition (every platform)
    exclude_platforms: tuple[str, ...]
    modified_at: str | None  # modifiedDateTime as Graph sent it
    content_hash: str  # 16 hex digits over name, state, conditions, grant and session controls
    # The grant's other controls, each a way in under OR: "custom control X", "terms of use X",
    # "authentication strength X" (customAuthenticationFactors, termsOfUse, authenticationStrength).
    other_controls: tuple[str, ...] = ()
    client_app_types: tuple[str, ...] = ()  # conditions.clientAppTypes; () when absent
    users: Scope = EVERYONE  # conditions.users; absent reads as everyone (Graph always sends it)
    applications: Scope = EVERYONE  # conditions.applications (ids, "All", "Office365", "None")
    user_actions: tuple[str, ...] = ()  # conditions.applications.includeUserActions
    auth_contexts: tuple[str, ...] = ()  # ...includeAuthenticationContextClassReferences
    device_filter: str | None = None  # conditions.devices.deviceFilter as "mode: rule"

    @property
    def has_compliant_device(self) -> bool:
        """``compliantDevice`` is among the grant controls (required or merely one option)."""
        return COMPLIANT_DEVICE in self.controls

    @property
    def enforcing(self) -> bool:
        """On (not off, not report-only) and granting only with a compliant device."""
        return self.state == ENABLED and self.requires_compliant_device

    @property
    def alternatives(self) -> tuple[str, ...]:
        """Every grant control other than compliantDevice (and block, which lets no one in), in
        Graph's words: under OR each is a way in without a compliant device."""
        others = tuple(c for c in self.controls if c not in (COMPLIANT_DEVICE, BLOCK))
        return others + self.other_controls

    @property
    def requires_compliant_device(self) -> bool:
        """Access is impossible without a compliant device: ``grantControls.operator`` combines
        ALL grant controls (built-in, custom, terms of use, authentication strength), so under OR
        (or no operator) any other control is a way in without one."""
        if not self.has_compliant_device:
            return False
        return (self.operator or "").upper() == "AND" or not self.alternatives

    def covers(self, platform: str) -> bool:
        """The policy applies to devices of ``platform`` (a CA platform name such as "iOS";
        case-insensitive), judged from its include/exclude platform conditions."""
        excluded = {p.casefold() for p in self.exclude_platforms}
        if platform.casefold() in excluded or "all" in excluded:
            return False
        if self.include_platforms is None:
            return True
        included = {p.casefold() for p in self.include_platforms}
        return "all" in included or platform.casefold() in included


def _strings(value: Any) -> tuple[str, ...]:
    return tuple(v for v in value if isinstance(v, str)) if isinstance(value, list) else ()


def _object(value: Any) -> dict[str, Any] | None:
    return value if isinstance(value, dict) else None


def _users(users: dict[str, Any] | None) -> Scope:
    if users is None:
        return EVERYONE
    include = [*_strings(users.get("includeUsers")), *_strings(users.get("includeGroups"))]
    include += _strings(users.get("includeRoles"))
    exclude = [*_strings(users.get("excludeUsers")), *_strings(users.get("excludeGroups"))]
    exclude += _strings(users.get("excludeRoles"))
    for key, into in (("includeGuestsOrExternalUsers", include), ("excludeGuestsOrExternalUsers", exclude)):
        if _object(users.get(key)):
            into.append("guests or external users")
    return Scope(tuple(include), tuple(exclude))


def _applications(apps: dict[str, Any] | None) -> Scope:
    if apps is None:
        return EVERYONE
    return Scope(_strings(apps.get("includeApplications")), _strings(apps.get("excludeApplications")))


def _other_controls(grant: dict[str, Any]) -> tuple[str, ...]:
    found = [f"custom control {c}" for c in _strings(grant.get("customAuthenticationFactors"))]
    found += [f"terms of use {t}" for t in _strings(grant.get("termsOfUse"))]
    strength = _object(grant.get("authenticationStrength"))
    if strength is not None:
        name = strength.get("displayName") or strength.get("id") or "?"
        found.append(f"authentication strength '{name}'")
    return tuple(found)


def _device_filter(conditions: dict[str, Any]) -> str | None:
    devices = _object(conditions.get("devices")) or {}
    rule = _object(devices.get("deviceFilter")) or {}
    text = rule.get("rule")
    if not isinstance(text, str) or not text.strip():
        return None
    mode = rule.get("mode") if isinstance(rule.get("mode"), str) else "include"
    return f"{mode}: {text.strip()}"


def policy_from_graph(item: Any) -> CaPolicy:
    """Map one element of Graph's ``value`` array; raises MalformedPolicy when it has no id."""
    if not isinstance(item, dict):
        raise MalformedPolicy(f"expected a JSON object, got {type(item).__name__}")
    policy_id = item.get("id")
    if not isinstance(policy_id, str) or not policy_id.strip():
        raise MalformedPolicy("policy entry has no id")
    grant = _object(item.get("grantControls")) or {}
    conditions = _object(item.get("conditions")) or {}
    platforms = _object(conditions.get("platforms"))
    apps = _object(conditions.get("applications"))
    include = _strings(platforms.get("includePlatforms")) if platforms else None
    name = item.get("displayName")
    hashed = {
        k: item.get(k) for k in ("displayName", "state", "conditions", "grantControls", "sessionControls")
    }
    return CaPolicy(
        id=policy_id.strip(),
        display_name=name if isinstance(name, str) and name else policy_id,
        state=item.get("state") if isinstance(item.get("state"), str) else None,
        controls=_strings(grant.get("builtInControls")),
        operator=grant.get("operator") if isinstance(grant.get("operator"), str) else None,
        include_platforms=include if include else None,
        exclude_platforms=_strings(platforms.get("excludePlatforms")) if platforms else (),
        modified_at=item.get("modifiedDateTime") if isinstance(item.get("modifiedDateTime"), str) else None,
        content_hash=hashlib.sha256(json.dumps(hashed, sort_keys=True).encode()).hexdigest()[:16],
        other_controls=_other_controls(grant),
        client_app_types=_strings(conditions.get("clientAppTypes")),
        users=_users(_object(conditions.get("users"))),
        applications=_applications(apps),
        user_actions=_strings((apps or {}).get("includeUserActions")),
        auth_contexts=_strings((apps or {}).get("includeAuthenticationContextClassReferences")),
        device_filter=_device_filter(conditions),
    )
