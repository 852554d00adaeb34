"""Schemas of ``microsoft.graph.iosManagedAppProtection`` and ``androidManagedAppProtection``.

``GET /deviceAppManagement/{ios|android}ManagedAppProtections`` (DeviceManagementApps.Read.All),
with ``$expand=assignments`` (``targetedManagedAppPolicyAssignment``: ``id``, ``target``). Only the
base policy's properties and the MTD settings are served; the MTD settings are **beta only**
(``maximumAllowedDeviceThreatLevel``, ``mobileThreatDefenseRemediationAction``): v1.0 never sends
them, as Graph v1.0 does not. Read-only.
"""

from __future__ import annotations

from graphsim.resources import DATETIME, STRING, Property, ResourceType

BETA_ONLY = frozenset({"beta"})
_THREAT_LEVELS = frozenset({"notConfigured", "secured", "low", "medium", "high"})
_ACTIONS = frozenset({"block", "wipe", "warn", "blockWhenSettingIsSupported"})


def _app_protection(name: str, path: str, key: str) -> ResourceType:
    return ResourceType(
        type_name=f"microsoft.graph.{name}",
        collection_path=path,
        scenario_key=key,
        properties=(
            Property("id", STRING),
            Property("displayName", STRING),
            Property("description", STRING, nullable=True),
            Property("createdDateTime", DATETIME, default="2024-02-01T09:00:00.0000000Z"),
            Property("lastModifiedDateTime", DATETIME, default="2024-02-01T09:00:00.0000000Z"),
            Property("version", STRING, nullable=True),
            Property(
                "maximumAllowedDeviceThreatLevel",
                "microsoft.graph.managedAppDeviceThreatLevel",
                default="notConfigured",
                versions=BETA_ONLY,
                enum_members={"beta": _THREAT_LEVELS},
            ),
            Property(
                "mobileThreatDefenseRemediationAction",
                "microsoft.graph.managedAppRemediationAction",
                default="block",
                versions=BETA_ONLY,
                enum_members={"beta": _ACTIONS},
            ),
        ),
        navigation=frozenset({"assignments"}),
        collection_methods=frozenset({"GET"}),
        item_methods=frozenset({"GET"}),
    )


IOS_APP_PROTECTIONS = _app_protection(
    "iosManagedAppProtection", "/deviceAppManagement/iosManagedAppProtections", "iosManagedAppProtections"
)
ANDROID_APP_PROTECTIONS = _app_protection(
    "androidManagedAppProtection",
    "/deviceAppManagement/androidManagedAppProtections",
    "androidManagedAppProtections",
)
