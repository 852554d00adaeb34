"""The OpenAPI 3.1 document of MTD Guard's HTTP API, served at GET /api/openapi.json.

One ``Operation`` per HTTP function, keyed by the function's name; a test checks that every HTTP
function registered in function_app.py is described here with the same method and route, and that
the served document validates. To describe a new route, add ONE entry to ``OPERATIONS``::

    Operation("findings_list", "get", "/findings", "List findings", tag="findings",
              role=Role.READER, parameters=(query("kind", {"type": "string"}),),
              responses={200: "FindingPage"}),

and, if its answer has a new shape, its JSON Schema to ``SCHEMAS`` under that name (or give the
schema inline: ``responses={200: {"type": "object"}}``). Every operation automatically documents
the problem+json answers all routes share (401, 403, 500, 503 and ``default``); list any other
problem statuses the route raises in ``problems``.

The connector-settings schema is generated from shared/connector_config.FIELDS, so the body the
configure route accepts and the one it documents cannot drift apart.
"""

from __future__ import annotations

import functools
from dataclasses import dataclass, field
from typing import Any

from shared import catalog
from shared.audit.entries import AuditAction, Result
from shared.configure import fields as connector_config
from shared.heartbeat.health import Health
from shared.principal import Role
from shared.tickets.payloads import HookSource

Schema = dict[str, Any]
PROBLEM_TYPE = "application/problem+json"


def ref(name: str) -> Schema:
    return {"$ref": f"#/components/schemas/{name}"}


def nullable(schema: Schema) -> Schema:
    return {"anyOf": [schema, {"type": "null"}]}


def obj(properties: dict[str, Schema], *, required: list[str] | None = None, description: str = "") -> Schema:
    """An answer object: every listed property present; more may be added in later versions."""
    schema: Schema = {
        "type": "object",
        "properties": properties,
        "required": list(properties) if required is None else required,
    }
    if description:
        schema["description"] = description
    return schema


STRING: Schema = {"type": "string"}
BOOL: Schema = {"type": "boolean"}
INT: Schema = {"type": "integer"}
TIME: Schema = {"type": "string", "format": "date-time"}
STRINGS: Schema = {"type": "array", "items": STRING}


def query(name: str, schema: Schema, description: str = "", *, required: bool = False) -> Schema:
    return {"name": name, "in": "query", "required": required, "schema": schema, "description": description}


def header(name: str, description: str, schema: Schema | None = None) -> Schema:
    return {
        "name": name,
        "in": "header",
        "required": False,
        "schema": schema or STRING,
        "description": description,
    }


def path_param(name: str, schema: Schema, description: str) -> Schema:
    return {"name": name, "in": "path", "required": True, "schema": schema, "description": description}


@dataclass(frozen=True)
class Operation:
    function: str  # the name given to @bp.function_name
    method: str  # lower case, as in OpenAPI
    path: str  # the @bp.route route with a leading "/", without the "api" prefix
    summary: str
    tag: str
    role: Role | None  # None: anonymous (no function key, no Entra role)
    description: str = ""
    parameters: tuple[Schema, ...] = ()
    request: str | Schema | None = None  # JSON request body: a SCHEMAS name or an inline schema
    request_required: bool = True  # False: the body may be left out
    responses: dict[int, str | Schema | None] = field(default_factory=lambda: {200: None})
    problems: tuple[int, ...] = ()  # problem+json statuses beyond the shared ones


# -- schemas -------------------------------------------------------------------------------------


def _field_schema(spec: connector_config.Field) -> Schema:
    notes = f"{spec.label}. Graph property `{spec.graph}`."
    if spec.beta_only:
        notes += " Beta only: accepted when GRAPH_API_VERSION=beta, else refused with 422."
    if spec.mam:
        notes += " Intune allows it on for only one partner per platform (409 names the holder)."
    if spec.integer:
        low, high = connector_config.THRESHOLD_RANGE
        return {"type": "integer", "minimum": low, "maximum": high, "description": notes}
    return {"type": "boolean", "description": notes}


def settings_schema() -> Schema:
    """The configure body, generated from connector_config.FIELDS (strict: unknown fields are 400)."""
    platforms: dict[str, Schema] = {}
    top: dict[str, Schema] = {}
    for spec in connector_config.FIELDS:
        parts = spec.pointer.strip("/").split("/")
        if len(parts) == 2:
            platform = platforms.setdefault(
                parts[0], {"type": "object", "additionalProperties": False, "properties": {}}
            )
            platform["properties"][parts[1]] = _field_schema(spec)
        else:
            top[parts[0]] = _field_schema(spec)
    return {
        "type": "object",
        "description": "Desired connector settings in the Intune admin center's terms. Only the fields "
        "given are managed; everything left out stays as it is in Intune.",
        "additionalProperties": False,
        "minProperties": 1,
        "properties": {**platforms, **top},
        "example": {
            "android": {"complianceEvaluation": True, "blockOnMissingPartnerData": False},
            "ios": {"complianceEvaluation": True, "appProtectionEvaluation": True},
            "appSync": True,
            "unresponsiveThresholdDays": 7,
        },
    }


_PROBLEM: Schema = {
    "type": "object",
    "description": "RFC 9457 problem details. Routes add members such as errors[] (each with a JSON "
    "pointer), ticket, requiredRole, heldBy or incident.",
    "properties": {
        "type": {"type": "string", "description": "urn:mtd-guard:problem:<kind>"},
        "title": STRING,
        "status": {"type": "integer", "minimum": 400, "maximum": 599},
        "detail": STRING,
        "instance": STRING,
        "ticket": nullable(STRING),
        "errors": {
            "type": "array",
            "items": obj({"pointer": STRING, "detail": STRING}),
        },
    },
    "required": ["type", "title", "status", "detail"],
}

_CONNECTOR_STATUS = obj(
    {
        "id": STRING,
        "partner": STRING,
        "partnerKnown": BOOL,
        "partnerState": nullable(STRING),
        "lastHeartbeatDateTime": nullable(STRING),
        "thresholdDays": INT,
        "thresholdSource": {"enum": ["connector", "default"]},
        "heartbeatAgeHours": nullable({"type": "number"}),
        "health": {"enum": [h.value for h in Health]},
        "severity": {"enum": ["high", "warning", "info"]},
        "reason": STRING,
        "healthSince": TIME,
        "checkedAt": TIME,
    }
)

_OBSERVATION = obj(
    {
        "checkedAt": TIME,
        "health": {"enum": [h.value for h in Health]},
        "partnerState": nullable(STRING),
        "lastHeartbeatDateTime": nullable(STRING),
        "heartbeatAgeHours": nullable({"type": "number"}),
        "thresholdDays": INT,
        "reason": STRING,
    }
)

_CHANGE = obj(
    {
        "field": {"type": "string", "description": "JSON pointer into the settings body"},
        "property": {"type": "string", "description": "the Graph property"},
        "label": STRING,
        "from": {"type": ["boolean", "integer", "null"]},
        "to": {"type": ["boolean", "integer"]},
    }
)

_CONFIGURE_RESULT = obj(
    {
        "connectorId": STRING,
        "partner": STRING,
        "ticket": nullable(STRING),
        "dryRun": BOOL,
        "applied": {"type": "boolean", "description": "true when Graph was written"},
        "action": {"enum": [a.value for a in connector_config.Action]},
        "before": nullable(ref("ConnectorSettingsView")),
        "after": ref("ConnectorSettingsView"),
        "changes": {"type": "array", "items": ref("Change")},
        "partnerState": nullable(STRING),
        "lastHeartbeatDateTime": nullable(STRING),
        "nextSteps": {**STRINGS, "description": "what is left to do, e.g. finish the partner's side"},
        "notes": STRINGS,
        "auditId": STRING,
    },
    description="The plan (dry run) or what was applied; before/after are read from Graph.",
)

_SWEEP = obj(
    {
        "tenantId": STRING,
        "checkedAt": TIME,
        "ok": BOOL,
        "recorded": BOOL,
        "problems": STRINGS,
        "connectors": {"type": "array", "items": ref("ConnectorStatus")},
        "alertsRaised": {"type": "array", "items": ref("Alert")},
        "delivery": {"type": "object"},
    }
)

_DELIVERY_STATUS: Schema = {"enum": ["pending", "held", "delivered", "skipped", "digested", "dead"]}

_ALERT_DELIVERY = obj(
    {
        "status": _DELIVERY_STATUS,
        "attempts": INT,
        "lastError": nullable(STRING),
        "deliveredAt": nullable(TIME),
        "nextAttemptAt": nullable({**TIME, "description": "not before: backoff, or the end of quiet hours"}),
        "note": nullable({"type": "string", "description": "why it was skipped or held"}),
        "ticket": nullable({"type": "string", "description": "ServiceNow number or Jira key it went to"}),
        "digestId": nullable({"type": "string", "description": "the digest alert that carried it"}),
    },
    required=["status", "attempts"],
)

_ALERT = obj(
    {
        "alertId": STRING,
        "tenantId": STRING,
        "kind": STRING,
        "findingId": STRING,
        "severity": {"enum": ["high", "warning", "info"]},
        "title": STRING,
        "reason": STRING,
        "detectedAt": TIME,
        "resolvesFinding": BOOL,
        "deliveries": {"type": "object", "additionalProperties": ref("AlertDelivery")},
    },
    required=["alertId", "kind", "findingId", "severity", "title", "detectedAt"],
    description="The webhook payload (common fields plus the kind's own details) and, in API answers, "
    "how far it got on each channel.",
)

_FINDING = obj(
    {
        "id": STRING,
        "kind": STRING,
        "resourceId": STRING,
        "resourceName": STRING,
        "severity": {"enum": ["high", "warning", "info"]},
        "status": {"enum": ["open", "acknowledged", "resolved"]},
        "message": STRING,
        "note": nullable(STRING),
        "acknowledgedBy": nullable(STRING),
        "acknowledgedAt": nullable(TIME),
        "remediation": STRING,
        "firstSeen": TIME,
        "lastSeen": TIME,
        "resolvedAt": nullable(TIME),
    },
    required=["id", "kind", "severity", "status"],
)

_AUDIT_ENTRY = obj(
    {
        "id": STRING,
        "at": TIME,
        "who": STRING,
        "principalId": nullable(STRING),
        "via": {"enum": ["api", *[s.value for s in HookSource]]},
        "action": {"enum": [a.value for a in AuditAction]},
        "target": STRING,
        "targetName": STRING,
        "ticket": nullable(STRING),
        "result": {"enum": [r.value for r in Result]},
        "status": INT,
        "detail": STRING,
        "before": nullable({"type": "object"}),
        "after": nullable({"type": "object"}),
        "changes": {"type": "array", "items": {"type": "object"}},
        "idempotencyKey": nullable(STRING),
    }
)

_HOOK_PAYLOAD: Schema = {
    "type": "object",
    "description": "One vocabulary for all sources. generic is strict (only these fields); jira reads "
    "the ticket from issue.key and servicenow from number (else sys_id), ignore other fields of "
    "their payloads, and accept settings as JSON text and dryRun as 'true'/'false'.",
    "properties": {
        "action": {"enum": ["configure", "check", "acknowledge", "ack"]},
        "ticket": {"type": "string", "maxLength": 200},
        "partner": STRING,
        "settings": {"anyOf": [ref("ConnectorSettings"), STRING]},
        "dryRun": {"anyOf": [BOOL, {"enum": ["true", "false"]}]},
        "findingId": STRING,
        "note": {"type": "string", "maxLength": 2000},
        "issue": {"type": "object", "properties": {"key": STRING}, "description": "jira"},
        "number": {"type": "string", "description": "servicenow"},
        "sys_id": {"type": "string", "description": "servicenow"},
    },
    "example": {
        "action": "configure",
        "ticket": "CHG0031234",
        "partner": "lookout",
        "dryRun": True,
        "settings": {"ios": {"complianceEvaluation": True}},
    },
}

# -- Conditional Access drift (issue 4) --

_NULLABLE_TIME = nullable(TIME)
_CLASSIC_CHANGE = obj(
    {
        "drift": {"enum": ["added", "modified", "disabled", "deleted"]},
        "policyId": nullable(STRING),
        "displayName": STRING,
        "at": TIME,
        "by": nullable(STRING),
        "source": {"enum": ["audit", "import"]},
        "auditEventId": nullable(STRING),
        "evidence": STRING,
    }
)
_CLASSIC_POLICY = obj(
    {
        "key": STRING,
        "policyId": nullable(STRING),
        "displayName": STRING,
        "state": {"enum": ["enabled", "disabled", "deleted", "unknown"]},
        "partnerId": nullable(STRING),
        "partner": nullable(STRING),
        "contentHash": nullable(STRING),
        "source": {"enum": ["audit", "import"]},
        "firstSeen": TIME,
        "updatedAt": TIME,
        "lastChange": nullable(STRING),
    }
)
_PLANNED_REMOVAL = obj(
    {
        "id": STRING,
        "policyId": nullable(STRING),
        "displayName": nullable(STRING),
        "partnerId": nullable(STRING),
        "partner": nullable(STRING),
        "ticket": nullable(STRING),
        "note": nullable(STRING),
        "announcedBy": STRING,
        "announcedAt": TIME,
        "expiresAt": TIME,
        "usedAt": _NULLABLE_TIME,
    }
)
_OBJECT_ID = {"type": "string", "pattern": "^[0-9a-fA-F]{8}-([0-9a-fA-F]{4}-){3}[0-9a-fA-F]{12}$"}
_CLASSIC_INVENTORY: Schema = {
    "type": "object",
    "description": "Classic CA policies copied from Entra admin center > Protection > Conditional Access "
    "> Classic policies (no API lists them). README: 'Classic CA policies: what can and cannot be seen'.",
    "additionalProperties": False,
    "required": ["policies"],
    "properties": {
        "exportedAt": {"type": "string", "format": "date-time", "description": "when you looked"},
        "exportedBy": {"type": "string", "maxLength": 256},
        "policies": {
            "type": "array",
            "maxItems": 500,
            "items": {
                "type": "object",
                "additionalProperties": False,
                "required": ["displayName", "state"],
                "properties": {
                    "id": {**_OBJECT_ID, "description": "the policy's object id, when the portal shows it"},
                    "displayName": {"type": "string", "minLength": 1, "maxLength": 256},
                    "state": {"enum": ["enabled", "disabled"]},
                    "partner": {"type": "string", "description": "catalog slug or connector id"},
                    "details": {"description": "anything else the portal shows; hashed to detect edits"},
                },
            },
        },
    },
    "example": {
        "exportedAt": "2026-11-20T09:00:00Z",
        "exportedBy": "admin@contoso.onmicrosoft.com",
        "policies": [
            {
                "id": "3f1c2a9e-7b0d-4c55-9e61-0a8b6c1d0001",
                "displayName": "Lookout for Work MTD policy",
                "state": "enabled",
                "partner": "lookout",
                "details": {"includedGroups": ["All users"], "cloudApps": ["Office 365"]},
            }
        ],
    },
}
_PLANNED_REMOVAL_REQUEST: Schema = {
    "type": "object",
    "additionalProperties": False,
    "anyOf": [{"required": ["policyId"]}, {"required": ["displayName"]}, {"required": ["partner"]}],
    "properties": {
        "policyId": _OBJECT_ID,
        "displayName": {"type": "string", "minLength": 1, "maxLength": 256},
        "partner": {"type": "string", "description": "every classic policy of this partner (slug or id)"},
        "ticket": {"type": "string", "minLength": 1, "maxLength": 128},
        "note": {"type": "string", "minLength": 1, "maxLength": 1000},
        "expiresInDays": {"type": "integer", "minimum": 1, "maximum": 90, "default": 30},
    },
    "example": {"policyId": "3f1c2a9e-7b0d-4c55-9e61-0a8b6c1d0001", "ticket": "CHG0042"},
}
_CA_DRIFT_RESULT = obj(
    {
        "tenantId": STRING,
        "checkedAt": TIME,
        "ok": BOOL,
        "recorded": BOOL,
        "problems": STRINGS,
        "classic": obj(
            {
                "source": {"enum": ["audit", "import"]},
                "knownPolicies": INT,
                "auditLog": nullable(
                    obj(
                        {
                            "since": TIME,
                            "until": TIME,
                            "events": INT,
                            "matched": INT,
                            "alreadyProcessed": INT,
                            "cursor": _NULLABLE_TIME,
                            "complete": BOOL,
                        }
                    )
                ),
                "changes": {"type": "array", "items": ref("ClassicChange")},
            }
        ),
        "modern": obj(
            {
                "policies": nullable(INT),
                "requiringCompliantDevice": STRINGS,
                "drifted": STRINGS,
                "coverage": {"type": "object", "additionalProperties": BOOL},
            }
        ),
        "alertsRaised": {"type": "array", "items": ref("Alert")},
        "delivery": obj({"delivered": INT, "failed": INT, "errors": STRINGS}),
    }
)

SCHEMAS: dict[str, Schema] = {
    "Problem": _PROBLEM,
    "ConnectorSettings": settings_schema(),
    "ConnectorSettingsView": {
        **{k: v for k, v in settings_schema().items() if k not in ("minProperties", "example")},
        "description": "Connector settings as Graph reports them, in the configure body's terms.",
    },
    "Change": _CHANGE,
    "ConfigureResult": _CONFIGURE_RESULT,
    "ConnectorStatus": _CONNECTOR_STATUS,
    "Observation": _OBSERVATION,
    "ConnectorList": obj(
        {
            "tenantId": STRING,
            "checkedAt": nullable(TIME),
            "problems": STRINGS,
            "connectors": {"type": "array", "items": ref("ConnectorStatus")},
        }
    ),
    "ConnectorDetail": {
        "allOf": [
            ref("ConnectorStatus"),
            obj({"history": {"type": "array", "items": ref("Observation"), "description": "newest first"}}),
        ]
    },
    "Alert": _ALERT,
    "AlertDelivery": _ALERT_DELIVERY,
    "AlertPage": obj(
        {
            "tenantId": STRING,
            "channels": {
                "type": "array",
                "description": "the enabled channels and their routing",
                "items": obj(
                    {
                        "name": STRING,
                        "minSeverity": {"enum": ["high", "warning", "info"]},
                        "kinds": {"anyOf": [{"const": "*"}, STRINGS]},
                        "quietHours": nullable(STRING),
                        "tickets": BOOL,
                        "maxAttempts": INT,
                    }
                ),
            },
            "counts": {
                "type": "object",
                "description": "per channel, deliveries by status, over the alerts matching kind, severity, "
                "findingId and since",
                "additionalProperties": {"type": "object", "additionalProperties": INT},
            },
            "alerts": {"type": "array", "items": ref("Alert"), "description": "newest first"},
            "continuationToken": nullable(
                {"type": "string", "description": "pass back as ?continuationToken= for the next page"}
            ),
        }
    ),
    "AlertRedelivery": obj(
        {
            "queued": {**STRINGS, "description": "the channels queued again"},
            "detail": STRING,
            "alert": ref("Alert"),
        }
    ),
    "SweepResult": _SWEEP,
    "Finding": _FINDING,
    "HookPayload": _HOOK_PAYLOAD,
    "HookReply": obj(
        {
            "source": {"enum": [s.value for s in HookSource]},
            "ticket": nullable(STRING),
            "action": {"enum": [a.value for a in AuditAction]},
            "result": {"anyOf": [ref("ConfigureResult"), ref("SweepResult"), ref("Finding")]},
        }
    ),
    "AuditEntry": _AUDIT_ENTRY,
    "AuditPage": obj(
        {
            "tenantId": STRING,
            "entries": {"type": "array", "items": ref("AuditEntry")},
            "continuationToken": nullable(
                {"type": "string", "description": "pass back as ?continuationToken= for the next page"}
            ),
        }
    ),
    "Health": obj({"status": {"enum": ["ok", "misconfigured"]}, "configurationProblems": INT}),
    "FindingPage": obj(
        {
            "tenantId": STRING,
            "findings": {"type": "array", "items": ref("Finding")},
            "continuationToken": nullable(
                {"type": "string", "description": "pass back as ?continuationToken= for the next page"}
            ),
        }
    ),
    "FindingAcknowledgement": {
        "type": "object",
        "additionalProperties": False,
        "properties": {"note": {"type": "string", "maxLength": 1000}},
    },
    "CaDriftResult": _CA_DRIFT_RESULT,
    "ClassicChange": _CLASSIC_CHANGE,
    "ClassicPolicy": _CLASSIC_POLICY,
    "ClassicInventory": _CLASSIC_INVENTORY,
    "ClassicImportResult": obj(
        {
            "tenantId": STRING,
            "importedAt": TIME,
            "firstImport": BOOL,
            "policies": {"type": "array", "items": ref("ClassicPolicy")},
            "changes": {"type": "array", "items": ref("ClassicChange")},
            "resolvedFindings": STRINGS,
            "alertsRaised": {"type": "array", "items": ref("Alert")},
            "problems": STRINGS,
        }
    ),
    "ClassicBaseline": obj(
        {
            "tenantId": STRING,
            "source": {"enum": ["audit", "import"]},
            "policies": {"type": "array", "items": ref("ClassicPolicy")},
            "lastImport": nullable(
                obj({"importedAt": TIME, "importedBy": STRING, "policies": INT, "exportedAt": _NULLABLE_TIME})
            ),
            "auditLog": obj({"readUpTo": _NULLABLE_TIME, "retentionDays": INT}),
            "plannedRemovals": {"type": "array", "items": ref("PlannedRemoval")},
        }
    ),
    "PlannedRemovalRequest": _PLANNED_REMOVAL_REQUEST,
    "PlannedRemoval": _PLANNED_REMOVAL,
}

# -- parameters shared by several routes ---------------------------------------------------------

_GUID = "^[0-9a-fA-F]{7,8}-([0-9a-fA-F]{4}-){3}[0-9a-fA-F]{12}$"
PARTNER = path_param(
    "partner",
    {"anyOf": [{"enum": [p.slug for p in catalog.partners()]}, {"type": "string", "pattern": _GUID}]},
    "A partner name (catalog slug such as lookout or defender) or a connector id.",
)
IDEMPOTENCY = header(
    "Idempotency-Key",
    "Same key within 24 h: the first response is returned again (Idempotent-Replayed: true) and "
    "nothing runs twice. The same key with another request is 422.",
    {"type": "string", "minLength": 1, "maxLength": 255},
)
_WRITE_PROBLEMS = (400, 404, 409, 422, 502)

# -- every HTTP route --------------------------------------------------------------------------------

OPERATIONS: tuple[Operation, ...] = (
    Operation(
        "health",
        "get",
        "/health",
        "Liveness (anonymous; touches no dependency)",
        tag="operations",
        role=None,
        responses={200: "Health"},
    ),
    Operation(
        "connectors_list",
        "get",
        "/connectors",
        "Every connector's health from the last sweep (no live Graph call)",
        tag="connectors",
        role=Role.READER,
        responses={200: "ConnectorList"},
    ),
    Operation(
        "connector_get",
        "get",
        "/connectors/{partner}",
        "One connector's health and recent history",
        tag="connectors",
        role=Role.READER,
        parameters=(PARTNER, query("historyLimit", {"type": "integer", "minimum": 1, "maximum": 1000})),
        responses={200: "ConnectorDetail"},
        problems=(400, 404),
    ),
    Operation(
        "connector_configure",
        "put",
        "/connectors/{partner}",
        "Enable and configure a connector (desired settings; dry run; audited)",
        tag="connectors",
        role=Role.OPERATOR,
        description="Reads the connector, checks Intune's rules, and writes only what differs: POST "
        "when it does not exist, PATCH of the changed properties, nothing when already as desired. "
        "Answers what Graph holds afterwards. Needs DeviceManagementServiceConfig.ReadWrite.All.",
        parameters=(
            PARTNER,
            query("dryRun", BOOL, "true: return the plan and write nothing to Graph"),
            IDEMPOTENCY,
            header("X-Ticket-Reference", "The change ticket this is done for; kept in the audit trail."),
        ),
        request="ConnectorSettings",
        responses={200: "ConfigureResult"},
        problems=_WRITE_PROBLEMS,
    ),
    Operation(
        "checks_run",
        "post",
        "/checks/heartbeat",
        "Run a heartbeat sweep now",
        tag="checks",
        role=Role.OPERATOR,
        responses={200: "SweepResult"},
    ),
    Operation(
        "hook_receive",
        "post",
        "/hooks/{source}",
        "Ticketing webhook: configure, check now, or acknowledge a finding",
        tag="webhooks",
        role=Role.OPERATOR,
        description="Jira deliveries must carry X-Hub-Signature when JIRA_WEBHOOK_SECRET is set. "
        "Every answer, problems included, carries the ticket reference.",
        parameters=(
            path_param("source", {"enum": [s.value for s in HookSource]}, "Who is calling."),
            query(
                "action",
                {"enum": ["configure", "check", "acknowledge", "ack"]},
                "jira: when the body has none",
            ),
            IDEMPOTENCY,
            header(
                "X-Atlassian-Webhook-Identifier",
                "Jira's delivery id (stable across retries); used as the key.",
            ),
            header("X-Hub-Signature", "jira: sha256=<hex HMAC-SHA256 of the raw body>"),
        ),
        request="HookPayload",
        responses={200: "HookReply"},
        problems=(*_WRITE_PROBLEMS, 401),
    ),
    Operation(
        "audit_list",
        "get",
        "/audit",
        "The audit trail of writes and refused writes, newest first",
        tag="audit",
        role=Role.READER,
        parameters=(
            query(
                "connector", STRING, "partner name or connector id (also a finding id for acknowledgements)"
            ),
            query("result", {"enum": [r.value for r in Result]}),
            query("action", {"enum": [a.value for a in AuditAction]}),
            query("ticket", STRING),
            query("since", TIME, "inclusive"),
            query("until", TIME, "exclusive"),
            query("limit", {"type": "integer", "minimum": 1, "maximum": 500}),
            query("continuationToken", STRING, "from the previous page; keep the same filters"),
        ),
        responses={200: "AuditPage"},
        problems=(400,),
    ),
    Operation(
        "alerts_list",
        "get",
        "/alerts",
        "Alerts and their delivery per channel (pending, held, delivered, skipped, digested, dead)",
        tag="alerts",
        role=Role.READER,
        description="Newest first. status and channel filter on the deliveries: status alone matches "
        "alerts with any channel in that status, channel alone alerts routed to that channel.",
        parameters=(
            query("status", _DELIVERY_STATUS),
            query("channel", {"type": "string", "minLength": 1}, "webhook, teams, servicenow or jira"),
            query(
                "kind",
                {"type": "string", "pattern": "^[A-Za-z][A-Za-z0-9]{0,63}$"},
                "finding kind, e.g. heartbeat",
            ),
            query("severity", {"enum": ["high", "warning", "info"]}),
            query("findingId", {"type": "string", "pattern": "^[A-Za-z0-9][A-Za-z0-9._:@-]{0,255}$"}),
            query("since", TIME, "detected at or after"),
            query("limit", {"type": "integer", "minimum": 1, "maximum": 200}),
            query(
                "continuationToken",
                {"type": "string", "minLength": 1},
                "from the previous page; keep the same filters",
            ),
        ),
        responses={200: "AlertPage"},
        problems=(400,),
    ),
    Operation(
        "alert_redeliver",
        "post",
        "/alerts/{alertId}/redeliver",
        "Queue an alert again on its dead channels (or on one named channel)",
        tag="alerts",
        role=Role.OPERATOR,
        description="Resets attempts; the outbox sends it on its next run, with the same alert id.",
        parameters=(
            path_param("alertId", STRING, "from GET /api/alerts"),
            query("channel", STRING, "only this channel, whatever its delivery ended as"),
        ),
        responses={202: "AlertRedelivery"},
        problems=(404, 409),
    ),
    Operation(
        "openapi",
        "get",
        "/openapi.json",
        "This document",
        tag="operations",
        role=Role.READER,
        responses={200: {"type": "object"}},
    ),
    # -- findings and Conditional Access drift (issue 4) --
    Operation(
        "findings_list",
        "get",
        "/findings",
        "Findings of every kind, what needs attention first",
        tag="findings",
        role=Role.READER,
        description="Open before acknowledged before resolved; high before warning before info; most "
        "recently seen first. Filters take comma-separated values.",
        parameters=(
            query(
                "kind", STRING, "e.g. heartbeat, graphAccess, classicPolicyDrift, caPolicyDrift, caCoverage"
            ),
            query("severity", STRING, "high, warning, info"),
            query("status", STRING, "open, acknowledged, resolved"),
            query("limit", {"type": "integer", "minimum": 1, "maximum": 200}),
            query("continuationToken", STRING, "from the previous page; keep the same filters"),
        ),
        responses={200: "FindingPage"},
        problems=(400,),
    ),
    Operation(
        "finding_acknowledge",
        "post",
        "/findings/{id}/ack",
        "Acknowledge a finding: no more alerts while it lasts (audited)",
        tag="findings",
        role=Role.OPERATOR,
        description="Who: the Entra principal (App Service authentication), else 'function key caller'. "
        "A resolved finding cannot be acknowledged (409).",
        parameters=(path_param("id", STRING, "The finding id, from GET /api/findings."),),
        request="FindingAcknowledgement",
        request_required=False,
        responses={200: "Finding"},
        problems=(400, 404, 409),
    ),
    Operation(
        "checks_ca_drift",
        "post",
        "/checks/ca-drift",
        "Run the Conditional Access drift check now",
        tag="checks",
        role=Role.OPERATOR,
        description="Reads the directory audit log from its cursor (AuditLog.Read.All), the modern "
        "Conditional Access policies (Policy.Read.All) and the connectors; records drift as findings.",
        responses={200: "CaDriftResult"},
    ),
    Operation(
        "classic_baseline_import",
        "put",
        "/ca/classic-baseline",
        "Import the classic CA policy inventory copied from the Entra portal",
        tag="conditional-access",
        role=Role.OPERATOR,
        description="The first import sets the baseline; later ones are compared with it (deleted, "
        "disabled, modified, added) and accept earlier drift (its findings resolve).",
        request="ClassicInventory",
        responses={200: "ClassicImportResult"},
        problems=(400, 413),
    ),
    Operation(
        "classic_baseline_get",
        "get",
        "/ca/classic-baseline",
        "What MTD Guard knows of the classic CA policies",
        tag="conditional-access",
        role=Role.READER,
        responses={200: "ClassicBaseline"},
    ),
    Operation(
        "planned_removal_create",
        "post",
        "/ca/planned-removals",
        "Announce the removal of classic CA policies beforehand",
        tag="conditional-access",
        role=Role.OPERATOR,
        description="A deletion it covers that happens after the announcement and before it expires is "
        "info ('cleanup as Microsoft now recommends') instead of high.",
        request="PlannedRemovalRequest",
        responses={201: "PlannedRemoval"},
        problems=(400, 413),
    ),
)


# -- the document ----------------------------------------------------------------------------------


def _content(schema: str | Schema) -> dict[str, Any]:
    return {"application/json": {"schema": ref(schema) if isinstance(schema, str) else schema}}


def _problem(description: str) -> dict[str, Any]:
    return {"description": description, "content": {PROBLEM_TYPE: {"schema": ref("Problem")}}}


_PROBLEM_TEXT = {
    400: "Invalid request (problem names the field)",
    401: "Not authenticated (missing function key: empty body from the host; no Entra principal or a "
    "bad signature: problem+json)",
    403: "The Entra principal lacks the required app role",
    404: "Not found",
    409: "Conflicts with another connector or with a request still running (Retry-After when retrying helps)",
    422: "Cannot be done as asked (beta-only field, partner capability, reused idempotency key)",
    500: "Unexpected fault; the problem carries an incident id",
    502: "Microsoft Graph refused the call (the detail says what to grant or fix)",
    503: "Misconfigured, storage unavailable, or Graph throttled/unavailable (Retry-After)",
}


def _operation(op: Operation) -> dict[str, Any]:
    responses: dict[str, Any] = {}
    for status, schema in op.responses.items():
        entry: dict[str, Any] = {"description": "OK"}
        if schema is not None:
            entry["content"] = _content(schema)
        responses[str(status)] = entry
    shared = (500, 503) if op.role is None else (401, 403, 500, 503)
    for status in sorted({*op.problems, *shared}):
        responses[str(status)] = _problem(_PROBLEM_TEXT.get(status, "Problem"))
    responses["default"] = _problem("Problem details")
    role = (
        "anonymous" if op.role is None else f"Entra app role {op.role.value} (when REQUIRE_ENTRA_ROLE=true)"
    )
    doc: dict[str, Any] = {
        "operationId": op.function,
        "summary": op.summary,
        "description": (op.description + "\n\n" if op.description else "") + f"Access: {role}.",
        "tags": [op.tag],
        "responses": responses,
        "x-mtdguard-role": op.role.value if op.role else None,
    }
    if op.parameters:
        doc["parameters"] = list(op.parameters)
    if op.request is not None:
        doc["requestBody"] = {"required": op.request_required, "content": _content(op.request)}
    if op.role is None:
        doc["security"] = []
    return doc


@functools.cache
def document() -> dict[str, Any]:
    paths: dict[str, dict[str, Any]] = {}
    for op in OPERATIONS:
        paths.setdefault(op.path, {})[op.method] = _operation(op)
    return {
        "openapi": "3.1.0",
        "info": {
            "title": "MTD Guard",
            "version": "1",
            "description": "Keeps Intune Mobile Threat Defense connectors healthy. Every route but "
            "/health needs a function key (x-functions-key header or ?code=); with "
            "REQUIRE_ENTRA_ROLE=true also an Entra app role (MtdGuard.Reader or MtdGuard.Operator) "
            "via App Service authentication. Errors are RFC 9457 problem+json.",
        },
        "servers": [{"url": "/api"}],
        "security": [{"functionKey": []}, {"functionKeyQuery": []}],
        "paths": paths,
        "components": {
            "schemas": SCHEMAS,
            "securitySchemes": {
                "functionKey": {"type": "apiKey", "in": "header", "name": "x-functions-key"},
                "functionKeyQuery": {"type": "apiKey", "in": "query", "name": "code"},
            },
        },
    }
