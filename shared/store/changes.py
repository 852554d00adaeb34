"""Idempotency records and the configure lease: rows of table ``mtdguardchanges`` written with
claims and ETags rather than as declared kinds.

Table ``mtdguardchanges``, partition = tenant id (like ``mtdguardstate``), one row kind per RowKey
prefix:

``audit|<inverted ticks>|<entry id>``
    The audit trail: a declared kind (``AUDIT_ENTRY_ROWS`` in shared/audit/entries.py), written and
    read through ``StateStore``.
``idem|<sha256 of source and key>``
    An idempotency record: ``state`` pending|done, ``fingerprint`` (sha256 of method, path, query
    and body: the same key with another request is refused), ``claimedAt`` (a claim still pending
    after 5 minutes was abandoned by a crashed delivery and may be taken over), ``expiresAt`` (24 h),
    and once done the first response: ``status``, ``contentType``, ``headers`` (JSON) and
    ``body0``..``bodyN`` (zlib-compressed, split into binary properties of at most 60,000 bytes).
    The row's creation is the claim: Table Storage answers 409 to a second insert of the same
    key, so of two concurrent deliveries exactly one runs.
``lock|configure``
    The tenant's configure lease: ``holder`` (a random id per request), ``heldUntil``, ``version``
    (counts every acquisition). Taken and released only with ETag-conditional writes (If-Match),
    so two writers can never both believe they hold it; an expired lease (a crashed holder) is
    taken over the same way.
"""

from __future__ import annotations

import contextlib
import dataclasses
import hashlib
import json
import uuid
import zlib
from dataclasses import dataclass
from datetime import datetime, timedelta
from enum import StrEnum
from typing import Any

from azure.core import MatchConditions
from azure.core.exceptions import (
    ResourceExistsError,
    ResourceModifiedError,
    ResourceNotFoundError,
)
from azure.data.tables import TableClient, UpdateMode

from shared.store.rows import CHANGES_TABLE
from shared.store.state import StateStore, storage_errors

IDEMPOTENCY_WINDOW = timedelta(hours=24)
# A claim still pending this long belongs to a delivery whose process died: a retry may take it.
# Longer than any request can run (Graph retries included), far shorter than the 24 h window.
ABANDONED_AFTER = timedelta(minutes=5)
_CHUNK = 60_000  # binary property limit is 64 KiB
_MAX_CHUNKS = 15  # entity limit is 1 MiB
LOCK_ROW = "lock|configure"


class ClaimState(StrEnum):
    """What ``ChangeStore.claim`` found for an Idempotency-Key: run the request, replay the
    stored answer, wait for the delivery still running (409 if it outlasts the wait), or refuse
    (422) a key reused for another request."""

    CLAIMED = "claimed"  # this caller runs the request
    DONE = "done"  # an earlier delivery finished: replay its response
    PENDING = "pending"  # an earlier delivery is still running
    MISMATCH = "mismatch"  # the key was used for a different request


@dataclass(frozen=True)
class StoredResponse:
    """The first answer to an idempotent request, kept for 24 h to be replayed byte for byte
    (status, body, content type and the headers worth repeating)."""

    status: int
    body: bytes
    content_type: str
    headers: dict[str, str] = dataclasses.field(default_factory=dict)


@dataclass(frozen=True)
class Claim:
    """The outcome of ``ChangeStore.claim``; ``response`` is set only for ``done``."""

    state: ClaimState
    response: StoredResponse | None = None


def key_row(source: str, key: str) -> str:
    """The RowKey of the idempotency record of ``key`` sent to ``source`` (a route or hook scope):
    'idem|' and the SHA-256 hex of both, so any key text fits a RowKey."""
    digest = hashlib.sha256(f"{source}\n{key}".encode()).hexdigest()
    return f"idem|{digest}"


class ChangeStore:
    """Idempotency records and the configure lease in table ``mtdguardchanges`` (see the module
    docstring for the rows). Methods raise ``StoreError`` when storage fails."""

    def __init__(self, state: StateStore) -> None:
        self._state = state

    def _table(self) -> TableClient:
        return self._state.table(CHANGES_TABLE, ensure=True)

    # -- idempotency ---------------------------------------------------------------------

    @storage_errors()
    def claim(self, tenant_id: str, row: str, fingerprint: str, now: datetime) -> Claim:
        """Insert-if-absent the key's row; otherwise say what the earlier delivery left."""
        entity = {
            "PartitionKey": tenant_id,
            "RowKey": row,
            "state": "pending",
            "fingerprint": fingerprint,
            "claimedAt": now,
            "expiresAt": now + IDEMPOTENCY_WINDOW,
        }
        table = self._table()
        try:
            table.create_entity(entity)
            return Claim(ClaimState.CLAIMED)
        except ResourceExistsError:
            pass
        try:
            existing = table.get_entity(tenant_id, row)
        except ResourceNotFoundError:  # released in between: try once more
            return self._claim_again(table, entity)
        etag = str(existing.metadata["etag"])
        expires = existing.get("expiresAt")
        if isinstance(expires, datetime) and expires <= now:  # an old delivery: the key is free again
            return self._take_over(table, entity, etag)
        if existing.get("fingerprint") != fingerprint:
            return Claim(ClaimState.MISMATCH)
        if existing.get("state") == "done":
            return Claim(ClaimState.DONE, _response(existing))
        claimed = existing.get("claimedAt")
        if isinstance(claimed, datetime) and claimed + ABANDONED_AFTER <= now:
            return self._take_over(table, entity, etag)  # its caller died before answering
        return Claim(ClaimState.PENDING)

    def _claim_again(self, table: TableClient, entity: dict[str, Any]) -> Claim:
        try:
            table.create_entity(entity)
        except ResourceExistsError:
            return Claim(ClaimState.PENDING)
        return Claim(ClaimState.CLAIMED)

    def _take_over(self, table: TableClient, entity: dict[str, Any], etag: str) -> Claim:
        try:
            table.update_entity(
                entity, mode=UpdateMode.REPLACE, etag=etag, match_condition=MatchConditions.IfNotModified
            )
        except (ResourceModifiedError, ResourceNotFoundError):
            return Claim(ClaimState.PENDING)  # another delivery took it first
        return Claim(ClaimState.CLAIMED)

    @storage_errors("could not keep the response")
    def complete(self, tenant_id: str, row: str, response: StoredResponse, now: datetime) -> None:
        """Keep the first response for replays (merged into the claimed row)."""
        compressed = zlib.compress(response.body)
        chunks = [compressed[i : i + _CHUNK] for i in range(0, len(compressed), _CHUNK)] or [b""]
        if len(chunks) > _MAX_CHUNKS:  # too large to keep: a replay then runs the request again
            self.release(tenant_id, row)
            return
        entity: dict[str, Any] = {
            "PartitionKey": tenant_id,
            "RowKey": row,
            "state": "done",
            "completedAt": now,
            "status": response.status,
            "contentType": response.content_type,
            "headers": json.dumps(response.headers),
            "chunks": len(chunks),
            **{f"body{i}": chunk for i, chunk in enumerate(chunks)},
        }
        self._table().update_entity(entity, mode=UpdateMode.MERGE)

    @storage_errors()
    def release(self, tenant_id: str, row: str) -> None:
        """Forget a claim whose request failed transiently, so a retry runs it again."""
        with contextlib.suppress(ResourceNotFoundError):
            self._table().delete_entity(tenant_id, row)

    # -- the configure lease -------------------------------------------------------------

    @storage_errors()
    def acquire(self, tenant_id: str, now: datetime, lease: timedelta) -> str | None:
        """Take the tenant's configure lease; the holder id, or None while someone else holds it."""
        holder = str(uuid.uuid4())
        table = self._table()
        try:
            current = table.get_entity(tenant_id, LOCK_ROW)
        except ResourceNotFoundError:
            current = None
        entity: dict[str, Any] = {
            "PartitionKey": tenant_id,
            "RowKey": LOCK_ROW,
            "holder": holder,
            "heldUntil": now + lease,
        }
        try:
            if current is None:
                table.create_entity({**entity, "version": 1})
                return holder
            held_until = current.get("heldUntil")
            if current.get("holder") and isinstance(held_until, datetime) and held_until > now:
                return None
            entity["version"] = int(current.get("version") or 0) + 1
            table.update_entity(
                entity,
                mode=UpdateMode.REPLACE,
                etag=current.metadata["etag"],
                match_condition=MatchConditions.IfNotModified,
            )
        except (ResourceExistsError, ResourceModifiedError, ResourceNotFoundError):
            return None  # someone else got there between our read and our write
        return holder

    @storage_errors()
    def release_lease(self, tenant_id: str, holder: str) -> None:
        """Give the lease back, only if we still hold it (ETag-guarded)."""
        table = self._table()
        try:
            current = table.get_entity(tenant_id, LOCK_ROW)
            if current.get("holder") != holder:
                return
            table.update_entity(
                {
                    "PartitionKey": tenant_id,
                    "RowKey": LOCK_ROW,
                    "holder": "",
                    "version": current.get("version"),
                },
                mode=UpdateMode.REPLACE,
                etag=current.metadata["etag"],
                match_condition=MatchConditions.IfNotModified,
            )
        except (ResourceModifiedError, ResourceNotFoundError):
            return


def _response(entity: Any) -> StoredResponse:
    count = int(entity.get("chunks") or 0)
    compressed = b"".join(bytes(entity.get(f"body{i}") or b"") for i in range(count))
    headers = json.loads(entity.get("headers") or "{}")
    return StoredResponse(
        status=int(entity["status"]),
        body=zlib.decompress(compressed) if compressed else b"",
        content_type=str(entity.get("contentType") or "application/json"),
        headers={str(k): str(v) for k, v in headers.items()},
    )
