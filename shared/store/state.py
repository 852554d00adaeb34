"""MTD Guard's state in Azure Table Storage: the one package that reads and writes it (changes.py: the
audit trail, idempotency records and the configure lease, in their own table).

Table ``mtdguardstate``, partition = tenant id, one row kind per RowKey prefix:
  ``connector|<id>``  latest status of a connector      ``finding|<id>``  a finding
  ``alert|<id>``      an alert and its deliveries         ``sweep|<name>``  the last sweep's summary
  Conditional Access drift (shared/conditional_access/classic/, modern.py):
  ``classic|<policy id or name-hash>``  baseline of a classic MTD policy (state, partner, content hash)
  ``capolicy|<policy id>``  baseline of a modern policy that included compliantDevice
  ``cursor|<name>``   how far the directory audit log has been read (``cursor|directoryAudits``)
  ``auditevent|<event id>``  an audit event that changed something; INSERTED in the batch of its
                      changes, so a second run processing the same event fails whole (StoreConflict)
  ``removal|<id>``    a planned removal of classic policies      ``import|classic``  the last import
  ``thread|<channel>|<finding id>``  what one alert channel was told about one finding, with the
                      ServiceNow incident / Jira issue it went to (so later alerts update that ticket)
They share the tenant's partition on purpose: a connector's new status, its finding and its alert
are written in ONE batch transaction, so a crash can never record a change without its alert (or
the reverse). Table ``mtdguardhistory`` keeps every observation, partition = tenant id, RowKey
``<connector id>|<inverted ticks>`` so the newest come first.
"""

from __future__ import annotations

import dataclasses
import enum
import hashlib
import json
import logging
import types
import typing
from collections.abc import Callable, Iterable, Iterator
from datetime import UTC, datetime
from typing import TYPE_CHECKING, Any, TypeVar

from azure.core import MatchConditions
from azure.core.exceptions import (
    AzureError,
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

from shared.alerting.alerts import Alert, Thread
from shared.conditional_access.classic.rows import (
    AuditCursor,
    BaselineImport,
    ClassicPolicy,
    PlannedRemoval,
    ProcessedEvent,
)
from shared.conditional_access.modern import ModernPolicy
from shared.findings.model import Finding
from shared.heartbeat.plan import ConnectorStatus, RemovedConnector

if TYPE_CHECKING:
    from azure.core.credentials import TokenCredential

    from shared.settings import Settings

log = logging.getLogger(__name__)
T = TypeVar("T")

STATE_TABLE = "mtdguardstate"
HISTORY_TABLE = "mtdguardhistory"
_BATCH_LIMIT = 100  # Table Storage's limit of operations per transaction
_EPOCH_TICKS_MAX = 10**19  # inverted-ticks base: newest history rows sort first


class StoreError(Exception):
    """State storage failed; the message is safe to show (no keys, no connection strings)."""


class StoreConflict(StoreError):
    """A batch inserting a row that already exists: another run recorded the same change first."""


@dataclasses.dataclass(frozen=True)
class RowDelete:
    """In a commit group: delete this row of the tenant's partition, atomically with the rest."""

    row_key: str


@dataclasses.dataclass(frozen=True)
class SweepRecord:
    tenant_id: str
    name: str  # "heartbeat"
    checked_at: datetime
    connectors: int
    problems: list[str]
    pruned_at: datetime | None = None  # when history was last trimmed to the retention


@dataclasses.dataclass(frozen=True)
class Observation:
    """One history row: what a sweep saw for one connector."""

    connector_id: str
    checked_at: datetime
    health: str
    partner_state: str | None
    last_heartbeat: str | None
    heartbeat_age_hours: float | None
    threshold_days: int
    reason: str


# -- entity codec: dataclass <-> Table entity ----------------------------------------------


def _encode_value(value: Any) -> Any:
    if isinstance(value, enum.Enum):
        return value.value
    if isinstance(value, datetime):
        return value.astimezone(UTC)
    if isinstance(value, dict | list):
        return json.dumps(_jsonable(value), separators=(",", ":"))
    return value


def _jsonable(value: Any) -> Any:
    if dataclasses.is_dataclass(value) and not isinstance(value, type):
        return {f.name: _jsonable(getattr(value, f.name)) for f in dataclasses.fields(value)}
    if isinstance(value, dict):
        return {k: _jsonable(v) for k, v in value.items()}
    if isinstance(value, list):
        return [_jsonable(v) for v in value]
    if isinstance(value, enum.Enum):
        return value.value
    if isinstance(value, datetime):
        return value.astimezone(UTC).isoformat()
    return value


def encode(obj: Any, partition: str, row: str) -> dict[str, Any]:
    entity: dict[str, Any] = {"PartitionKey": partition, "RowKey": row}
    for f in dataclasses.fields(obj):
        value = getattr(obj, f.name)
        if value is not None and f.metadata.get("stored", True):
            entity[f.name] = _encode_value(value)
    return entity


def _decode_value(hint: Any, value: Any) -> Any:
    origin = typing.get_origin(hint)
    if origin in (typing.Union, types.UnionType):
        options = [a for a in typing.get_args(hint) if a is not type(None)]
        return None if value is None else _decode_value(options[0], value)
    if value is None:
        return None
    if hint is datetime:
        return value if isinstance(value, datetime) else datetime.fromisoformat(value)
    if isinstance(hint, type) and issubclass(hint, enum.Enum):
        return hint(value)
    if isinstance(hint, type) and dataclasses.is_dataclass(hint):
        return _decode_fields(hint, value)
    if origin in (dict, list):
        data = json.loads(value) if isinstance(value, str) else value
        args = typing.get_args(hint)
        if origin is list:
            return [_decode_value(args[0], v) for v in data]
        return {k: _decode_value(args[1], v) for k, v in data.items()}
    if hint is float and isinstance(value, int):
        return float(value)
    if hint is int and not isinstance(value, int):
        return int(value)
    return value


def _decode_fields(cls: type[T], data: dict[str, Any]) -> T:
    hints = typing.get_type_hints(cls)
    kwargs = {
        f.name: _decode_value(hints[f.name], data.get(f.name))
        for f in dataclasses.fields(cls)  # type: ignore[arg-type]
        if f.name in data or (f.default is dataclasses.MISSING and f.default_factory is dataclasses.MISSING)
    }
    return cls(**kwargs)


def decode(cls: type[T], entity: dict[str, Any]) -> T:
    return _decode_fields(cls, dict(entity))


# -- the store ---------------------------------------------------------------------------------


def _inverted_ticks(moment: datetime) -> str:
    micros = int(moment.timestamp() * 1_000_000)
    return f"{_EPOCH_TICKS_MAX - micros:020d}"


def _prefix_filter(prefix: str) -> str:
    # '|' (0x7C) is followed by '}' (0x7D): every key with the prefix sorts between the two.
    return f"RowKey ge '{prefix}|' and RowKey lt '{prefix}}}'"


def _quote(value: str) -> str:
    return value.replace("'", "''")


class StateStore:
    _created: typing.ClassVar[set[tuple[str, str]]] = set()

    def __init__(self, service: TableServiceClient) -> None:
        self._service = service

    @classmethod
    def from_settings(cls, settings: Settings, credential: Callable[[], TokenCredential]) -> StateStore:
        """A connection string (Azurite) as given; otherwise the app's credential (managed identity)."""
        if settings.storage_connection_string:
            return cls(TableServiceClient.from_connection_string(settings.storage_connection_string))
        assert settings.table_service_uri is not None  # validated by settings.problems()
        return cls(TableServiceClient(endpoint=settings.table_service_uri, credential=credential()))

    def _table(self, name: str) -> TableClient:
        key = (self._service.url, name)
        if key not in self._created:  # created on first use, once per process
            try:
                self._service.create_table_if_not_exists(name)
            except AzureError as exc:
                raise StoreError(
                    f"state storage unavailable: cannot open table {name} ({_brief(exc)})"
                ) from exc
            self._created.add(key)
        return self._service.get_table_client(name)

    def table(self, name: str) -> TableClient:
        """A table of this account, created on first use (for modules that own their own rows,
        e.g. shared/store/changes.py); raises StoreError when storage is unreachable."""
        return self._table(name)

    def _query(self, table: str, flt: str, limit: int | None = None) -> Iterator[dict[str, Any]]:
        try:
            pages = self._table(table).query_entities(flt, results_per_page=min(limit or 1000, 1000))
            for count, entity in enumerate(pages, start=1):
                yield {**entity, "etag": entity.metadata["etag"]}
                if limit is not None and count >= limit:
                    return
        except AzureError as exc:
            raise StoreError(f"state storage unavailable: {_brief(exc)}") from exc

    # -- reads --

    def connector_statuses(self, tenant_id: str) -> dict[str, ConnectorStatus]:
        flt = f"PartitionKey eq '{_quote(tenant_id)}' and {_prefix_filter('connector')}"
        found = (decode(ConnectorStatus, e) for e in self._query(STATE_TABLE, flt))
        return {s.id.lower(): s for s in found}

    def findings(self, tenant_id: str, kind: str | None = None) -> dict[str, Finding]:
        flt = f"PartitionKey eq '{_quote(tenant_id)}' and {_prefix_filter('finding')}"
        if kind:
            flt += f" and kind eq '{_quote(kind)}'"
        return {f.id: f for f in (decode(Finding, e) for e in self._query(STATE_TABLE, flt))}

    def last_sweep(self, tenant_id: str, name: str) -> SweepRecord | None:
        return self._get(STATE_TABLE, tenant_id, f"sweep|{name}", SweepRecord)

    def history(self, tenant_id: str, connector_id: str, limit: int = 50) -> list[Observation]:
        flt = f"PartitionKey eq '{_quote(tenant_id)}' and {_prefix_filter(_quote(connector_id.lower()))}"
        return [decode(Observation, e) for e in self._query(HISTORY_TABLE, flt, limit)]

    def alerts(self, tenant_id: str | None = None) -> list[Alert]:
        flt = _prefix_filter("alert")
        if tenant_id:
            flt = f"PartitionKey eq '{_quote(tenant_id)}' and {flt}"
        return [decode(Alert, e) for e in self._query(STATE_TABLE, flt)]

    def query_alerts(
        self,
        tenant_id: str,
        *,
        kind: str | None = None,
        severity: str | None = None,
        finding_id: str | None = None,
        since: datetime | None = None,
    ) -> list[Alert]:
        """A tenant's alerts, filtered by the server on what the row holds as columns."""
        flt = f"PartitionKey eq '{_quote(tenant_id)}' and {_prefix_filter('alert')}"
        if kind:
            flt += f" and kind eq '{_quote(kind)}'"
        if severity:
            flt += f" and severity eq '{_quote(severity)}'"
        if finding_id:
            flt += f" and finding_id eq '{_quote(finding_id)}'"
        if since is not None:
            flt += f" and detected_at ge datetime'{since.astimezone(UTC):%Y-%m-%dT%H:%M:%SZ}'"
        return [decode(Alert, e) for e in self._query(STATE_TABLE, flt)]

    def alert_with_etag(self, tenant_id: str, alert_id: str) -> tuple[Alert, str] | None:
        try:
            entity = self._table(STATE_TABLE).get_entity(tenant_id, f"alert|{alert_id}")
        except ResourceNotFoundError:
            return None
        except AzureError as exc:
            raise StoreError(f"state storage unavailable: {_brief(exc)}") from exc
        return decode(Alert, dict(entity)), str(entity.metadata["etag"])

    def thread(self, tenant_id: str, channel: str, finding_id: str) -> Thread | None:
        return self._get(STATE_TABLE, tenant_id, f"thread|{channel}|{finding_id}", Thread)

    # -- Conditional Access drift --

    def classic_baseline(self, tenant_id: str) -> dict[str, ClassicPolicy]:
        flt = f"PartitionKey eq '{_quote(tenant_id)}' and {_prefix_filter('classic')}"
        return {p.key: p for p in (decode(ClassicPolicy, e) for e in self._query(STATE_TABLE, flt))}

    def modern_baseline(self, tenant_id: str) -> dict[str, ModernPolicy]:
        flt = f"PartitionKey eq '{_quote(tenant_id)}' and {_prefix_filter('capolicy')}"
        rows = (decode(ModernPolicy, e) for e in self._query(STATE_TABLE, flt))
        return {p.policy_id.lower(): p for p in rows}

    def audit_cursor(self, tenant_id: str, name: str) -> AuditCursor | None:
        return self._get(STATE_TABLE, tenant_id, f"cursor|{name}", AuditCursor)

    def baseline_import(self, tenant_id: str, name: str) -> BaselineImport | None:
        return self._get(STATE_TABLE, tenant_id, f"import|{name}", BaselineImport)

    def planned_removals(self, tenant_id: str) -> list[PlannedRemoval]:
        flt = f"PartitionKey eq '{_quote(tenant_id)}' and {_prefix_filter('removal')}"
        return sorted(
            (decode(PlannedRemoval, e) for e in self._query(STATE_TABLE, flt)), key=lambda r: r.announced_at
        )

    def processed_events(self, tenant_id: str, since: datetime) -> set[str]:
        """Ids of the audit events at or after ``since`` that were already processed."""
        flt = (
            f"PartitionKey eq '{_quote(tenant_id)}' and {_prefix_filter('auditevent')} "
            f"and activity_at ge datetime'{_table_time(since)}'"
        )
        return {str(e["event_id"]) for e in self._query(STATE_TABLE, flt)}

    def prune_processed_events(self, tenant_id: str, before: datetime) -> int:
        """Forget processed events older than any future read can return again."""
        flt = (
            f"PartitionKey eq '{_quote(tenant_id)}' and {_prefix_filter('auditevent')} "
            f"and activity_at lt datetime'{_table_time(before)}'"
        )
        rows = list(self._query(STATE_TABLE, flt))
        for start in range(0, len(rows), _BATCH_LIMIT):
            chunk = rows[start : start + _BATCH_LIMIT]
            self._submit(
                [
                    (TransactionOperation.DELETE, {"PartitionKey": r["PartitionKey"], "RowKey": r["RowKey"]})
                    for r in chunk
                ]
            )
        return len(rows)

    def finding(self, tenant_id: str, finding_id: str) -> Finding | None:
        return self._get(STATE_TABLE, tenant_id, f"finding|{finding_id}", Finding)

    def pending_alerts(self, tenant_id: str | None = None) -> list[tuple[Alert, str]]:
        """Alerts with any channel still to deliver (of one tenant, or across tenants), with ETags."""
        flt = f"{_prefix_filter('alert')} and pending eq true"
        if tenant_id:
            flt = f"PartitionKey eq '{_quote(tenant_id)}' and {flt}"
        return [(decode(Alert, e), e["__etag"]) for e in self._raw_with_etag(flt)]

    def _raw_with_etag(self, flt: str) -> Iterator[dict[str, Any]]:
        try:
            for entity in self._table(STATE_TABLE).query_entities(flt):
                data = dict(entity)
                data["__etag"] = entity.metadata["etag"]
                yield data
        except AzureError as exc:
            raise StoreError(f"state storage unavailable: {_brief(exc)}") from exc

    def _get(self, table: str, partition: str, row: str, cls: type[T]) -> T | None:
        try:
            entity = self._table(table).get_entity(partition, row)
            return decode(cls, {**entity, "etag": entity.metadata["etag"]})
        except ResourceNotFoundError:
            return None
        except AzureError as exc:
            raise StoreError(f"state storage unavailable: {_brief(exc)}") from exc

    # -- writes --

    def commit(
        self,
        tenant_id: str,
        groups: Iterable[list[Any]],
        sweep: SweepRecord | None = None,
    ) -> None:
        """Write status/finding/alert rows; each group (one connector's rows) lands atomically."""
        batch: list[TransactionOperation | tuple[Any, ...]] = []
        for group in groups:
            ops = [self._upsert_op(tenant_id, obj) for obj in group]
            if len(batch) + len(ops) > _BATCH_LIMIT:
                self._submit(batch)
                batch = []
            batch.extend(ops)
        if sweep is not None:
            if len(batch) >= _BATCH_LIMIT:
                self._submit(batch)
                batch = []
            batch.append(self._upsert_op(tenant_id, sweep))
        if batch:
            self._submit(batch)

    def _upsert_op(self, tenant_id: str, obj: Any) -> tuple[Any, ...]:
        if isinstance(obj, RemovedConnector):
            key = {"PartitionKey": tenant_id, "RowKey": f"connector|{obj.id.lower()}"}
            return (TransactionOperation.DELETE, key)
        if isinstance(obj, RowDelete):
            return (TransactionOperation.DELETE, {"PartitionKey": tenant_id, "RowKey": obj.row_key})
        entity = encode(obj, tenant_id, _row_key(obj))
        if isinstance(obj, Alert):
            entity["pending"] = bool(obj.pending_channels)
        if isinstance(obj, ProcessedEvent):  # insert only: see the module docstring
            return (TransactionOperation.CREATE, entity)
        if isinstance(obj, Finding):  # only over the version it was read at: see Finding.etag
            if obj.etag is None:
                return (TransactionOperation.CREATE, entity)
            condition = {
                "mode": UpdateMode.REPLACE,
                "etag": obj.etag,
                "match_condition": MatchConditions.IfNotModified,
            }
            return (TransactionOperation.UPDATE, entity, condition)
        return (TransactionOperation.UPSERT, entity, {"mode": UpdateMode.REPLACE})

    def _submit(self, ops: list[Any]) -> None:
        try:
            self._table(STATE_TABLE).submit_transaction(ops)
        except TableTransactionError as exc:
            # 409: an inserted row exists; 412: a row changed since it was read. Either way another
            # run (or person) wrote first, and the caller must re-plan against what is there now.
            if exc.status_code in (409, 412):
                raise StoreConflict(f"another run recorded this change first ({_brief(exc)})") from exc
            raise StoreError(
                f"state storage unavailable: could not record the sweep ({_brief(exc)})"
            ) from exc
        except AzureError as exc:
            raise StoreError(
                f"state storage unavailable: could not record the sweep ({_brief(exc)})"
            ) from exc

    def append_history(self, tenant_id: str, observations: list[Observation]) -> None:
        ops = [
            (
                TransactionOperation.UPSERT,
                encode(o, tenant_id, f"{o.connector_id.lower()}|{_inverted_ticks(o.checked_at)}"),
                {"mode": UpdateMode.REPLACE},
            )
            for o in observations
        ]
        table = self._table(HISTORY_TABLE)
        try:
            for start in range(0, len(ops), _BATCH_LIMIT):
                table.submit_transaction(ops[start : start + _BATCH_LIMIT])
        except AzureError as exc:
            raise StoreError(f"state storage unavailable: could not append history ({_brief(exc)})") from exc

    def prune_history(self, tenant_id: str, connector_ids: Iterable[str], older_than: datetime) -> int:
        """Delete observations older than the retention; returns how many went.

        Old rows of a connector are a contiguous RowKey range (inverted ticks grow into the past),
        so this reads only what it deletes instead of scanning the tenant's whole history.
        """
        table = self._table(HISTORY_TABLE)
        partition = _quote(tenant_id)
        removed = 0
        try:
            for connector_id in connector_ids:
                key = _quote(connector_id.lower())
                flt = (
                    f"PartitionKey eq '{partition}' and RowKey gt '{key}|{_inverted_ticks(older_than)}'"
                    f" and RowKey lt '{key}}}'"
                )
                rows = list(table.query_entities(flt, select=["PartitionKey", "RowKey"]))
                for start in range(0, len(rows), _BATCH_LIMIT):
                    chunk = rows[start : start + _BATCH_LIMIT]
                    table.submit_transaction([(TransactionOperation.DELETE, row) for row in chunk])
                removed += len(rows)
        except AzureError as exc:
            raise StoreError(f"state storage unavailable: could not prune history ({_brief(exc)})") from exc
        return removed

    def transact(
        self,
        tenant_id: str,
        *,
        replace: Iterable[tuple[Alert, str]] = (),
        create: Iterable[Alert] = (),
        upsert: Iterable[Any] = (),
    ) -> dict[str, str] | None:
        """One atomic batch in the tenant's partition: alerts replaced only if unchanged since their
        ETag, alerts created only if new, any other rows (threads, findings) upserted. Returns the
        new ETag of every replaced or created alert by id, or None when another run changed one of
        them first (then nothing at all was written)."""
        ops: list[Any] = []
        ids: list[str | None] = []
        for alert, etag in replace:
            entity = encode(alert, tenant_id, _row_key(alert))
            entity["pending"] = bool(alert.pending_channels)
            conditional = {
                "mode": UpdateMode.REPLACE,
                "etag": etag,
                "match_condition": MatchConditions.IfNotModified,
            }
            ops.append((TransactionOperation.UPDATE, entity, conditional))
            ids.append(alert.alert_id)
        for alert in create:
            entity = encode(alert, tenant_id, _row_key(alert))
            entity["pending"] = bool(alert.pending_channels)
            ops.append((TransactionOperation.CREATE, entity))
            ids.append(alert.alert_id)
        for obj in upsert:
            ops.append(self._upsert_op(tenant_id, obj))
            ids.append(None)
        if len(ops) > _BATCH_LIMIT:
            raise ValueError(f"{len(ops)} operations exceed one transaction ({_BATCH_LIMIT})")
        if not ops:
            return {}
        try:
            results = self._table(STATE_TABLE).submit_transaction(ops)
        except TableTransactionError as exc:
            if exc.status_code in (409, 412):
                return None
            raise StoreError(f"state storage unavailable: {_brief(exc)}") from exc
        except AzureError as exc:
            raise StoreError(f"state storage unavailable: {_brief(exc)}") from exc
        return {i: str(r["etag"]) for i, r in zip(ids, results, strict=True) if i is not None}

    def prune_alerts(self, tenant_id: str, older_than: datetime) -> int:
        """Delete alerts detected before the retention that no channel still has to deliver.

        Pending ones stay whatever their age: nothing detected is dropped before it was told."""
        cutoff = f"{older_than.astimezone(UTC):%Y-%m-%dT%H:%M:%SZ}"
        flt = (
            f"PartitionKey eq '{_quote(tenant_id)}' and {_prefix_filter('alert')}"
            f" and pending eq false and detected_at lt datetime'{cutoff}'"
        )
        table = self._table(STATE_TABLE)
        try:
            rows = list(table.query_entities(flt, select=["PartitionKey", "RowKey"]))
            for start in range(0, len(rows), _BATCH_LIMIT):
                table.submit_transaction(
                    [(TransactionOperation.DELETE, r) for r in rows[start : start + _BATCH_LIMIT]]
                )
        except AzureError as exc:
            raise StoreError(f"state storage unavailable: could not prune alerts ({_brief(exc)})") from exc
        return len(rows)

    def save_alert(self, alert: Alert, etag: str | None) -> str | None:
        """Replace an alert row only if nobody changed it since ``etag``; returns the new ETag,
        or None when another run got there first (it now owns the delivery)."""
        entity = encode(alert, alert.tenant_id, _row_key(alert))
        entity["pending"] = bool(alert.pending_channels)
        table = self._table(STATE_TABLE)
        try:
            if etag is None:
                meta = table.create_entity(entity)
            else:
                meta = table.update_entity(
                    entity,
                    mode=UpdateMode.REPLACE,
                    etag=etag,
                    match_condition=MatchConditions.IfNotModified,
                )
        except (ResourceModifiedError, ResourceExistsError):
            return None
        except AzureError as exc:
            raise StoreError(f"state storage unavailable: {_brief(exc)}") from exc
        return str(meta["etag"])


def _row_key(obj: Any) -> str:
    if isinstance(obj, ConnectorStatus):
        return f"connector|{obj.id.lower()}"
    if isinstance(obj, Finding):
        return f"finding|{obj.id}"
    if isinstance(obj, Alert):
        return f"alert|{obj.alert_id}"
    if isinstance(obj, SweepRecord):
        return f"sweep|{obj.name}"
    if isinstance(obj, ClassicPolicy):
        return f"classic|{_safe_key(obj.key)}"
    if isinstance(obj, ModernPolicy):
        return f"capolicy|{_safe_key(obj.policy_id.lower())}"
    if isinstance(obj, AuditCursor):
        return f"cursor|{obj.name}"
    if isinstance(obj, ProcessedEvent):
        return f"auditevent|{_safe_key(obj.event_id)}"
    if isinstance(obj, PlannedRemoval):
        return f"removal|{obj.id}"
    if isinstance(obj, BaselineImport):
        return f"import|{obj.name}"
    if isinstance(obj, Thread):
        return f"thread|{obj.channel}|{obj.finding_id}"
    raise TypeError(f"no row kind for {type(obj).__name__}")


def row_key(obj: Any) -> str:
    """The RowKey a row object is stored under (to delete one with ``RowDelete``)."""
    return _row_key(obj)


def _safe_key(value: str) -> str:
    """A RowKey part: kept when plainly safe, else a hash (RowKeys forbid / \\ # ? and controls)."""
    if value and len(value) <= 200 and all(c.isalnum() or c in "-_.:" for c in value):
        return value
    return "h-" + hashlib.sha256(value.encode()).hexdigest()[:32]


def _table_time(moment: datetime) -> str:
    return f"{moment.astimezone(UTC):%Y-%m-%dT%H:%M:%S.%fZ}"


def _brief(exc: AzureError) -> str:
    # Azure SDK messages can be long and multi-line; the first line names the problem.
    text = str(getattr(exc, "message", None) or exc).strip().splitlines()
    return (text[0] if text else type(exc).__name__)[:300]
