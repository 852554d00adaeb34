"""Schema of ``microsoft.graph.directoryAudit``: the Entra ID directory audit log.

``GET /auditLogs/directoryAudits`` is read-only. Property list and $filter support follow
msgraph-sdk 1.65 and the v1.0 reference ("Supports $filter (eq, ge, le) and $orderby" on
``activityDateTime``; ``eq``/``startswith`` on ``activityDisplayName``; ``eq`` on ``category``,
``loggedByService``, ``correlationId``, ``id``, ``result`` and the initiator's ids and names).

Shape of an entry, as Graph sends it (scenario entries are written the same way;
``activityDateTime`` may be relative, e.g. ``now-2h``)::

    {"id": "Directory_0f4b...", "category": "Policy", "correlationId": "5b1c...",
     "result": "success", "resultReason": "", "activityDisplayName": "Delete policy",
     "activityDateTime": "2026-11-20T08:15:02.1234560Z", "loggedByService": "Core Directory",
     "operationType": "Delete",
     "initiatedBy": {"app": null, "user": {"id": "...", "displayName": null,
                     "userPrincipalName": "admin@contoso.com", "ipAddress": "203.0.113.9"}},
     "targetResources": [{"id": "...", "displayName": "...", "type": "Policy",
                          "userPrincipalName": null, "groupType": null,
                          "modifiedProperties": [{"displayName": "PolicyDetail",
                                                  "oldValue": "[\\"{...}\\"]", "newValue": "[]"}]}],
     "additionalDetails": [{"key": "User-Agent", "value": "..."}]}

``modifiedProperties`` old/new values are JSON *text* (often a JSON array of JSON text), as in
Graph. Unconfirmed: which events Entra ID writes for changes to classic Conditional Access
policies; the simulator serves whatever the scenario holds.
Default order: newest first (``activityDateTime desc``), as Graph lists the audit log.
"""

from __future__ import annotations

from graphsim.resources import DATETIME, STRING, UNKNOWN_FUTURE_VALUE, Property, ResourceType

_RESULTS = frozenset({"success", "failure", "timeout", UNKNOWN_FUTURE_VALUE})
_EQ = frozenset({"eq"})

DIRECTORY_AUDITS = ResourceType(
    type_name="microsoft.graph.directoryAudit",
    collection_path="/auditLogs/directoryAudits",
    scenario_key="directoryAudits",
    properties=(
        Property("id", STRING),
        Property("activityDateTime", DATETIME),
        Property("activityDisplayName", STRING),
        Property("additionalDetails", "Collection(microsoft.graph.keyValue)", default=[]),
        Property("category", STRING),
        Property("correlationId", "Edm.Guid", nullable=True),
        Property(
            "initiatedBy",
            "microsoft.graph.auditActivityInitiator",
            default={"app": None, "user": None},
        ),
        Property("loggedByService", STRING),
        Property("operationType", STRING),
        Property(
            "result",
            "microsoft.graph.operationResult",
            default="success",
            enum_members={"v1.0": _RESULTS, "beta": _RESULTS},
        ),
        Property("resultReason", STRING, default=""),
        Property("targetResources", "Collection(microsoft.graph.targetResource)", default=[]),
    ),
    collection_methods=frozenset({"GET"}),
    item_methods=frozenset({"GET"}),
    filterable={
        "activityDateTime": frozenset({"eq", "ge", "le"}),
        "activityDisplayName": frozenset({"eq", "startswith"}),
        "category": _EQ,
        "correlationId": _EQ,
        "id": _EQ,
        "loggedByService": _EQ,
        "result": _EQ,
        "initiatedBy/user/id": _EQ,
        "initiatedBy/user/displayName": _EQ,
        "initiatedBy/user/userPrincipalName": frozenset({"eq", "startswith"}),
        "initiatedBy/app/appId": _EQ,
        "initiatedBy/app/displayName": _EQ,
    },
    orderable=frozenset({"activityDateTime"}),
    default_order=(("activityDateTime", True),),
)
