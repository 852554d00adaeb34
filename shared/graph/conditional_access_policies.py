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

    @property
    def has_compliant_device(self) -> bool:
        """``compliantDevice`` is among the grant controls (required or merely one option)."""
        return COMPLIANT_DEVICE in self.controls

    @property
    def enforcing(self) -> bool:
        """On (not off, not report-only) and granting with ``compliantDevice``."""
        return self.state == ENABLED and self.has_compliant_device

    @property
    def requires_compliant_device(self) -> bool:
        """Access is impossible without a compliant device (not one option among others)."""
        if not self.has_compliant_device:
            return False
        return (self.operator or "").upper() == "AND" or set(self.controls) == {COMPLIANT_DEVICE}

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
    )
