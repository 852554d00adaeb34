"""An MTD connector as Graph reports it, read defensively from Graph's JSON.

Nothing here trusts the payload: a malformed timestamp, an unknown ``partnerState`` or a missing
threshold is kept as what it was (so the reason can quote it) and judged later as ``unknown``,
never raised as an exception that would abort a sweep over the other connectors.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from datetime import UTC, datetime
from typing import Any

from shared.graph.entries import MAX_ID, bounded

# Intune reports "never" as the .NET minimum date on some tenants rather than null.
_NEVER_BEFORE = datetime(2000, 1, 1, tzinfo=UTC)

# The admin-center toggles (v1.0 names); beta adds the mac* and windows MAM ones.
TOGGLES_V1: tuple[str, ...] = (
    "androidEnabled",
    "iosEnabled",
    "windowsEnabled",
    "androidDeviceBlockedOnMissingPartnerData",
    "iosDeviceBlockedOnMissingPartnerData",
    "windowsDeviceBlockedOnMissingPartnerData",
    "androidMobileApplicationManagementEnabled",
    "iosMobileApplicationManagementEnabled",
    "partnerUnsupportedOsVersionBlocked",
    "allowPartnerToCollectIOSApplicationMetadata",
    "allowPartnerToCollectIOSPersonalApplicationMetadata",
    "microsoftDefenderForEndpointAttachEnabled",
)
TOGGLES_BETA_ONLY: tuple[str, ...] = (
    "macEnabled",
    "macDeviceBlockedOnMissingPartnerData",
    "windowsMobileApplicationManagementEnabled",
)


class MalformedConnector(ValueError):
    """An entry in Graph's list that is not a connector at all (no id, not an object)."""


@dataclass(frozen=True)
class ConnectorReading:
    """One connector as read from Graph, raw values kept next to what could be parsed."""

    id: str
    partner_state: str | None
    last_heartbeat: datetime | None  # None: never, null, or unreadable (see heartbeat_unreadable)
    last_heartbeat_raw: str | None
    heartbeat_unreadable: bool
    threshold_days: int | None  # None when Graph gave null, 0, or something that is not a number
    toggles: dict[str, bool] = field(default_factory=dict)
    # Beta's undocumented read-only partner facts, only when sent: partnerSupports{AndroidMam,
    # IosMam,WindowsMam} (bool) and partnerMinimumSupported{Android,Ios,Mac,Windows}Version (text).
    partner_facts: dict[str, bool | str] = field(default_factory=dict)


def parse_timestamp(raw: str) -> datetime | None:
    """An aware UTC datetime from Graph's ISO 8601 text; None when it is not a timestamp."""
    try:
        parsed = datetime.fromisoformat(raw)
    except ValueError:
        return None
    if parsed.tzinfo is None:  # Graph always sends an offset; a bare value is taken as UTC
        parsed = parsed.replace(tzinfo=UTC)
    return parsed.astimezone(UTC)


def _heartbeat(value: Any) -> tuple[datetime | None, str | None, bool]:
    if value is None:
        return None, None, False
    if not isinstance(value, str):
        return None, bounded(repr(value), 100), True
    parsed = parse_timestamp(value)
    if parsed is None:
        return None, bounded(value, 100), True
    if parsed < _NEVER_BEFORE:
        return None, value, False
    return parsed, value, False


def _threshold(value: Any) -> int | None:
    # bool is an int in Python; a true/false threshold is as meaningless as a missing one.
    if isinstance(value, bool) or not isinstance(value, int) or value <= 0:
        return None
    return value


def reading_from_graph(item: Any) -> ConnectorReading:
    """Map one element of Graph's ``value`` array; raises MalformedConnector if it has no id.
    Strings are bounded (``entries.bounded``): an id beyond ``MAX_ID`` characters is kept cut,
    with a marker, so any entry can be stored."""
    if not isinstance(item, dict):
        raise MalformedConnector(f"expected a JSON object, got {type(item).__name__}")
    connector_id = item.get("id")
    if not isinstance(connector_id, str) or not connector_id.strip():
        raise MalformedConnector("connector entry has no id")
    heartbeat, raw, unreadable = _heartbeat(item.get("lastHeartbeatDateTime"))
    state = item.get("partnerState")
    toggles = {
        name: value for name in TOGGLES_V1 + TOGGLES_BETA_ONLY if isinstance(value := item.get(name), bool)
    }
    return ConnectorReading(
        id=bounded(connector_id.strip(), MAX_ID),
        partner_state=bounded(state, 100) if isinstance(state, str) else None,
        last_heartbeat=heartbeat,
        last_heartbeat_raw=raw,
        heartbeat_unreadable=unreadable,
        threshold_days=_threshold(item.get("partnerUnresponsivenessThresholdInDays")),
        toggles=toggles,
        partner_facts=_partner_facts(item),
    )


def _partner_facts(item: dict[str, Any]) -> dict[str, bool | str]:
    """The beta partner facts present in ``item``, well-typed ones only (absent: not known)."""
    facts: dict[str, bool | str] = {}
    for name, value in item.items():
        if name.startswith("partnerSupports") and isinstance(value, bool):
            facts[name] = value
        elif name.startswith("partnerMinimumSupported") and isinstance(value, str) and value.strip():
            facts[name] = bounded(value.strip(), 40)
    return dict(sorted(facts.items())[:20])
