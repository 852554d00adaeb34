"""Schema of ``microsoft.graph.deviceCompliancePolicy`` and its derived types, with assignments.

``GET /deviceManagement/deviceCompliancePolicies`` (permission DeviceManagementConfiguration.Read.All)
lists policies of every platform; each names its type in ``@odata.type``. Served read-only, and only
the properties MTD Guard's chain check reads (the base policy's and the Device Threat Level rule):
real Graph sends every property of the type; the fidelity test checks that what is served parses
into msgraph-sdk's v1.0 models with nothing left over. ``$expand=assignments`` adds each policy's
``assignments`` (``deviceCompliancePolicyAssignment``: ``id``, ``target``).

Which type has the rule in which version: see shared/graph/compliance_policies.py (its table is
the one source); here v1.0 simply lacks the rule on windows10CompliancePolicy, and the beta-only
Android Enterprise types are served to beta only in full (to v1.0 with their base properties).

A scenario entry::

    {"id": "...", "@odata.type": "#microsoft.graph.iosCompliancePolicy", "displayName": "iOS baseline",
     "deviceThreatProtectionEnabled": true, "deviceThreatProtectionRequiredSecurityLevel": "low",
     "assignments": [{"id": "a1", "target": {"@odata.type": "#microsoft.graph.allDevicesAssignmentTarget"}}]}
"""

from __future__ import annotations

from graphsim.resources import BOOLEAN, DATETIME, INT32, STRING, Property, ResourceType

_LEVELS = frozenset({"unavailable", "secured", "low", "medium", "high", "notSet"})
BETA_ONLY = frozenset({"beta"})


def _rule(versions: frozenset[str] = frozenset({"v1.0", "beta"})) -> tuple[Property, ...]:
    return (
        Property("deviceThreatProtectionEnabled", BOOLEAN, default=False, versions=versions),
        Property(
            "deviceThreatProtectionRequiredSecurityLevel",
            "microsoft.graph.deviceThreatProtectionLevel",
            default="unavailable",
            versions=versions,
            enum_members={"v1.0": _LEVELS, "beta": _LEVELS},
        ),
    )


COMPLIANCE_POLICIES = ResourceType(
    type_name="microsoft.graph.deviceCompliancePolicy",
    collection_path="/deviceManagement/deviceCompliancePolicies",
    scenario_key="deviceCompliancePolicies",
    properties=(
        Property("id", STRING),
        Property("displayName", STRING),
        Property("description", STRING, nullable=True),
        Property("createdDateTime", DATETIME, default="2024-02-01T09:00:00.0000000Z"),
        Property("lastModifiedDateTime", DATETIME, default="2024-02-01T09:00:00.0000000Z"),
        Property("version", INT32, default=1),
    ),
    subtypes={
        "androidCompliancePolicy": _rule(),
        "androidWorkProfileCompliancePolicy": _rule(),
        "androidDeviceOwnerCompliancePolicy": _rule(BETA_ONLY),
        "androidForWorkCompliancePolicy": _rule(BETA_ONLY),
        "iosCompliancePolicy": _rule(),
        "macOSCompliancePolicy": _rule(),
        "windows10CompliancePolicy": _rule(BETA_ONLY),
        "windows81CompliancePolicy": (),
    },
    navigation=frozenset({"assignments"}),
    collection_methods=frozenset({"GET"}),
    item_methods=frozenset({"GET"}),
)
