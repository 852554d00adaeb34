"""A connector's baseline: the settings it should have, who set them, when and how. Pure.

Stored in the state table, in the tenant's partition, one row per connector:
``baseline|<connector id in lower case>`` (hashed when it is no plain id, ``safe_key``). The
settings are Graph property -> value for the properties of ``fields.FIELDS`` that Graph reported
when the baseline was taken (a v1.0 read has no mac* properties: they are simply not judged).
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass
from datetime import datetime
from enum import StrEnum

from shared.store.rows import RowKind, safe_key

AUTOMATIC = "MTD Guard"  # who took a first-seen baseline or restored one by itself


class BaselineSource(StrEnum):
    """How a baseline was set (API ``baseline.source``)."""

    FIRST_SEEN = "firstSeen"  # a sweep met the connector without one (CONNECTOR_BASELINE=first-seen)
    ADOPTED = "adopted"  # POST /api/connectors/{partner}/baseline took the settings Graph held
    CONFIGURED = "configured"  # a configure write: what Intune kept after it, verified by a re-read
    ACCEPTED = "accepted"  # a connectorDrift finding acknowledged with accept


@dataclass(frozen=True)
class Baseline:
    """The settings connector ``connector_id`` should have (Graph property -> value)."""

    tenant_id: str
    connector_id: str
    settings: dict[str, bool | int]
    set_by: str  # Entra principal, webhook source, or "MTD Guard"
    set_at: datetime  # UTC
    source: BaselineSource
    note: str | None = None
    ticket: str | None = None


def baseline_key(connector_id: str) -> str:
    """The key after ``baseline|``: the connector id in lower case, made safe for a RowKey."""
    return safe_key(connector_id.lower())


BASELINE_ROWS = RowKind(
    Baseline,
    "baseline",
    key=lambda b: baseline_key(b.connector_id),
    layout="<connector id>: the settings a connector should have, who set them, when and how",
)


def updated(
    existing: Baseline | None,
    *,
    tenant_id: str,
    connector_id: str,
    settings: Mapping[str, bool | int],
    set_by: str,
    at: datetime,
    source: BaselineSource,
    note: str | None = None,
    ticket: str | None = None,
) -> Baseline:
    """``existing`` with ``settings`` laid over it (a configure write names only what it manages,
    so the rest of the baseline stays), or a new baseline of ``settings`` when there is none."""
    merged = {**(existing.settings if existing else {}), **settings}
    return Baseline(tenant_id, connector_id, merged, set_by, at, source, note, ticket)
