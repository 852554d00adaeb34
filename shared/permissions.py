"""Every Microsoft Graph application permission MTD Guard needs, why, and for which feature.

One registry, read by the docs/permissions.md table, the Bicep Graph module
(infra/modules/graph-permissions.bicep, which grants exactly these; tests/infra checks it) and the
printed ``az rest`` / PowerShell commands for deployers who cannot grant them from Bicep, and by
the "grant X" hint of every 403 from Graph (``grant_hint``, used by shared/graph/errors.py).

App-role ids are Microsoft Graph's own, from Microsoft's generated permission list
(microsoft-graph-docs ``concepts/includes/permissions-ids.md``, "Application" rows). They are the
same in every tenant of the global cloud.
"""

from __future__ import annotations

from dataclasses import dataclass
from enum import StrEnum

GRAPH_APP_ID = "00000003-0000-0000-c000-000000000000"
"""Application id of Microsoft Graph's service principal (well known, the same in every tenant)."""


class ConnectorAccess(StrEnum):
    """The deployer's choice for Intune connector access (Bicep parameter ``connectorAccess``)."""

    READ_ONLY = "ReadOnly"
    READ_WRITE = "ReadWrite"


@dataclass(frozen=True)
class GraphPermission:
    """One Microsoft Graph application permission (app role) MTD Guard asks the deployer to grant."""

    name: str  # Graph's name, e.g. "Policy.Read.All"
    app_role_id: str  # id of the app role on Microsoft Graph's service principal (Application type)
    feature: str  # the MTD Guard feature that needs it (docs/permissions.md table)
    why: str  # what it is used for and why no lesser permission does
    # None: granted whatever connectorAccess is; otherwise granted only for that choice.
    connector_access: ConnectorAccess | None = None
    # An app setting that makes the permission unnecessary (its feature then reads elsewhere).
    not_needed_with: str | None = None


CONNECTORS_READ = GraphPermission(
    "DeviceManagementServiceConfig.Read.All",
    "06a5fe6d-c49d-46a7-b082-56b1b14103c7",
    feature="Heartbeat monitor, read API (GET /api/connectors)",
    why="List and read the Mobile Threat Defense connectors (heartbeat, partner state, "
    "threshold, platform toggles). Least-privileged permission for those reads.",
    connector_access=ConnectorAccess.READ_ONLY,
)
CONNECTORS_WRITE = GraphPermission(
    "DeviceManagementServiceConfig.ReadWrite.All",
    "5ac13192-7ace-4fcf-b828-1a26f28068ee",
    feature="Configure API (optional): create, update, delete connectors",
    why="Change connector settings from the HTTP API. Granted instead of Read.All (it "
    "includes every read) only when the deployer chooses connectorAccess=ReadWrite.",
    connector_access=ConnectorAccess.READ_WRITE,
)
AUDIT_LOG_READ = GraphPermission(
    "AuditLog.Read.All",
    "b0afded3-3588-46d8-8b3d-9842eff778da",
    feature="Conditional Access drift",
    why="Read the Entra directory audit log (/auditLogs/directoryAudits) for changes to the "
    "classic Conditional Access policies of MTD connectors, which no Graph API lists "
    "(not needed with CA_CLASSIC_SOURCE=import).",
    not_needed_with="CA_CLASSIC_SOURCE=import",
)
DIRECTORY_READ = GraphPermission(
    "Directory.Read.All",
    "7ab1d382-f21e-4acd-a863-ba3e13f7da61",
    feature="Conditional Access drift",
    why="Microsoft's reference for GET /auditLogs/directoryAudits names 'AuditLog.Read.All and "
    "Directory.Read.All' together as the least-privileged application permission for that call "
    "(not needed with CA_CLASSIC_SOURCE=import).",
    not_needed_with="CA_CLASSIC_SOURCE=import",
)
POLICY_READ = GraphPermission(
    "Policy.Read.All",
    "246dd0d5-5bd0-4def-940b-0421030a5b68",
    feature="Conditional Access drift",
    why="Read the modern Conditional Access policies (/identity/conditionalAccess/policies) "
    "to compare them with the last known state.",
)
COMPLIANCE_READ = GraphPermission(
    "DeviceManagementConfiguration.Read.All",
    "dc377aa6-52d8-4e23-b271-2a7ae04cedf3",
    feature="Enforcement chain and posture (compliance link)",
    why="Read the device compliance policies with their assignments "
    "(/deviceManagement/deviceCompliancePolicies?$expand=assignments) to check that each platform an "
    "MTD connector evaluates has an assigned policy using the Device Threat Level rule. Least-privileged "
    "permission for that read.",
)
APPS_READ = GraphPermission(
    "DeviceManagementApps.Read.All",
    # Not checked against Microsoft's generated list here: the id every public deployment script
    # found uses for this permission (tests/infra keeps Bicep equal to it).
    "7a6ee1e7-141e-4cec-ae74-d9db155731ff",
    feature="Enforcement chain (app protection link); connector drift: who changed it",
    why="Read the iOS/iPadOS and Android app protection policies with their assignments "
    "(/deviceAppManagement/iosManagedAppProtections, androidManagedAppProtections) for their maximum "
    "allowed device threat level (beta only), and Intune's audit log (/deviceManagement/auditEvents) "
    "to say who changed a connector (whether connector edits appear there is unconfirmed). The "
    "least-privileged permission Microsoft's reference names for each of those reads.",
)
# One permission, two uses: each feature names it by what it reads.
APP_PROTECTION_READ = APPS_READ
INTUNE_AUDIT_READ = APPS_READ

PERMISSIONS: tuple[GraphPermission, ...] = (
    CONNECTORS_READ,
    CONNECTORS_WRITE,
    AUDIT_LOG_READ,
    DIRECTORY_READ,
    POLICY_READ,
    COMPLIANCE_READ,
    APPS_READ,
)
"""The registry, in the order docs/permissions.md and the Bicep module list them."""


def granted(access: ConnectorAccess) -> tuple[GraphPermission, ...]:
    """The permissions a deployment with this connector access grants, in registry order."""
    return tuple(p for p in PERMISSIONS if p.connector_access in (None, access))


def by_name(name: str) -> GraphPermission:
    """The registry entry for a permission name; KeyError for a permission MTD Guard never uses."""
    for permission in PERMISSIONS:
        if permission.name == name:
            return permission
    raise KeyError(name)


def grant_hint(*needed: GraphPermission, because: str | None = None) -> str:
    """What to tell an operator whose call was refused for lack of ``needed`` (a 403).

    E.g. ``grant the application permission Policy.Read.All and admin-consent it``. Derived from
    the registry: a permission granted only with connectorAccess=ReadWrite says how to deploy it,
    one that a setting makes unnecessary names that setting as the way out. ``because`` (optional)
    says why this call needs them. Raises ValueError when ``needed`` is empty.
    """
    if not needed:
        raise ValueError("name at least one permission")
    many = len(needed) > 1
    text = f"grant the application permission{'s' if many else ''} " + " and ".join(p.name for p in needed)
    notes = [f"deploy with connectorAccess={ConnectorAccess.READ_WRITE}" for p in needed if _only_with(p)]
    notes += [because] if because else []
    if notes:
        text += f" ({'; '.join(notes)})"
    text += f" and admin-consent {'them' if many else 'it'}"
    ways_out = sorted({p.not_needed_with for p in needed if p.not_needed_with})
    return text + (f", or set {' or '.join(ways_out)}" if ways_out else "")


def _only_with(permission: GraphPermission) -> bool:
    """Granted only when the deployer chose more than the default (read-only) connector access."""
    return permission.connector_access is ConnectorAccess.READ_WRITE
