"""Graph's ``deviceCompliancePolicy`` (with its assignments), reduced to the Device Threat Level
rule: the read model of the compliance link of the MTD chain.

Mapped from the JSON of ``GET /deviceManagement/deviceCompliancePolicies?$expand=assignments``
(DeviceManagementConfiguration.Read.All). Each entry's ``@odata.type`` names its platform type.
Which types carry the rule (``deviceThreatProtectionEnabled`` and
``deviceThreatProtectionRequiredSecurityLevel``), per msgraph-sdk 1.65 (v1.0) and Microsoft's beta
reference:

================================================  ========  ==================  ==========
@odata.type                                        platform  v1.0                beta
================================================  ========  ==================  ==========
androidCompliancePolicy (device administrator)    Android   rule                rule
androidWorkProfileCompliancePolicy                Android   rule                rule
androidDeviceOwnerCompliancePolicy (fully         Android   not in the schema   rule
managed, dedicated, corporate-owned work profile)
androidForWorkCompliancePolicy (legacy)           Android   not in the schema   rule
iosCompliancePolicy                               iOS       rule                rule
macOSCompliancePolicy                             macOS     rule                rule
windows10CompliancePolicy                         Windows   no rule fields      rule
================================================  ========  ==================  ==========

A v1.0 read therefore cannot see the rule of Windows policies nor of Android Enterprise fully
managed/dedicated ones: such a policy reads ``rule_visible=False`` ("cannot see", never "off").
Whether Graph v1.0 lists beta-only types at all is unconfirmed; they are accepted either way.
Lenient like the other read models: an odd property reads as absent; only an entry without id or
``@odata.type`` is rejected (``MalformedCompliancePolicy``). Pure, standard library only.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

from shared.graph.entries import MAX_ID, MAX_TEXT, bounded

# Graph's deviceThreatProtectionLevel values that switch the rule off in effect
NOT_A_LEVEL = frozenset({"notSet", "unavailable"})
# Strictest first: "secured" allows no threat at all, "high" allows up to high.
LEVELS = ("secured", "low", "medium", "high")


@dataclass(frozen=True)
class PolicyType:
    """What an ``@odata.type`` means: the CA platform name, the admin center's words, and in which
    Graph versions its schema has the Device Threat Level rule."""

    platform: str  # "android" | "iOS" | "macOS" | "windows" (Conditional Access platform names)
    label: str
    rule_in: frozenset[str]  # API versions whose schema has the rule's properties


_BOTH = frozenset({"v1.0", "beta"})
_BETA = frozenset({"beta"})
TYPES: dict[str, PolicyType] = {
    "androidCompliancePolicy": PolicyType("android", "Android device administrator", _BOTH),
    "androidWorkProfileCompliancePolicy": PolicyType(
        "android", "Android Enterprise personally-owned work profile", _BOTH
    ),
    "androidDeviceOwnerCompliancePolicy": PolicyType(
        "android", "Android Enterprise fully managed, dedicated and corporate-owned work profile", _BETA
    ),
    "androidForWorkCompliancePolicy": PolicyType("android", "Android for Work (legacy)", _BETA),
    "iosCompliancePolicy": PolicyType("iOS", "iOS/iPadOS", _BOTH),
    "macOSCompliancePolicy": PolicyType("macOS", "macOS", _BOTH),
    "windows10CompliancePolicy": PolicyType("windows", "Windows 10 and later", _BETA),
}


class MalformedCompliancePolicy(ValueError):
    """An entry of Graph's list that is not a compliance policy (no id, no @odata.type)."""


@dataclass(frozen=True)
class CompliancePolicy:
    """One compliance policy, reduced to its platform, its threat rule and whether it is assigned."""

    id: str
    display_name: str
    odata_type: str  # without "#microsoft.graph.", e.g. "iosCompliancePolicy"
    platform: str | None  # None: a type without the rule (Windows 8.1, AOSP...) or unknown
    type_label: str
    rule_visible: bool  # this read's schema has the rule's properties (see the module table)
    threat_protection: bool | None  # deviceThreatProtectionEnabled (None: absent/not visible)
    required_level: str | None  # deviceThreatProtectionRequiredSecurityLevel as Graph sent it
    assigned: bool  # at least one assignment that includes someone (exclusions alone do not)
    targets: tuple[str, ...]  # the assignment targets, e.g. ("all devices", "group 1234...")
    modified_at: str | None = None

    @property
    def uses_threat_rule(self) -> bool:
        """The Device Threat Level rule is on with a real level (not notSet/unavailable)."""
        return bool(self.threat_protection) and self.required_level not in (None, *NOT_A_LEVEL)


def _text(value: Any) -> str | None:
    return bounded(value) if isinstance(value, str) and value else None


def targets_of(assignments: Any) -> tuple[tuple[str, ...], bool]:
    """(readable targets, assigned?) from an ``assignments`` array (compliance or app
    protection): assigned when a target other than an exclusion group is present."""
    found: list[str] = []
    included = False
    for item in assignments if isinstance(assignments, list) else ():
        target = item.get("target") if isinstance(item, dict) else None
        if not isinstance(target, dict):
            continue
        kind = str(target.get("@odata.type") or "").rsplit(".", 1)[-1]
        group = target.get("groupId") if isinstance(target.get("groupId"), str) else "?"
        if kind == "exclusionGroupAssignmentTarget":
            found.append(f"excluded group {group}")
            continue
        included = True
        found.append(
            {
                "allDevicesAssignmentTarget": "all devices",
                "allLicensedUsersAssignmentTarget": "all users",
                "groupAssignmentTarget": f"group {group}",
            }.get(kind, kind or "unknown target")
        )
    return tuple(bounded(t, 200) for t in found[:50]), included


def compliance_policy_from_graph(item: Any, api_version: str) -> CompliancePolicy:
    """Map one element of Graph's ``value`` array read through ``api_version`` ("v1.0" or
    "beta"); raises MalformedCompliancePolicy when it has no id or no @odata.type."""
    if not isinstance(item, dict):
        raise MalformedCompliancePolicy(f"expected a JSON object, got {type(item).__name__}")
    policy_id = item.get("id")
    if not isinstance(policy_id, str) or not policy_id.strip():
        raise MalformedCompliancePolicy("compliance policy entry has no id")
    raw_type = item.get("@odata.type")
    if not isinstance(raw_type, str) or not raw_type.strip():
        raise MalformedCompliancePolicy("compliance policy entry has no @odata.type")
    odata_type = raw_type.strip().lstrip("#").removeprefix("microsoft.graph.")
    known = TYPES.get(odata_type)
    enabled = item.get("deviceThreatProtectionEnabled")
    level = item.get("deviceThreatProtectionRequiredSecurityLevel")
    visible = known is not None and (api_version in known.rule_in or "deviceThreatProtectionEnabled" in item)
    targets, assigned = targets_of(item.get("assignments"))
    return CompliancePolicy(
        id=bounded(policy_id.strip(), MAX_ID),
        display_name=_text(item.get("displayName")) or policy_id,
        odata_type=bounded(odata_type, MAX_TEXT),
        platform=known.platform if known else None,
        type_label=known.label if known else odata_type,
        rule_visible=visible,
        threat_protection=enabled if isinstance(enabled, bool) else None,
        required_level=_text(level),
        assigned=assigned,
        targets=targets,
        modified_at=_text(item.get("lastModifiedDateTime")),
    )
