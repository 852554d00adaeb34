"""An Intune audit event, read defensively from Graph's JSON (``microsoft.graph.auditEvent``,
``GET /deviceManagement/auditEvents``): when, what activity, who, and which resources.

Whether edits of MTD connectors appear in Intune's audit log is unconfirmed; drift attribution
(shared/configure/attribution.py) matches these events by rules the admin can set.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime
from typing import Any

from shared.graph.connectors import parse_timestamp
from shared.graph.entries import bounded


class MalformedIntuneAuditEvent(ValueError):
    """An entry that cannot be an audit event: no id or no readable activityDateTime."""


@dataclass(frozen=True)
class AuditedResource:
    """One resource an event touched (Graph ``auditResource``)."""

    resource_id: str | None
    type: str | None  # auditResourceType
    display_name: str | None


@dataclass(frozen=True)
class IntuneAuditEvent:
    """One entry of Intune's audit log, what drift attribution needs of it."""

    id: str
    activity_at: datetime
    activity: str | None
    activity_type: str | None
    actor: str | None  # user principal name, else application name, else user id
    resources: tuple[AuditedResource, ...] = ()


def _text(value: Any, limit: int = 300) -> str | None:
    return bounded(value, limit) if isinstance(value, str) and value.strip() else None


def _actor(value: Any) -> str | None:
    if not isinstance(value, dict):
        return None
    for key in ("userPrincipalName", "applicationDisplayName", "servicePrincipalName", "userId"):
        if found := _text(value.get(key)):
            return found
    return None


def _resources(value: Any) -> tuple[AuditedResource, ...]:
    if not isinstance(value, list):
        return ()
    return tuple(
        AuditedResource(
            _text(r.get("resourceId")), _text(r.get("auditResourceType")), _text(r.get("displayName"))
        )
        for r in value
        if isinstance(r, dict)
    )


def intune_event_from_graph(item: Any) -> IntuneAuditEvent:
    """Map one element of Graph's ``value`` array; raises MalformedIntuneAuditEvent when it has no
    id or no readable activityDateTime. Every other field may be missing or odd: it is then None."""
    if not isinstance(item, dict):
        raise MalformedIntuneAuditEvent(f"expected a JSON object, got {type(item).__name__}")
    event_id = _text(item.get("id"))
    raw_time = item.get("activityDateTime")
    at = parse_timestamp(raw_time) if isinstance(raw_time, str) else None
    if event_id is None or at is None:
        raise MalformedIntuneAuditEvent("audit event has no id or no readable activityDateTime")
    return IntuneAuditEvent(
        id=event_id,
        activity_at=at,
        activity=_text(item.get("activity")) or _text(item.get("displayName")),
        activity_type=_text(item.get("activityType")),
        actor=_actor(item.get("actor")),
        resources=_resources(item.get("resources")),
    )
