"""An Entra ID directory audit event, read defensively from Graph's JSON (``directoryAudit``).

Only what drift detection needs is kept: when, what activity, which service and category logged
it, who did it, and the target objects with their modified properties. ``modifiedProperties``
old/new values are JSON *text* in Graph (often a JSON array of JSON text); ``decode_value``
unwraps them so rules can look inside.
"""

from __future__ import annotations

import json
from collections.abc import Iterator
from dataclasses import dataclass
from datetime import datetime
from typing import Any

from shared.graph.connectors import parse_timestamp


class MalformedAuditEvent(ValueError):
    """An entry that cannot be an audit event: no id or no readable activityDateTime."""


@dataclass(frozen=True)
class ModifiedProperty:
    """One property an audit event says changed (Graph ``modifiedProperty``)."""

    name: str
    old_value: str | None  # JSON text, as Graph sends it
    new_value: str | None


@dataclass(frozen=True)
class AuditTarget:
    """One resource an audit event touched (Graph ``targetResource``): for CA, the policy."""

    id: str | None
    display_name: str | None
    type: str | None
    modified: tuple[ModifiedProperty, ...] = ()


@dataclass(frozen=True)
class AuditEvent:
    """One entry of ``/auditLogs/directoryAudits`` (Graph ``directoryAudit``), what drift needs of it."""

    id: str
    activity_at: datetime
    activity: str
    category: str | None
    service: str | None
    operation_type: str | None
    result: str | None
    initiated_by: str | None  # user principal name, user id, or app name: who to ask
    targets: tuple[AuditTarget, ...] = ()

    @property
    def succeeded(self) -> bool:
        """The activity took effect (result "success", or none given)."""
        # A failed attempt changed nothing; an event without a result is taken at its word.
        return self.result in (None, "", "success")


def _text(value: Any) -> str | None:
    return value if isinstance(value, str) and value.strip() else None


def _initiator(value: Any) -> str | None:
    if not isinstance(value, dict):
        return None
    user = value.get("user")
    if isinstance(user, dict):
        for key in ("userPrincipalName", "displayName", "id"):
            if found := _text(user.get(key)):
                return found
    app = value.get("app")
    if isinstance(app, dict):
        for key in ("displayName", "servicePrincipalName", "appId"):
            if found := _text(app.get(key)):
                return f"app {found}"
    return None


def _targets(value: Any) -> tuple[AuditTarget, ...]:
    if not isinstance(value, list):
        return ()
    targets = []
    for item in value:
        if not isinstance(item, dict):
            continue
        props = item.get("modifiedProperties")
        modified = tuple(
            ModifiedProperty(
                name=str(p.get("displayName") or ""),
                old_value=p.get("oldValue") if isinstance(p.get("oldValue"), str) else None,
                new_value=p.get("newValue") if isinstance(p.get("newValue"), str) else None,
            )
            for p in (props if isinstance(props, list) else [])
            if isinstance(p, dict)
        )
        targets.append(
            AuditTarget(
                id=_text(item.get("id")),
                display_name=_text(item.get("displayName")),
                type=_text(item.get("type")),
                modified=modified,
            )
        )
    return tuple(targets)


def event_from_graph(item: Any) -> AuditEvent:
    """Map one element of Graph's ``value`` array; raises MalformedAuditEvent when unusable."""
    if not isinstance(item, dict):
        raise MalformedAuditEvent(f"expected a JSON object, got {type(item).__name__}")
    event_id = _text(item.get("id"))
    if event_id is None:
        raise MalformedAuditEvent("audit event has no id")
    raw_time = item.get("activityDateTime")
    moment = parse_timestamp(raw_time) if isinstance(raw_time, str) else None
    if moment is None:
        raise MalformedAuditEvent(f"audit event {event_id} has no readable activityDateTime ({raw_time!r})")
    return AuditEvent(
        id=event_id,
        activity_at=moment,
        activity=_text(item.get("activityDisplayName")) or "",
        category=_text(item.get("category")),
        service=_text(item.get("loggedByService")),
        operation_type=_text(item.get("operationType")),
        result=_text(item.get("result")),
        initiated_by=_initiator(item.get("initiatedBy")),
        targets=_targets(item.get("targetResources")),
    )


def decode_value(text: str | None) -> Any:
    """A modified property's value with every layer of JSON text decoded.

    ``'["{\\"State\\":\\"Disabled\\"}"]'`` becomes ``[{"State": "Disabled"}]``; text that is not
    JSON stays text.
    """
    if text is None:
        return None
    return _decode(text, depth=0)


def _decode(value: Any, depth: int) -> Any:
    if depth > 5:
        return value
    if isinstance(value, str):
        stripped = value.strip()
        if stripped[:1] in ("{", "[", '"'):
            try:
                return _decode(json.loads(stripped), depth + 1)
            except ValueError:
                return value
        return value
    if isinstance(value, list):
        return [_decode(v, depth + 1) for v in value]
    if isinstance(value, dict):
        return {k: _decode(v, depth + 1) for k, v in value.items()}
    return value


def values_of(decoded: Any, key: str) -> Iterator[Any]:
    """Every value stored under ``key`` (case-insensitive) anywhere inside a decoded value."""
    wanted = key.casefold()
    if isinstance(decoded, dict):
        for name, value in decoded.items():
            if str(name).casefold() == wanted:
                yield value
            yield from values_of(value, key)
    elif isinstance(decoded, list):
        for value in decoded:
            yield from values_of(value, key)
