"""Connector baselines in the store (the state table, the tenant's partition, ``baseline|<id>``)."""

from __future__ import annotations

from typing import TYPE_CHECKING

from shared.configure.baseline import BASELINE_ROWS, Baseline, baseline_key

if TYPE_CHECKING:
    from shared.store.state import StateStore  # passed in: this module stays free of the SDK


def stored_baselines(store: StateStore, tenant_id: str) -> dict[str, Baseline]:
    """Every connector's baseline, by lower-case connector id (one query of the ``baseline`` range)."""
    return {b.connector_id.lower(): b for b in store.query(BASELINE_ROWS, tenant_id)}


def stored_baseline(store: StateStore, tenant_id: str, connector_id: str) -> Baseline | None:
    """One connector's baseline, None when it has none."""
    return store.get(BASELINE_ROWS, tenant_id, baseline_key(connector_id))
