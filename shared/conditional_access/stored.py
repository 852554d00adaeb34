"""What the Conditional Access drift job keeps in the store: the classic and modern baselines, planned
removals, the audit-log cursor and the processed audit events (row kinds beside their types:
classic/rows.py, modern.py)."""

from __future__ import annotations

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
from shared.store.rows import ge, lt

if TYPE_CHECKING:
    from shared.store.state import StateStore


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
