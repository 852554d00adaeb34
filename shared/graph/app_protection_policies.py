"""Graph's iOS/iPadOS and Android app protection policies (``iosManagedAppProtection``,
``androidManagedAppProtection``), reduced to their MTD settings: the read model of the app
protection link of the MTD chain (devices without enrollment).

Read from ``GET /deviceAppManagement/{ios|android}ManagedAppProtections?$expand=assignments``
(DeviceManagementApps.Read.All). The MTD settings exist in the **beta** schema only
(``maximumAllowedDeviceThreatLevel``: notConfigured | secured | low | medium | high;
``mobileThreatDefenseRemediationAction``: block | wipe | warn | blockWhenSettingIsSupported): a
v1.0 read cannot see them, so MTD Guard reads these policies only through beta and says
"cannot see" otherwise. Pure, standard library only.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

from shared.graph.compliance_policies import targets_of
from shared.graph.entries import MAX_ID, bounded

NOT_CONFIGURED = "notConfigured"
# collection (under /deviceAppManagement) -> CA platform name
COLLECTIONS = {"iosManagedAppProtections": "iOS", "androidManagedAppProtections": "android"}


class MalformedAppProtectionPolicy(ValueError):
    """An entry of Graph's list that is not a policy (no id, not an object)."""


@dataclass(frozen=True)
class AppProtectionPolicy:
    """One app protection policy: platform, maximum allowed device threat level, assignment."""

    id: str
    display_name: str
    platform: str  # "iOS" | "android"
    max_threat_level: str | None  # maximumAllowedDeviceThreatLevel as Graph sent it
    remediation_action: str | None  # mobileThreatDefenseRemediationAction
    assigned: bool
    targets: tuple[str, ...]

    @property
    def uses_threat_level(self) -> bool:
        """A maximum allowed device threat level is set (not notConfigured)."""
        return self.max_threat_level not in (None, NOT_CONFIGURED)


def _text(value: Any) -> str | None:
    return bounded(value, 200) if isinstance(value, str) and value else None


def app_protection_from_graph(item: Any, platform: str) -> AppProtectionPolicy:
    """Map one element of a ``value`` array of the ``platform`` collection; raises
    MalformedAppProtectionPolicy when it has no id."""
    if not isinstance(item, dict):
        raise MalformedAppProtectionPolicy(f"expected a JSON object, got {type(item).__name__}")
    policy_id = item.get("id")
    if not isinstance(policy_id, str) or not policy_id.strip():
        raise MalformedAppProtectionPolicy("app protection policy entry has no id")
    targets, assigned = targets_of(item.get("assignments"))
    return AppProtectionPolicy(
        id=bounded(policy_id.strip(), MAX_ID),
        display_name=_text(item.get("displayName")) or policy_id,
        platform=platform,
        max_threat_level=_text(item.get("maximumAllowedDeviceThreatLevel")),
        remediation_action=_text(item.get("mobileThreatDefenseRemediationAction")),
        assigned=assigned,
        targets=targets,
    )
