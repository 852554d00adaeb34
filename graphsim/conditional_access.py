"""Schema of ``microsoft.graph.conditionalAccessPolicy`` (modern Conditional Access policies).

``GET /identity/conditionalAccess/policies`` (v1.0, permission Policy.Read.All) lists modern
policies only: classic policies have no Graph API at all, so the simulator serves none.
Served read-only here (MTD Guard never writes policies); property list per msgraph-sdk 1.65.

A scenario entry needs ``id``, usually ``displayName``, ``state`` and ``grantControls``;
``conditions`` defaults to "all users, all cloud apps, any platform"::

    {"id": "...", "displayName": "Require compliant device", "state": "enabled",
     "conditions": {"platforms": {"includePlatforms": ["android", "iOS"], "excludePlatforms": []}},
     "grantControls": {"operator": "OR", "builtInControls": ["compliantDevice"]}}

Nested objects are served as written (a partial ``conditions`` replaces the default whole), so
write only property names of the Graph schema: the payload-fidelity test parses them with the SDK.
"""

from __future__ import annotations

from graphsim.resources import DATETIME, STRING, Property, ResourceType

_STATES = frozenset({"enabled", "disabled", "enabledForReportingButNotEnforced"})

DEFAULT_CONDITIONS = {
    "applications": {
        "includeApplications": ["All"],
        "excludeApplications": [],
        "includeUserActions": [],
        "includeAuthenticationContextClassReferences": [],
        "applicationFilter": None,
    },
    "users": {
        "includeUsers": ["All"],
        "excludeUsers": [],
        "includeGroups": [],
        "excludeGroups": [],
        "includeRoles": [],
        "excludeRoles": [],
        "includeGuestsOrExternalUsers": None,
        "excludeGuestsOrExternalUsers": None,
    },
    "clientAppTypes": ["all"],
    "platforms": None,
    "locations": None,
    "devices": None,
    "clientApplications": None,
    "signInRiskLevels": [],
    "userRiskLevels": [],
    "servicePrincipalRiskLevels": [],
}
DEFAULT_GRANT_CONTROLS = {
    "operator": "OR",
    "builtInControls": ["mfa"],
    "customAuthenticationFactors": [],
    "termsOfUse": [],
}

CONDITIONAL_ACCESS_POLICIES = ResourceType(
    type_name="microsoft.graph.conditionalAccessPolicy",
    collection_path="/identity/conditionalAccess/policies",
    scenario_key="conditionalAccessPolicies",
    properties=(
        Property("id", STRING),
        Property("displayName", STRING),
        Property("description", STRING, nullable=True),
        Property(
            "state",
            "microsoft.graph.conditionalAccessPolicyState",
            default="enabled",
            enum_members={"v1.0": _STATES, "beta": _STATES},
        ),
        Property("createdDateTime", DATETIME, nullable=True, default="2024-01-15T09:00:00.0000000Z"),
        Property("modifiedDateTime", DATETIME, nullable=True),
        Property("deletedDateTime", DATETIME, nullable=True),  # set on soft-deleted policies only
        Property("templateId", STRING, nullable=True),
        Property("conditions", "microsoft.graph.conditionalAccessConditionSet", default=DEFAULT_CONDITIONS),
        Property(
            "grantControls", "microsoft.graph.conditionalAccessGrantControls", default=DEFAULT_GRANT_CONTROLS
        ),
        Property("sessionControls", "microsoft.graph.conditionalAccessSessionControls", nullable=True),
    ),
    collection_methods=frozenset({"GET"}),
    item_methods=frozenset({"GET"}),
)
