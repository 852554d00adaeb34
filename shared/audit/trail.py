"""The audit trail in the store: append an entry, page through entries newest first.

Rows of ``AUDIT_ENTRY_ROWS`` (shared/audit/entries.py). A time window is a RowKey range (no scan):
keys start with inverted ticks, so a newer entry has a smaller key. Raises StoreError when storage
is unreachable.
"""

from __future__ import annotations

from typing import TYPE_CHECKING

from shared.audit.entries import AUDIT_ENTRY_ROWS, AuditEntry, AuditQuery, audit_key
from shared.store.rows import Where, eq, gt, le

if TYPE_CHECKING:
    from shared.store.state import StateStore

_AFTER_ANY_ID = "~"  # sorts after every entry id: bounds a window at a moment, whatever the ids


def record(store: StateStore, entry: AuditEntry) -> None:
    """Append one entry (inserted: an entry is never rewritten)."""
    store.commit(entry.tenant_id, [[entry]])


def page(
    store: StateStore, tenant_id: str, query: AuditQuery, limit: int, after: str | None = None
) -> tuple[list[AuditEntry], str | None]:
    """Newest first; ``after`` is the RowKey the previous page ended with. Returns the page and
    the RowKey to continue after (None on the last page)."""
    where: list[Where] = []
    if query.until is not None:  # exclusive: newer rows have smaller keys
        where.append(gt("RowKey", AUDIT_ENTRY_ROWS.row_key(audit_key(query.until, _AFTER_ANY_ID))))
    if query.since is not None:  # inclusive
        where.append(le("RowKey", AUDIT_ENTRY_ROWS.row_key(audit_key(query.since, _AFTER_ANY_ID))))
    named = (
        ("target", query.target),
        ("result", query.result),
        ("ticket", query.ticket),
        ("action", query.action),
    )
    where += [eq(column, str(value)) for column, value in named if value is not None]
    return store.page(AUDIT_ENTRY_ROWS, tenant_id, *where, limit=limit, after=after)
