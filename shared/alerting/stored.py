"""Alerts and threads as the store keeps them (``ALERT_ROWS``, ``THREAD_ROWS`` in alerts.py).

Every function raises StoreError when storage is unreachable.
"""

from __future__ import annotations

from datetime import datetime
from typing import TYPE_CHECKING

from shared.alerting.alerts import ALERT_ROWS, THREAD_ROWS, Alert, Thread
from shared.store.rows import Where, eq, ge, lt

if TYPE_CHECKING:
    from shared.store.state import StateStore


def pending_alerts(store: StateStore, tenant_id: str | None = None) -> list[tuple[Alert, str]]:
    """Alerts with any channel still to deliver (of one tenant, or across tenants), with ETags."""
    return store.query_with_etags(ALERT_ROWS, tenant_id, eq("pending", True))


def thread(store: StateStore, tenant_id: str, channel: str, finding_id: str) -> Thread | None:
    """What ``channel`` was told about the finding so far, None before its first alert there."""
    return store.get(THREAD_ROWS, tenant_id, f"{channel}|{finding_id}")


def query_alerts(
    store: StateStore,
    tenant_id: str,
    *,
    kind: str | None = None,
    severity: str | None = None,
    finding_id: str | None = None,
    since: datetime | None = None,
) -> list[Alert]:
    """A tenant's alerts, filtered by the server on what the row holds as columns; ``since``
    counts from its whole second (detected at or after it)."""
    named = (("kind", kind), ("severity", severity), ("finding_id", finding_id))
    where: list[Where] = [eq(column, value) for column, value in named if value]
    if since is not None:
        where.append(ge("detected_at", since.replace(microsecond=0)))
    return store.query(ALERT_ROWS, tenant_id, *where)


def alert_with_etag(store: StateStore, tenant_id: str, alert_id: str) -> tuple[Alert, str] | None:
    """One alert and its ETag (for ``save_alert``), None when there is no such alert."""
    return store.get_with_etag(ALERT_ROWS, tenant_id, alert_id)


def save_alert(store: StateStore, alert: Alert, etag: str | None) -> str | None:
    """Replace an alert row only if nobody changed it since ``etag``; returns the new ETag,
    or None when another run got there first (it now owns the delivery)."""
    return store.save(alert.tenant_id, alert, etag)


def prune_alerts(store: StateStore, tenant_id: str, older_than: datetime) -> int:
    """Delete alerts detected before the retention that no channel still has to deliver.

    Pending ones stay whatever their age: nothing detected is dropped before it was told."""
    cutoff = older_than.replace(microsecond=0)
    return store.delete_where(ALERT_ROWS, tenant_id, eq("pending", False), lt("detected_at", cutoff))
