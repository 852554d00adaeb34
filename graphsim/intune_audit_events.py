"""Schema of ``microsoft.graph.auditEvent``: Intune's own audit log, ``GET /deviceManagement/auditEvents``.

Read-only. Property list follows msgraph-sdk 1.65 (v1.0). ``activityDateTime`` supports ``ge``/``le``
in ``$filter`` here, as the directory audit log does (unconfirmed for this collection: Graph's
reference says it supports the OData query parameters without naming them). Shape of an entry::

    {"id": "...", "displayName": "Patch MobileThreatDefenseConnector", "componentName": "...",
     "activity": "Patch MobileThreatDefenseConnector", "activityDateTime": "2026-11-20T08:15:02Z",
     "activityType": "Patch MobileThreatDefenseConnector", "activityOperationType": "Patch",
     "activityResult": "Success", "correlationId": "...", "category": "Other",
     "actor": {"auditActorType": "ItPro", "userPrincipalName": "admin@contoso.com", ...},
     "resources": [{"displayName": "...", "auditResourceType": "MobileThreatDefenseConnector",
                    "resourceId": "<connector id>", "modifiedProperties": []}]}

Unconfirmed: whether Intune writes such events for MTD connector edits, and with which names; the
simulator serves whatever the scenario holds (``intuneAuditEvents``).
"""

from __future__ import annotations

from graphsim.resources import DATETIME, STRING, Property, ResourceType

INTUNE_AUDIT_EVENTS = ResourceType(
    type_name="microsoft.graph.auditEvent",
    collection_path="/deviceManagement/auditEvents",
    scenario_key="intuneAuditEvents",
    properties=(
        Property("id", STRING),
        Property("displayName", STRING, nullable=True),
        Property("componentName", STRING, nullable=True),
        Property("activity", STRING, nullable=True),
        Property("activityDateTime", DATETIME),
        Property("activityType", STRING, nullable=True),
        Property("activityOperationType", STRING, nullable=True),
        Property("activityResult", STRING, nullable=True),
        Property("correlationId", "Edm.Guid", nullable=True),
        Property("category", STRING, nullable=True),
        Property("actor", "microsoft.graph.auditActor", nullable=True),
        Property("resources", "Collection(microsoft.graph.auditResource)", default=[]),
    ),
    collection_methods=frozenset({"GET"}),
    item_methods=frozenset({"GET"}),
    filterable={"activityDateTime": frozenset({"ge", "le"})},
    orderable=frozenset({"activityDateTime"}),
    default_order=(("activityDateTime", True),),
)
