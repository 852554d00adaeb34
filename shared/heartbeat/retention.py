"""The daily prune (timer ``prune_history``, PRUNE_SCHEDULE): history and delivered alerts past the
retention (HISTORY_RETENTION_DAYS), off the sweep's hot path.

History RowKeys start with inverted ticks (``obs|<inverted ticks>|<connector key>``), so every
observation older than the cutoff is ONE RowKey range, read and deleted in batches of 100,
whatever the number of connectors, except each connector's newest (a sweep stores one per change:
that row says what the connector has been since). Rows of the layout before it (``<connector key>|<inverted
ticks>``) are found by two ranges around ``obs|`` filtered on ``checked_at``; they are empty once
the last such row has aged out. Alerts: those no channel still has to deliver, detected before the
cutoff (shared/alerting/stored.py). Raises StoreError when storage is unreachable.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime, timedelta
from typing import TYPE_CHECKING

from shared.alerting.stored import prune_alerts
from shared.heartbeat.plan import (
    LEGACY_OBSERVATION_ROWS,
    OBSERVATION_ROWS,
    LegacyObservation,
    Observation,
    connector_key,
)
from shared.store.rows import RowDelete, ge, inverted_ticks, lt

if TYPE_CHECKING:
    from shared.store.state import StateStore


@dataclass(frozen=True)
class Pruned:
    """How many rows one prune deleted."""

    observations: int
    alerts: int


def prune(store: StateStore, tenant_id: str, now: datetime, retention_days: int) -> Pruned:
    """Delete ``tenant_id``'s observations and delivered alerts older than ``retention_days`` before
    ``now``; rows exactly at the cutoff stay."""
    cutoff = now - timedelta(days=retention_days)
    return Pruned(prune_history(store, tenant_id, cutoff), prune_alerts(store, tenant_id, cutoff))


def prune_history(store: StateStore, tenant_id: str, older_than: datetime) -> int:
    """Delete the observations from before ``older_than``, except each connector's newest one:
    a sweep stores an observation only when something changed, so that row is what the connector
    has been since (a connector unchanged for longer than the retention would otherwise lose its
    whole history, and its chart the start of its line). Returns how many went."""
    # One microsecond earlier: its inverted ticks are one more, the first key strictly older.
    first_older = OBSERVATION_ROWS.row_key(inverted_ticks(older_than - timedelta(microseconds=1)))
    old: list[Observation] = store.query(OBSERVATION_ROWS, tenant_id, ge("RowKey", first_older))
    before = lt("checked_at", older_than)
    legacy: list[LegacyObservation] = []
    for outside in (lt("RowKey", "obs|"), ge("RowKey", "obs}")):
        legacy += store.query(LEGACY_OBSERVATION_ROWS, tenant_id, before, outside)
    old += legacy
    kept: set[str] = set()
    doomed: list[list[object]] = []
    for seen in sorted(old, key=lambda o: o.checked_at, reverse=True):
        key = connector_key(seen.connector_id)
        if key in kept:
            doomed.append([_delete(seen)])
        kept.add(key)
    store.commit(tenant_id, doomed)
    return len(doomed)


def _delete(seen: Observation) -> RowDelete:
    if isinstance(seen, LegacyObservation):
        return LEGACY_OBSERVATION_ROWS.delete_of(seen)
    return OBSERVATION_ROWS.delete_of(seen)
