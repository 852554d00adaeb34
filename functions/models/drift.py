"""A connector's baseline and drift, as GET /api/connectors, the baseline and restore routes and
GET /api/export show them (shared/configure/baseline.py, drift.py)."""

from __future__ import annotations

from typing import Annotated, Any, TypedDict

import msgspec
from msgspec import Meta

from functions.models.common import Time, ref
from shared.configure.baseline import BaselineSource

# Connector settings in the configure body's terms (the PUT body's shape), generated from FIELDS.
SettingsView = Annotated[dict[str, Any], Meta(extra_json_schema=ref("ConnectorSettingsView"))]


class Baseline(TypedDict):
    """The settings a connector should have, who set them, when and how."""

    connectorId: str
    partner: str
    settings: SettingsView
    setBy: str
    setAt: Time
    source: BaselineSource
    note: str | None
    ticket: str | None


class DriftChange(TypedDict):
    """One setting that differs from the baseline."""

    field: Annotated[str, Meta(description="JSON pointer into the settings body")]
    property: Annotated[str, Meta(description="the Graph property")]
    label: Annotated[str, Meta(description="what the Intune admin center calls it")]
    baseline: bool | int
    current: bool | int
    weakens: Annotated[bool, Meta(description="true: enforcement is weaker now (severity high)")]


class ConnectorExport(TypedDict):
    """Every connector's settings as the PUT /api/connectors/{partner} body that sets them."""

    tenantId: str
    exportedAt: Time
    graphApiVersion: str
    connectors: Annotated[
        dict[str, SettingsView], Meta(description="by partner slug (a connector id for an unknown partner)")
    ]


class ConnectorDeletion(TypedDict):
    """What DELETE /api/connectors/{partner} did, or would do on a dry run."""

    connectorId: str
    partner: str
    ticket: str | None  # X-Ticket-Reference, dry run included
    dryRun: bool
    deleted: bool
    before: SettingsView
    notes: list[str]
    auditId: str


class BaselineNote(msgspec.Struct, forbid_unknown_fields=True):
    """The optional body of POST /api/connectors/{partner}/baseline."""

    note: Annotated[str, Meta(max_length=1000)] | msgspec.UnsetType = msgspec.UNSET
