"""MTD Guard's state in Azure Table Storage, generic over row kinds (shared/store/rows.py).

The store knows tables, partitions, RowKeys and batches, not what a row means: each stored type
declares its ``RowKind`` beside itself, and ``rows.layout()`` lists them. The tables:

``mtdguardstate``
    What is true now, partition = tenant id, one kind per RowKey prefix: ``connector|<id>``,
    ``finding|<id>``, ``alert|<id>``, ``thread|<channel>|<finding id>``, ``sweep|<name>``,
    ``classic|<key>``, ``capolicy|<id>``, ``cursor|<name>``, ``auditevent|<event id>``,
    ``removal|<id>``, ``import|<name>`` (each described at its kind). They share the tenant's
    partition on purpose: a connector's new status, its finding and its alert are written in ONE
    batch transaction (``commit``), so a crash can never record a change without its alert (or the
    reverse). A kind written ``INSERT`` (audit events) makes a second run's batch fail whole, and
    ``IF_UNCHANGED`` (findings, the sweep record) fails it when the row changed since it was read:
    StoreConflict.
``mtdguardhistory``
    Every observation, partition = tenant id, RowKey ``obs|<inverted ticks>|<connector key>`` so
    the newest come first and everything past the retention is one RowKey range (rows of the
    layout before, ``<connector key>|<inverted ticks>``, are read and pruned until they age out).
``mtdguardchanges``
    The audit trail (``audit|<inverted ticks>|<entry id>``), idempotency records and the configure
    lease (shared/store/changes.py).

Every failure of Azure comes out as StoreError (StoreConflict when another writer came first),
turned so in ONE place (``storage_errors``); messages are safe to show: the first line of Azure's
message, with anything shaped like a key or signature blanked.
"""

from __future__ import annotations

import contextlib
import logging
import re
from collections.abc import Callable, Iterable, Iterator, Sequence
from typing import TYPE_CHECKING, Any, ClassVar, TypeVar

from azure.core import MatchConditions
from azure.core.exceptions import (
    AzureError,
    HttpResponseError,
    ResourceExistsError,
    ResourceModifiedError,
    ResourceNotFoundError,
)
from azure.data.tables import (
    TableClient,
    TableServiceClient,
    TableTransactionError,
    TransactionOperation,
    UpdateMode,
)

from shared.store.codec import decode, encode, stored_names
from shared.store.errors import StoreConflict, StoreError, StoreRejected
from shared.store.rows import STATE_TABLE, RowDelete, RowKind, Select, Where, Write, kind_of
from shared.store.timeouts import client_options

if TYPE_CHECKING:
    from azure.core.credentials import TokenCredential

# The errors are defined in shared/store/errors.py (no SDK, for the HTTP toolkit's import) and
# re-exported here: callers import them from either module.
__all__ = ["Operation", "StateStore", "StoreConflict", "StoreError", "StoreRejected", "storage_errors"]
log = logging.getLogger(__name__)
T = TypeVar("T")

_BATCH_LIMIT = 100  # Table Storage's limit of operations per transaction
_PAGE = 1000  # Table Storage's largest page
_SECRET = re.compile(r"(?i)(AccountKey|SharedAccessSignature|sig|Signature)=[^;&\s]+")
_CONDITIONAL = {"mode": UpdateMode.REPLACE, "match_condition": MatchConditions.IfNotModified}

Operation = tuple[Any, ...]


def _brief(exc: Exception) -> str:
    # Azure SDK messages can be long and multi-line; the first line names the problem.
    text = str(getattr(exc, "message", None) or exc).strip().splitlines()
    return _SECRET.sub(r"\1=***", (text[0] if text else type(exc).__name__)[:300])


@contextlib.contextmanager
def storage_errors(doing: str = "", *, writes: bool = False) -> Iterator[None]:
    """Azure failures inside become StoreError (the one place they do); ``doing`` says what failed.
    A batch's failure says whether another writer came first or a row was refused
    (``_write_failure``); with ``writes``, so does a failed write sent as a request of its own."""
    try:
        yield
    except TableTransactionError as exc:
        raise _write_failure(doing, exc) from exc
    except HttpResponseError as exc:
        raise (_write_failure(doing, exc) if writes else StoreError(_unavailable(doing, exc))) from exc
    except AzureError as exc:
        raise StoreError(_unavailable(doing, exc)) from exc


def _write_failure(doing: str, exc: HttpResponseError) -> StoreError:
    # 409: an inserted row exists; 412: a row changed since it was read. Either way another run (or
    # person) wrote first, and the caller must re-plan against what is there now.
    if exc.status_code in (409, 412):
        return StoreConflict(f"another run recorded this change first ({_brief(exc)})")
    if exc.status_code in (400, 413):
        return StoreRejected(f"state storage refused a row: {doing} ({_brief(exc)})")
    return StoreError(_unavailable(doing, exc))


def _unavailable(doing: str, exc: Exception) -> str:
    return (
        f"state storage unavailable: {doing} ({_brief(exc)})"
        if doing
        else f"state storage unavailable: {_brief(exc)}"
    )


class StateStore:
    """Rows of declared kinds in the tenant's partition: read, query, commit atomically."""

    _ensured: ClassVar[set[tuple[str, str]]] = set()  # (account URL, table) made sure of by this process

    def __init__(self, service: TableServiceClient, options: dict[str, Any] | None = None) -> None:
        self._service = service
        # The client options (shared/store/timeouts.py) of every table's client: given by
        # ``connect``, the service's own, so all share one transport and its connection pool.
        self._options = options if options is not None else client_options()
        self._tables: dict[str, TableClient] = {}  # one client per table, built on first use

    @classmethod
    def connect(
        cls,
        *,
        connection_string: str | None,
        endpoint: str | None,
        credential: Callable[[], TokenCredential],
    ) -> StateStore:
        """A connection string (Azurite) as given; otherwise ``endpoint`` (the table service URI)
        with the app's credential (managed identity), built only then. Every call is bounded in
        time (shared/store/timeouts.py)."""
        options = client_options()
        if connection_string:
            return cls(TableServiceClient.from_connection_string(connection_string, **options), options)
        if not endpoint:
            raise StoreError("state storage is not configured: no connection string and no table endpoint")
        return cls(TableServiceClient(endpoint=endpoint, credential=credential(), **options), options)

    def table(self, name: str, *, ensure: bool = False) -> TableClient:
        """A table of this account. Nothing is asked of storage for it: in Azure the deployment
        (Bicep) created the tables; locally (a new Azurite) the first operation through the store
        that finds a table missing creates it and tries again (``_on_table``). ``ensure``: make
        sure it exists first, once per process, for a caller that acts on the table itself
        (the change store's claims and lease: rare, so one round trip more is nothing)."""
        if ensure and (self._service.url, name) not in self._ensured:
            self._create(name)
            self._ensured.add((self._service.url, name))
        client = self._tables.get(name)
        if client is None:
            # Not the service's get_table_client: that wraps the service's transport in one whose
            # retry backoff is a plain time.sleep, past the invocation's budget; a client built
            # with the bounded transport itself (timeouts.py) bounds its tries and its sleeps.
            client = self._tables[name] = TableClient(
                self._service.url, name, credential=self._service.credential, **self._options
            )
        return client

    def _create(self, name: str) -> None:
        with storage_errors(f"cannot open table {name}"):
            self._service.create_table_if_not_exists(name)

    def _on_table(self, name: str, act: Callable[[TableClient], T]) -> T:
        """``act`` on the table; when the table is gone (404 TableNotFound: deleted while the app
        runs, or never created), create it and try once more. Azure errors pass through."""
        try:
            return act(self.table(name))
        except HttpResponseError as exc:
            if getattr(exc, "error_code", None) != "TableNotFound":
                raise
        log.warning("table %s was missing: creating it", name)
        self._create(name)
        return act(self.table(name))

    # -- reads --

    def get(self, kind: RowKind[T], tenant_id: str, key: str) -> T | None:
        """The row ``key`` (after the kind's prefix), or None."""
        found = self.get_with_etag(kind, tenant_id, key)
        return found[0] if found else None

    def get_with_etag(self, kind: RowKind[T], tenant_id: str, key: str) -> tuple[T, str] | None:
        """The row and its ETag (for a later conditional write), or None."""
        with storage_errors():
            try:
                entity = self._on_table(kind.table, lambda t: t.get_entity(tenant_id, kind.row_key(key)))
            except ResourceNotFoundError:
                return None
        etag = str(entity.metadata["etag"])
        return decode(kind.type, {**entity, "etag": etag}), etag

    def query(
        self,
        kind: RowKind[T],
        tenant_id: str | None,
        *where: Where,
        under: str | None = None,
        limit: int | None = None,
    ) -> list[T]:
        """The kind's rows of a tenant (None: of every tenant), in RowKey order, matching every
        condition; ``under`` narrows to keys starting ``<under>|``; at most ``limit``."""
        return [row for row, _ in self.query_with_etags(kind, tenant_id, *where, under=under, limit=limit)]

    def query_with_etags(
        self,
        kind: RowKind[T],
        tenant_id: str | None,
        *where: Where,
        under: str | None = None,
        limit: int | None = None,
    ) -> list[tuple[T, str]]:
        """Like ``query``, each row with its ETag."""
        found = []
        for entity in self._entities(kind, tenant_id=tenant_id, where=where, under=under, limit=limit):
            etag = str(entity.metadata["etag"])
            found.append((decode(kind.type, {**entity, "etag": etag}), etag))
        return found

    def read(self, tenant_id: str, selects: Sequence[Select]) -> dict[RowKind[Any], list[tuple[Any, str]]]:
        """Several kinds of the tenant's partition in ONE query (one round trip per 1,000 rows):
        for each select, its rows with their ETags in RowKey order (an empty list when none).

        The selects' kinds must share one table and have distinct prefixes. The filter ORs one
        clause per select (a RowKey range, or one RowKey), so the service reads only the
        partition, never other tenants'. A run that needs statuses, findings, its own record and
        whether anything is pending reads them all here instead of one query each."""
        tables = {s.kind.table for s in selects}
        if any(not s.kind.prefix for s in selects):
            raise ValueError("a partition read needs kinds with RowKey prefixes")
        if len(tables) != 1:
            raise ValueError(f"one read spans tables {sorted(tables)}")
        parameters: dict[str, Any] = {"p": tenant_id}
        clauses = []
        for n, select in enumerate(selects):
            if select.key is not None:
                parts = [f"RowKey eq @k{n}"]
                parameters[f"k{n}"] = select.kind.row_key(select.key)
            else:
                start = select.kind.row_key("")
                parts = [f"RowKey ge @k{n}", f"RowKey lt @e{n}"]
                parameters.update({f"k{n}": start, f"e{n}": start[:-1] + "}"})
            for m, c in enumerate(select.where):
                parts.append(f"{c.column} {c.op} @w{n}_{m}")
                parameters[f"w{n}_{m}"] = c.value
            # Spaces around the parentheses: the SDK finds @names by splitting the text on spaces.
            clauses.append("( " + " and ".join(parts) + " )")
        flt = "PartitionKey eq @p and ( " + " or ".join(clauses) + " )"
        by_prefix = {s.kind.row_key(""): s.kind for s in selects}
        found: dict[RowKind[Any], list[tuple[Any, str]]] = {s.kind: [] for s in selects}
        table = tables.pop()
        with storage_errors():
            entities = self._on_table(
                table, lambda t: list(t.query_entities(flt, parameters=parameters, results_per_page=_PAGE))
            )
            for entity in entities:
                row_key = str(entity["RowKey"])
                kind = by_prefix[row_key[: row_key.index("|") + 1]]
                etag = str(entity.metadata["etag"])
                found[kind].append((decode(kind.type, {**entity, "etag": etag}), etag))
        return found

    def page(
        self, kind: RowKind[T], tenant_id: str, *where: Where, limit: int, after: str | None = None
    ) -> tuple[list[T], str | None]:
        """At most ``limit`` rows with RowKeys after ``after``; with the RowKey to continue after
        (None on the last page)."""
        conditions = (*where, Where("RowKey", "gt", after)) if after is not None else where
        entities = self._entities(kind, tenant_id=tenant_id, where=conditions, under=None, limit=limit + 1)
        page = [decode(kind.type, dict(e)) for e in entities[:limit]]
        return page, (str(entities[limit - 1]["RowKey"]) if len(entities) > limit else None)

    def _entities(
        self,
        kind: RowKind[Any],
        *,
        tenant_id: str | None,
        where: Sequence[Where],
        under: str | None,
        limit: int | None,
        select: list[str] | None = None,
    ) -> list[Any]:
        flt, parameters = _filter(kind, tenant_id, where, under)
        # Only what the kind's type reads, and the RowKey (``page`` continues after it): the SDK
        # then parses no Timestamp (a strptime per row) and no filter-only column, 13-28% of its
        # CPU for a query of one kind (scripts/bench_store.py). A selected property a row lacks:
        # Azurite leaves it out, Azure is reported to answer it null (Azurite issue #2535; not in
        # Microsoft's docs); the codec reads both as absent. Not in ``read``: a $select of several
        # kinds' columns could come back padded with the other kinds' nulls on every row.
        columns = select if select is not None else ["RowKey", *stored_names(kind.type)]

        def entities(table: TableClient) -> list[Any]:
            found: list[Any] = []
            pages = table.query_entities(
                flt, parameters=parameters, select=columns, results_per_page=min(limit or _PAGE, _PAGE)
            )
            for entity in pages:
                found.append(entity)
                if limit is not None and len(found) >= limit:
                    break
            return found

        with storage_errors():
            return self._on_table(kind.table, entities)

    # -- writes --

    def commit(self, tenant_id: str, groups: Iterable[Sequence[object]]) -> None:
        """Write each group of rows (objects of declared kinds, or ``RowDelete``) atomically, each
        the way its kind says; groups share batches of at most 100 operations. A group's rows must
        be in one table. StoreConflict when a batch failed because another writer came first."""
        batch: list[Operation] = []
        batch_table = ""
        for group in groups:
            tables = {_table_of(row) for row in group}
            if len(tables) > 1:
                raise ValueError(f"one atomic group spans tables {sorted(tables)}")
            if not tables:
                continue
            table = tables.pop()
            ops = [_operation(tenant_id, row) for row in group]
            if batch and (len(batch) + len(ops) > _BATCH_LIMIT or table != batch_table):
                self._submit(batch_table, batch)
                batch = []
            batch.extend(ops)
            batch_table = table
        if batch:
            self._submit(batch_table, batch)

    def transact(
        self,
        tenant_id: str,
        rows: Iterable[object] = (),
        *,
        replace: Iterable[tuple[object, str]] = (),
        create: Iterable[object] = (),
    ) -> dict[str, str] | None:
        """One atomic batch in the tenant's state partition: ``replace`` rows only if unchanged
        since their ETag, ``create`` rows only if new, ``rows`` as their kind says. Returns the new
        ETag of every replaced or created row by its key, or None when another run changed one of
        them first (then nothing at all was written)."""
        ops: list[Operation] = []
        keys: list[str | None] = []
        for obj, etag in replace:
            kind = kind_of(obj)
            ops.append(
                (TransactionOperation.UPDATE, _entity(tenant_id, kind, obj), {**_CONDITIONAL, "etag": etag})
            )
            keys.append(kind.key(obj))
        for obj in create:
            kind = kind_of(obj)
            ops.append((TransactionOperation.CREATE, _entity(tenant_id, kind, obj)))
            keys.append(kind.key(obj))
        for obj in rows:
            ops.append(_operation(tenant_id, obj))
            keys.append(None)
        if len(ops) > _BATCH_LIMIT:
            raise ValueError(f"{len(ops)} operations exceed one transaction ({_BATCH_LIMIT})")
        if not ops:
            return {}
        try:
            results = self._submit(STATE_TABLE, ops)
        except StoreConflict:
            return None
        return {k: str(r["etag"]) for k, r in zip(keys, results, strict=True) if k is not None}

    def save(self, tenant_id: str, obj: object, etag: str | None) -> str | None:
        """Create the row (``etag`` None) or replace it only if unchanged since ``etag``; the new
        ETag, or None when another writer got there first."""
        kind = kind_of(obj)
        entity = _entity(tenant_id, kind, obj)

        def write(table: TableClient) -> Any:
            if etag is None:
                return table.create_entity(entity)
            return table.update_entity(
                entity, mode=UpdateMode.REPLACE, etag=etag, match_condition=MatchConditions.IfNotModified
            )

        with storage_errors():
            try:
                meta = self._on_table(kind.table, write)
            except (ResourceModifiedError, ResourceExistsError):
                return None
        return str(meta["etag"])

    def delete_where(
        self, kind: RowKind[Any], tenant_id: str, *where: Where, under: str | None = None
    ) -> int:
        """Delete the kind's rows of a tenant matching every condition; returns how many went.
        Reads only the keys of what it deletes."""
        rows = self._entities(
            kind, tenant_id=tenant_id, where=where, under=under, limit=None, select=["PartitionKey", "RowKey"]
        )
        for start in range(0, len(rows), _BATCH_LIMIT):
            chunk = rows[start : start + _BATCH_LIMIT]
            self._submit(kind.table, [(TransactionOperation.DELETE, r) for r in chunk])
        return len(rows)

    def _submit(self, table: str, ops: list[Operation]) -> list[Any]:
        with storage_errors("could not record the changes", writes=True):
            if len(ops) == 1 and ops[0][0] is not TransactionOperation.CREATE:
                # One operation needs no transaction: a plain request is the same write, atomic
                # alone, without the multipart body azure-core builds and parses for a batch
                # (about 3.6 ms more CPU; a steady sweep's only write is its record). Not an
                # insert: Azurite answers one into a missing table with a bare 404 the SDK cannot
                # tell from any other, where the batch's names TableNotFound (``_on_table``).
                return [self._on_table(table, lambda t: _single(t, ops[0]))]
            return self._on_table(table, lambda t: list(t.submit_transaction(ops)))


def _single(table: TableClient, op: Operation) -> Any:
    """``op`` (a batch operation tuple: update, upsert or delete) as its own request; its failures
    map as a batch's do (``storage_errors(writes=True)``). Two differences: deleting a row already
    gone succeeds (the SDK's rule for a single delete; a batch fails whole), and Azurite answers
    some refusals of a lone row (a key with '/') with 500, reported as storage unavailable (our
    keys never hold one: ``safe_key``). Returns the operation's metadata (its new ``etag``), as a
    batch's result does."""
    action, entity, options = op[0], op[1], (op[2] if len(op) > 2 else {})
    if action is TransactionOperation.UPDATE:
        return table.update_entity(entity, **options)
    if action is TransactionOperation.UPSERT:
        return table.upsert_entity(entity, **options)
    if action is TransactionOperation.DELETE:
        table.delete_entity(entity["PartitionKey"], entity["RowKey"], **options)
        return {}
    raise ValueError(f"unknown operation {action!r}")


def _filter(
    kind: RowKind[Any], tenant_id: str | None, where: Sequence[Where], under: str | None
) -> tuple[str, dict[str, Any]]:
    """The OData filter with ``@name`` placeholders and their values (azure-data-tables quotes
    them by type: a string's quotes are doubled, a datetime becomes datetime'...')."""
    if under is not None:
        start: str | None = kind.row_key(f"{under}|")
    else:
        start = kind.row_key("") if kind.prefix else None  # no prefix: the whole partition
    conditions: list[Where] = []
    if start is not None:
        # '|' (0x7C) is followed by '}' (0x7D): every key starting with ``start`` sorts in between.
        conditions += [Where("RowKey", "ge", start), Where("RowKey", "lt", start[:-1] + "}")]
    if tenant_id is not None:
        conditions.insert(0, Where("PartitionKey", "eq", tenant_id))
    conditions += where
    if not conditions:
        return "", {}
    clauses = [f"{c.column} {c.op} @p{i}" for i, c in enumerate(conditions)]
    return " and ".join(clauses), {f"p{i}": c.value for i, c in enumerate(conditions)}


def _table_of(row: object) -> str:
    return row.kind.table if isinstance(row, RowDelete) else kind_of(row).table


def _entity(tenant_id: str, kind: RowKind[T], obj: T) -> dict[str, Any]:
    entity = encode(obj, tenant_id, kind.row_key_of(obj))
    if kind.columns is not None:
        entity.update(kind.columns(obj))
    return entity


def _operation(tenant_id: str, row: object) -> Operation:
    """The batch operation writing ``row`` the way its kind says (or deleting it)."""
    if isinstance(row, RowDelete):
        return (TransactionOperation.DELETE, {"PartitionKey": tenant_id, "RowKey": row.row_key})
    kind = kind_of(row)
    entity = _entity(tenant_id, kind, row)
    if kind.write is Write.INSERT:
        return (TransactionOperation.CREATE, entity)
    if kind.write is Write.IF_UNCHANGED:
        etag = kind.etag(row) if kind.etag is not None else None
        if etag is None:
            return (TransactionOperation.CREATE, entity)
        return (TransactionOperation.UPDATE, entity, {**_CONDITIONAL, "etag": etag})
    return (TransactionOperation.UPSERT, entity, {"mode": UpdateMode.REPLACE})
