"""What the Conditional Access drift job keeps in the store: the classic and modern baselines, planned
removals, the audit-log cursor, the processed audit events (row kinds beside their types:
classic/rows.py, modern.py) and since when Graph has failed transiently (declared here)."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime
from typing import TYPE_CHECKING

from shared.conditional_access.classic.rows import (
    AUDIT_CURSOR,
    AUDIT_CURSOR_ROWS,
    CLASSIC_POLICY_ROWS,
    PLANNED_REMOVAL_ROWS,
    PROCESSED_EVENT_ROWS,
    AuditCursor,
    ClassicPolicy,
    PlannedRemoval,
)
from shared.conditional_access.modern import MODERN_POLICY_ROWS, ModernPolicy
from shared.store.rows import RowKind, ge, lt

if TYPE_CHECKING:
    from shared.store.state import StateStore


@dataclass(frozen=True)
class GraphTransient:
    """Row ``catransient|<resource>``: Graph has throttled or failed transiently (429, 503, 504,
    timeouts) on every read of ``resource`` since ``since`` (UTC); deleted once it answers or a
    failure that is not transient replaces it. The grace before a finding counts from ``since``."""

    tenant_id: str
    resource: str  # drift.AUDIT_RESOURCE or drift.POLICIES_RESOURCE
    since: datetime


GRAPH_TRANSIENT_ROWS = RowKind(
    GraphTransient,
    "catransient",
    key=lambda t: t.resource,
    layout="since when Graph fails transiently on a Conditional Access read (grace before a finding)",
)


def graph_transients(store: StateStore, tenant_id: str) -> dict[str, GraphTransient]:
    """The reads Graph is failing transiently on, by resource."""
    return {t.resource: t for t in store.query(GRAPH_TRANSIENT_ROWS, tenant_id)}


def classic_baseline(store: StateStore, tenant_id: str) -> dict[str, ClassicPolicy]:
    """The known classic policies by key (policy id, or name-hash when only the name is known)."""
    return {p.key: p for p in store.query(CLASSIC_POLICY_ROWS, tenant_id)}


def modern_baseline(store: StateStore, tenant_id: str) -> dict[str, ModernPolicy]:
    """The baselined modern policies by lower-case policy id."""
    return {p.policy_id.lower(): p for p in store.query(MODERN_POLICY_ROWS, tenant_id)}


def planned_removals(store: StateStore, tenant_id: str) -> list[PlannedRemoval]:
    """Announced removals, oldest announcement first."""
    return sorted(store.query(PLANNED_REMOVAL_ROWS, tenant_id), key=lambda r: r.announced_at)


def audit_cursor(store: StateStore, tenant_id: str) -> AuditCursor | None:
    """How far the directory audit log was read, None before the first read."""
    return store.get(AUDIT_CURSOR_ROWS, tenant_id, AUDIT_CURSOR)


def processed_events(store: StateStore, tenant_id: str, since: datetime) -> set[str]:
    """Ids of the audit events at or after ``since`` that were already processed."""
    return {e.event_id for e in store.query(PROCESSED_EVENT_ROWS, tenant_id, ge("activity_at", since))}


def prune_processed_events(store: StateStore, tenant_id: str, before: datetime) -> int:
    """Forget processed events older than any future read can return again."""
    return store.delete_where(PROCESSED_EVENT_ROWS, tenant_id, lt("activity_at", before))
