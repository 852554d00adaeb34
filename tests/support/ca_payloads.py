"""Realistic Graph payloads for Conditional Access drift tests: directory audit events and modern
policies, shaped like the v1.0 schema (the simulator's fidelity test parses them with msgraph-sdk).

Audit events follow what Entra ID writes for directory policy objects (service "Core Directory",
category "Policy", activities "Add/Update/Delete policy", ``modifiedProperties`` values as JSON
text). Whether classic CA policy changes are logged exactly so is unconfirmed by Microsoft; the
tests exercise MTD Guard's configurable matching against this shape.
"""

from __future__ import annotations

import copy
import json
import uuid
from typing import Any

from graphsim.conditional_access import DEFAULT_CONDITIONS

ADMIN = "admin@contoso.onmicrosoft.com"


def detail(state: str = "Enabled", **extra: Any) -> str:
    """A ``PolicyDetail`` value as the directory logs it: a JSON array of JSON text."""
    return json.dumps([json.dumps({"Version": 0, "State": state, **extra})])


def audit_event(
    activity: str,
    policy_id: str,
    name: str | None,
    at: str,
    *,
    event_id: str | None = None,
    service: str = "Core Directory",
    category: str = "Policy",
    result: str = "success",
    by: str | None = ADMIN,
    modified: list[tuple[str, str | None, str | None]] | None = None,
    target_type: str = "Policy",
) -> dict[str, Any]:
    operation = activity.split(maxsplit=1)[0] if activity else "Update"
    initiator: dict[str, Any] = {"app": None, "user": None}
    if by is not None:
        initiator["user"] = {
            "id": "7c6a4e9a-0000-4000-8000-0000000000ad",
            "displayName": None,
            "userPrincipalName": by,
            "ipAddress": "203.0.113.9",
        }
    return {
        "id": event_id or f"Directory_{uuid.uuid4()}",
        "category": category,
        "correlationId": str(uuid.uuid4()),
        "result": result,
        "resultReason": "",
        "activityDisplayName": activity,
        "activityDateTime": at,
        "loggedByService": service,
        "operationType": operation,
        "initiatedBy": initiator,
        "targetResources": [
            {
                "id": policy_id,
                "displayName": name,
                "type": target_type,
                "userPrincipalName": None,
                "groupType": None,
                "modifiedProperties": [
                    {"displayName": n, "oldValue": old, "newValue": new} for n, old, new in (modified or [])
                ],
            }
        ],
        "additionalDetails": [{"key": "User-Agent", "value": "Mozilla/5.0 (Windows NT 10.0)"}],
    }


def disabled_update(policy_id: str, name: str, at: str, **kw: Any) -> dict[str, Any]:
    return audit_event(
        "Update policy",
        policy_id,
        name,
        at,
        modified=[("PolicyDetail", detail("Enabled"), detail("Disabled"))],
        **kw,
    )


def edited_update(policy_id: str, name: str, at: str, **kw: Any) -> dict[str, Any]:
    return audit_event(
        "Update policy",
        policy_id,
        name,
        at,
        modified=[
            ("PolicyDetail", detail("Enabled"), detail("Enabled", Excluded=["group-1"])),
            ("DisplayName", json.dumps([name]), json.dumps([name])),
        ],
        **kw,
    )


def ca_policy(
    policy_id: str,
    name: str,
    *,
    state: str = "enabled",
    controls: tuple[str, ...] = ("compliantDevice",),
    operator: str = "OR",
    platforms: tuple[str, ...] | None = None,
    exclude: tuple[str, ...] = (),
) -> dict[str, Any]:
    conditions: dict[str, Any] = copy.deepcopy(DEFAULT_CONDITIONS)
    if platforms is not None:
        conditions["platforms"] = {"includePlatforms": list(platforms), "excludePlatforms": list(exclude)}
    return {
        "id": policy_id,
        "displayName": name,
        "state": state,
        "createdDateTime": "2024-03-01T10:00:00.0000000Z",
        "modifiedDateTime": "now-3d",
        "conditions": conditions,
        "grantControls": {
            "operator": operator,
            "builtInControls": list(controls),
            "customAuthenticationFactors": [],
            "termsOfUse": [],
        },
        "sessionControls": None,
    }
