"""Reading the tenant's findings from the store (rows of ``FINDING_ROWS``, shared/findings/model.py)."""

from __future__ import annotations

from typing import TYPE_CHECKING

from shared.findings.model import FINDING_ROWS, Finding
from shared.store.rows import eq

if TYPE_CHECKING:
    from shared.store.state import StateStore


def stored_findings(store: StateStore, tenant_id: str, kind: str | None = None) -> dict[str, Finding]:
    """The tenant's findings by id (of one kind when given), each with the ETag it was read at.

    Raises StoreError when storage is unreachable."""
    where = [eq("kind", kind)] if kind else []
    return {f.id: f for f in store.query(FINDING_ROWS, tenant_id, *where)}
