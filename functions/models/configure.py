"""Configure answers and bodies: PUT /api/connectors/{partner} and the webhook POST /api/hooks/{source}.

The connector-settings body is not a type here: its schema is generated from
shared/configure/fields.FIELDS (``settings_schemas``), the same table the parser and the plan use,
so the body the route accepts and the one it documents cannot drift apart.
"""

from __future__ import annotations

from typing import TYPE_CHECKING, Annotated, Any, Literal, TypedDict

import msgspec
from msgspec import Meta

from functions.models.common import ref
from functions.models.drift import SettingsView  # settings as Graph reports them, in the body's terms
from functions.models.findings import Finding
from functions.models.heartbeat import SweepResult
from shared.audit.entries import AuditAction, Result
from shared.configure import fields as connector_config
from shared.configure.fields import Action
from shared.tickets.payloads import HookSource

Settings = Annotated[dict[str, Any], Meta(extra_json_schema=ref("ConnectorSettings"))]
Strings = list[str]


# One property the configure call changes (or would, on a dry run). Functional syntax: "from" is a
# Python keyword. shared/configure/fields.Change.view() builds it (the audit trail stores it too).
Change = TypedDict(
    "Change",
    {
        "field": Annotated[str, Meta(description="JSON pointer into the settings body")],
        "property": Annotated[str, Meta(description="the Graph property")],
        "label": str,
        "from": Annotated[bool | int | None, Meta(description="null: the connector does not exist yet")],
        "to": bool | int,
    },
)


class ConfigureResult(TypedDict):
    """The plan (dry run) or what was applied; before/after are read from Graph."""

    connectorId: str
    partner: str
    ticket: str | None
    dryRun: bool
    applied: Annotated[bool, Meta(description="true when Graph was written")]
    action: Action
    before: SettingsView | None
    after: SettingsView
    changes: list[Change]
    partnerState: str | None
    lastHeartbeatDateTime: str | None
    nextSteps: Annotated[Strings, Meta(description="what is left to do, e.g. finish the partner's side")]
    notes: Strings
    result: Annotated[Result, Meta(description="as audited: partial when Intune kept less or changed more")]
    auditId: str


if TYPE_CHECKING:
    HookResult = ConfigureResult | SweepResult | Finding
else:  # msgspec documents no union of object types (it could not decode one): say it in the schema
    HookResult = Annotated[
        dict[str, Any],
        Meta(extra_json_schema={"anyOf": [ref("ConfigureResult"), ref("SweepResult"), ref("Finding")]}),
    ]


class HookReply(TypedDict):
    """The webhook's answer: what was done for which ticket, and the route's own answer."""

    source: HookSource
    ticket: str | None
    action: AuditAction
    result: HookResult


class JiraIssue(msgspec.Struct):
    """jira: the issue the webhook fired for; its key (e.g. OPS-123) is the ticket reference."""

    key: str | msgspec.UnsetType = msgspec.UNSET


HookActionName = Annotated[
    str, Meta(extra_json_schema={"enum": [*(a.value for a in AuditAction), "ack"]})  # ack: acknowledge
]


class HookPayload(msgspec.Struct):
    """One vocabulary for all sources. generic is strict (only these fields); jira reads the ticket
    from issue.key and servicenow from number (else sys_id), ignore other fields of their payloads,
    and accept settings as JSON text and dryRun as 'true'/'false'."""

    action: HookActionName | msgspec.UnsetType = msgspec.UNSET
    ticket: Annotated[str, Meta(max_length=200)] | msgspec.UnsetType = msgspec.UNSET
    partner: str | msgspec.UnsetType = msgspec.UNSET
    settings: Settings | str | msgspec.UnsetType = msgspec.UNSET
    dryRun: bool | Literal["true", "false"] | msgspec.UnsetType = msgspec.UNSET
    findingId: str | msgspec.UnsetType = msgspec.UNSET
    note: Annotated[str, Meta(max_length=2000)] | msgspec.UnsetType = msgspec.UNSET
    issue: Annotated[JiraIssue, Meta(description="jira")] | msgspec.UnsetType = msgspec.UNSET
    number: Annotated[str, Meta(description="servicenow")] | msgspec.UnsetType = msgspec.UNSET
    sys_id: Annotated[str, Meta(description="servicenow")] | msgspec.UnsetType = msgspec.UNSET


# -- the connector-settings body, from connector_config.FIELDS --


def _field_schema(spec: connector_config.Field) -> dict[str, Any]:
    notes = f"{spec.label}. Graph property `{spec.graph}`."
    if spec.beta_only:
        notes += " Beta only: accepted when GRAPH_API_VERSION=beta, else refused with 422."
    if spec.mam:
        notes += " Intune allows it on for only one partner per platform (409 names the holder)."
    if spec.integer:
        low, high = connector_config.THRESHOLD_RANGE
        return {"type": "integer", "minimum": low, "maximum": high, "description": notes}
    return {"type": "boolean", "description": notes}


def settings_schemas() -> dict[str, dict[str, Any]]:
    """ConnectorSettings (the configure body; strict: unknown fields are 400) and
    ConnectorSettingsView (the same shape as Graph reports it), generated from FIELDS."""
    platforms: dict[str, dict[str, Any]] = {}
    top: dict[str, dict[str, Any]] = {}
    for spec in connector_config.FIELDS:
        parts = spec.pointer.strip("/").split("/")
        if len(parts) == 2:
            platform = platforms.setdefault(
                parts[0], {"type": "object", "additionalProperties": False, "properties": {}}
            )
            platform["properties"][parts[1]] = _field_schema(spec)
        else:
            top[parts[0]] = _field_schema(spec)
    view = {"type": "object", "additionalProperties": False, "properties": {**platforms, **top}}
    body = {
        **view,
        "description": "Desired connector settings in the Intune admin center's terms. Only the fields "
        "given are managed; everything left out stays as it is in Intune.",
        "minProperties": 1,
    }
    description = "Connector settings as Graph reports them, in the configure body's terms."
    return {"ConnectorSettings": body, "ConnectorSettingsView": {**view, "description": description}}
