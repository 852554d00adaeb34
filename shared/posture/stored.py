"""The posture and chain-link baselines in the store: reads for GET /api/posture, the status page
and the chain run. Never Graph."""

from __future__ import annotations

from collections.abc import Iterable
from typing import TYPE_CHECKING

from shared.posture.findings import LINK_BASELINE_ROWS, LinkBaseline
from shared.posture.model import PLATFORMS, POSTURE_ROWS, PlatformPosture, Posture

if TYPE_CHECKING:  # the store's SDK loads only where a store is built
    from shared.store.state import StateStore

_ORDER = list(PLATFORMS)


def stored_posture(store: StateStore, tenant_id: str) -> Posture | None:
    """The last stored posture of ``tenant_id`` (platforms in the order Android, iOS/iPadOS,
    Windows, macOS); None before the first chain run. Raises StoreError."""
    return posture_of(tenant_id, store.query(POSTURE_ROWS, tenant_id))


def posture_of(tenant_id: str, rows: Iterable[PlatformPosture]) -> Posture | None:
    """The posture made of its stored ``posture|<platform>`` rows (read with other kinds in one
    partition read by the status page), platforms in the order Android, iOS/iPadOS, Windows,
    macOS; None when there is none."""
    ordered = sorted(rows, key=lambda p: _ORDER.index(p.platform) if p.platform in _ORDER else len(_ORDER))
    if not ordered:
        return None
    return Posture(tenant_id, min(p.checked_at for p in ordered), ordered)


def link_baselines(store: StateStore, tenant_id: str) -> dict[str, LinkBaseline]:
    """The chain links as last seen, keyed '<kind>.<platform in lower case>'."""
    return {f"{b.kind}.{b.platform.lower()}": b for b in store.query(LINK_BASELINE_ROWS, tenant_id)}
