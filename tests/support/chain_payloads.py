"""Realistic Graph payloads of the enforcement chain: device compliance policies (with
assignments) and app protection policies, shaped like Graph's schemas (the simulator's fidelity
test parses them with msgraph-sdk's v1.0 models)."""

from __future__ import annotations

from typing import Any

ALL_DEVICES = {"@odata.type": "#microsoft.graph.allDevicesAssignmentTarget"}


def group(group_id: str) -> dict[str, Any]:
    return {"@odata.type": "#microsoft.graph.groupAssignmentTarget", "groupId": group_id}


def excluded(group_id: str) -> dict[str, Any]:
    return {"@odata.type": "#microsoft.graph.exclusionGroupAssignmentTarget", "groupId": group_id}


def assignments(*targets: dict[str, Any]) -> list[dict[str, Any]]:
    return [{"id": f"assignment-{n}", "target": t} for n, t in enumerate(targets)]


def compliance_policy(
    policy_id: str,
    odata_type: str,
    name: str,
    *,
    rule: bool = True,
    level: str = "low",
    targets: tuple[dict[str, Any], ...] = (ALL_DEVICES,),
) -> dict[str, Any]:
    return {
        "id": policy_id,
        "@odata.type": f"#microsoft.graph.{odata_type}",
        "displayName": name,
        "description": None,
        "lastModifiedDateTime": "now-2d",
        "deviceThreatProtectionEnabled": rule,
        "deviceThreatProtectionRequiredSecurityLevel": level,
        "assignments": assignments(*targets),
    }


def app_protection(
    policy_id: str,
    name: str,
    *,
    level: str = "low",
    action: str = "block",
    targets: tuple[dict[str, Any], ...] = (group("5e7a0000-0000-4000-8000-00000000a11e"),),
) -> dict[str, Any]:
    return {
        "id": policy_id,
        "displayName": name,
        "description": None,
        "lastModifiedDateTime": "now-2d",
        "maximumAllowedDeviceThreatLevel": level,
        "mobileThreatDefenseRemediationAction": action,
        "assignments": assignments(*targets),
    }
