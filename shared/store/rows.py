"""Row kinds: how a stored type lands in Table Storage, declared by the type's own module. Pure.

A capability declares one ``RowKind`` beside each type it stores (a module constant named
``<TYPE>_ROWS``, e.g. ``FINDING_ROWS`` in shared/findings/model.py): its table, RowKey prefix, the
key taken from the object, how it is written and any extra column the store must fill for server-side
filters. The store (shared/store/state.py) is generic over kinds and imports no capability; the
kinds register themselves here when their module is imported, so ``layout()`` lists every kind
the running code knows (the table layout, generated rather than written twice).

Every row of every table has PartitionKey = tenant id. A RowKey is ``<prefix>|<key>``; the prefix
names the kind, so one kind is one contiguous RowKey range. This module imports nothing from
azure: pure rule modules can declare kinds without loading the SDK.
"""

from __future__ import annotations

import hashlib
import re
from collections.abc import Callable, Mapping
from dataclasses import dataclass
from datetime import datetime
from enum import StrEnum
from typing import Any, Generic, TypeVar

T = TypeVar("T")

STATE_TABLE = "mtdguardstate"  # statuses, findings, alerts, baselines, cursors: what is true now
HISTORY_TABLE = "mtdguardhistory"  # every observation of a connector, newest first
CHANGES_TABLE = "mtdguardchanges"  # the audit trail, idempotency records, the configure lease

_EPOCH_TICKS_MAX = 10**19  # inverted-ticks base: newest rows sort first


class Write(StrEnum):
    """How a row is written in a commit."""

    UPSERT = "upsert"  # replace the whole row, whatever was there
    INSERT = "insert"  # only if absent: an existing row fails its whole batch (StoreConflict)
    # Only over the version it was read at (the object's ETag), else the batch fails
    # (StoreConflict); an object never read (no ETag) is inserted.
    IF_UNCHANGED = "ifUnchanged"


Value = str | bool | int | float | datetime


@dataclass(frozen=True)
class Where:
    """One server-side condition on a column (a dataclass field name, or ``RowKey``).

    The store sends ``value`` as a query parameter (``@name``), never spliced into the filter
    text, so a value with a quote in it is matched literally."""

    column: str
    op: str  # eq, ne, gt, ge, lt, le (OData comparison operators)
    value: Value


def eq(column: str, value: Value) -> Where:
    """``column`` equals ``value`` (OData ``eq``)."""
    return Where(column, "eq", value)


def ge(column: str, value: Value) -> Where:
    """``column`` is at least ``value`` (OData ``ge``)."""
    return Where(column, "ge", value)


def gt(column: str, value: Value) -> Where:
    """``column`` is greater than ``value`` (OData ``gt``)."""
    return Where(column, "gt", value)


def lt(column: str, value: Value) -> Where:
    """``column`` is less than ``value`` (OData ``lt``)."""
    return Where(column, "lt", value)


def le(column: str, value: Value) -> Where:
    """``column`` is at most ``value`` (OData ``le``)."""
    return Where(column, "le", value)


@dataclass(frozen=True)
class RowKind(Generic[T]):
    """How objects of ``type`` are stored.

    ``key(obj)`` is the RowKey after ``<prefix>|`` (already safe: see ``safe_key``); an empty
    prefix means the key is the whole RowKey. ``columns(obj)`` adds properties beyond the
    dataclass fields (for filters, e.g. an alert's ``pending``). ``etag(obj)`` is the version an
    ``IF_UNCHANGED`` object was read at. ``layout`` says what the row holds, for ``layout()``.
    """

    type: type[T]
    prefix: str
    key: Callable[[T], str]
    layout: str
    write: Write = Write.UPSERT
    table: str = STATE_TABLE
    columns: Callable[[T], Mapping[str, Value]] | None = None
    etag: Callable[[T], str | None] | None = None

    def __post_init__(self) -> None:
        clash = next((k for k in _KINDS.values() if k.table == self.table and k.prefix == self.prefix), None)
        if clash is not None and _name(clash.type) != _name(self.type):  # a reload is no clash
            raise ValueError(
                f"row prefix {self.prefix!r} of {self.table} already names {clash.type.__name__}"
            )
        _KINDS[self.type] = self

    def row_key(self, key: str) -> str:
        """The RowKey of the row with this key (the part after the prefix)."""
        return f"{self.prefix}|{key}" if self.prefix else key

    def row_key_of(self, obj: T) -> str:
        """The RowKey of ``obj``'s row, e.g. 'finding|heartbeat.<connector id>'."""
        return self.row_key(self.key(obj))

    def delete(self, key: str) -> RowDelete:
        """In a commit group: delete this kind's row ``key``, atomically with the rest."""
        return RowDelete(self, key)

    def delete_of(self, obj: T) -> RowDelete:
        """In a commit group: delete ``obj``'s row, atomically with the rest."""
        return RowDelete(self, self.key(obj))


@dataclass(frozen=True)
class RowDelete:
    """In a commit group: delete one row of the tenant's partition, atomically with the rest."""

    kind: RowKind[Any]
    key: str

    @property
    def row_key(self) -> str:
        """The RowKey of the row to delete."""
        return self.kind.row_key(self.key)


@dataclass(frozen=True)
class Select:
    """One part of a partition read (``StateStore.read``): the kind's rows (only the row ``key``
    when given), those matching every ``where`` condition."""

    kind: RowKind[Any]
    key: str | None = None
    where: tuple[Where, ...] = ()


_KINDS: dict[type, RowKind[Any]] = {}


def _name(cls: type) -> str:
    return f"{cls.__module__}.{cls.__qualname__}"


def kind_of(obj: object) -> RowKind[Any]:
    """The kind ``obj`` is stored as; TypeError for a type that declared none."""
    found = _KINDS.get(type(obj))
    if found is None:
        raise TypeError(f"no row kind for {type(obj).__name__}: declare a RowKind beside it")
    return found


def row_key(obj: object) -> str:
    """The RowKey of a row object or of a ``RowDelete``."""
    if isinstance(obj, RowDelete):
        return obj.row_key
    return kind_of(obj).row_key_of(obj)


def layout() -> str:
    """Every kind imported so far, one line each: table, RowKey pattern, what the row holds."""
    lines = [
        f"{k.table}  {k.row_key('<' + k.type.__name__ + ' key>')}  [{k.write}]  {k.layout}"
        for k in sorted(_KINDS.values(), key=lambda k: (k.table, k.prefix))
    ]
    return "\n".join(lines)


# Plainly safe: 1 to 200 characters, each alphanumeric (str.isalnum, which is what \w adds to
# "_" in a str pattern) or one of "-_.:". One regex match instead of a test per character: the
# sweep makes several keys per connector.
_PLAIN_KEY = re.compile(r"[\w\-.:]{1,200}")


def safe_key(value: str) -> str:
    """A RowKey part: kept when plainly safe, else a hash (RowKeys forbid / \\ # ? and controls)."""
    if _PLAIN_KEY.fullmatch(value):
        return value
    return "h-" + hashlib.sha256(value.encode()).hexdigest()[:32]


def inverted_ticks(moment: datetime) -> str:
    """A fixed-width key part that sorts newer moments first (microseconds below 10**19)."""
    micros = int(moment.timestamp() * 1_000_000)
    return f"{_EPOCH_TICKS_MAX - micros:020d}"
