"""The codec (dataclass <-> Table entity) of every stored type: generated instances come back equal,
through the codec alone and through Azurite, and rows in the shapes older versions (or a person in
Storage Explorer) wrote still read."""

from __future__ import annotations

import dataclasses
import enum
import types
import typing
import uuid
from dataclasses import dataclass, field
from datetime import UTC, datetime, timedelta, timezone
from typing import Any

import pytest
from azure.data.tables import EdmType, EntityProperty
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

import shared.alerting.alerts
import shared.audit.entries
import shared.conditional_access.classic.rows
import shared.conditional_access.modern
import shared.conditional_access.stored
import shared.configure.baseline
import shared.configure.verify
import shared.findings.model
import shared.heartbeat.plan
import shared.job_runs
import shared.posture.findings
import shared.posture.model  # noqa: F401 - each module declares its stored kinds when imported
from shared.store import rows
from shared.store.codec import decode, encode
from shared.store.rows import RowKind
from shared.store.state import StateStore
from tests.store.test_store import Colour, Part

# Every kind the deployed code stores (test modules declare kinds of their own: not these).
STORED = sorted(
    (k for k in rows._KINDS.values() if k.type.__module__.startswith("shared.")),
    key=lambda k: k.type.__name__,
)

# Text as Graph, people and Azure hand it over: any character UTF-8 can carry, short enough to
# stay under the codec's cut (``bounded``) and Table Storage's 64 KiB per property.
TEXT = st.text(st.characters(codec="utf-8"), max_size=40)
JSON = st.recursive(
    st.none() | st.booleans() | st.integers() | st.floats(allow_nan=False) | TEXT,
    lambda inner: st.lists(inner, max_size=4) | st.dictionaries(TEXT, inner, max_size=4),
    max_leaves=12,
)
# Moments with a UTC offset (the codec stores them in UTC: equal instants compare equal), within
# what Edm.DateTime holds.
MOMENTS = st.datetimes(
    min_value=datetime(1900, 1, 1),
    max_value=datetime(2200, 1, 1),
    timezones=st.sampled_from([UTC, timezone(timedelta(hours=5, minutes=30)), timezone(timedelta(hours=-8))]),
)
# Table Storage holds 64-bit integers (Edm.Int64 beyond 32 bits); JSON columns hold any.
WHOLE = st.integers(min_value=-(2**63), max_value=2**63 - 1)


def values(hint: Any) -> st.SearchStrategy[Any]:
    """Values of a stored field's type hint (the shapes the stored dataclasses use)."""
    origin, args = typing.get_origin(hint), typing.get_args(hint)
    if origin in (typing.Union, types.UnionType):
        return st.one_of(*(values(a) for a in args))
    if hint is type(None):
        return st.none()
    if hint is Any:
        return JSON
    if hint is datetime:
        return MOMENTS
    if isinstance(hint, type) and issubclass(hint, enum.Enum):
        return st.sampled_from(list(hint))
    if isinstance(hint, type) and dataclasses.is_dataclass(hint):
        return instances(hint)
    if origin is list:
        return st.lists(values(args[0]), max_size=3)
    if origin is dict:
        return st.dictionaries(TEXT, values(args[1]), max_size=3)
    simple: dict[Any, st.SearchStrategy[Any]] = {
        str: TEXT,
        bool: st.booleans(),
        int: WHOLE,
        float: st.floats(allow_nan=False, allow_infinity=False),
    }
    return simple[hint]


def instances(cls: type) -> st.SearchStrategy[Any]:
    """Instances of dataclass ``cls`` with every stored field generated (not-stored ones keep
    their defaults: they never reach a row)."""
    hints = typing.get_type_hints(cls)
    return st.builds(
        cls,
        **{f.name: values(hints[f.name]) for f in dataclasses.fields(cls) if f.metadata.get("stored", True)},
    )


@pytest.mark.parametrize("kind", STORED, ids=lambda k: k.type.__name__)
@settings(max_examples=60, deadline=None)
@given(data=st.data())
def test_every_stored_type_comes_back_equal_from_its_entity(kind: RowKind[Any], data: st.DataObject) -> None:
    obj = data.draw(instances(kind.type))
    entity = encode(obj, "tenant", kind.row_key("key"))
    assert decode(kind.type, entity) == obj


@pytest.mark.parametrize("kind", STORED, ids=lambda k: k.type.__name__)
@settings(max_examples=12, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture])
@given(data=st.data())
def test_every_stored_type_comes_back_equal_from_table_storage(
    store: StateStore, kind: RowKind[Any], data: st.DataObject
) -> None:
    """Written and read as the store does (its extra columns too), at a fixed key: keys made of
    generated text are not what this checks."""
    obj = data.draw(instances(kind.type))
    tenant = str(uuid.uuid4())
    entity = encode(obj, tenant, kind.row_key("key"))
    entity.update(kind.columns(obj) if kind.columns is not None else {})
    store.table(kind.table, ensure=True).upsert_entity(entity)
    assert store.get(kind, tenant, "key") == obj


# -- shapes written before: by older versions, by a person in Storage Explorer --------------------


@dataclass(frozen=True)
class WidgetShape:  # Widget*: a test type, not part of the deployed layout
    tenant_id: str
    made_at: datetime
    count: int
    weight: float
    colour: Colour
    parts: list[Part]
    seen_at: datetime | None = None
    note: str | None = None
    tags: list[str] = field(default_factory=list)
    sizes: dict[str, int] = field(default_factory=dict)


SHAPE_ROWS = RowKind(WidgetShape, "testshape", key=lambda w: w.tenant_id, layout="old shapes")
NOW = datetime(2026, 1, 31, 8, 0, 0, 123456, tzinfo=UTC)
ROW = {
    "made_at": NOW,  # Edm.DateTime, as the SDK writes a datetime
    "count": 3,
    "weight": 12.5,
    "colour": "blue",
    "parts": '[{"name":"bolt","at":"2026-01-31T08:00:00.123456+00:00"},{"name":"nut","at":null}]',
    "seen_at": NOW,
    "note": "kept",
    "tags": '["a"]',
    "sizes": '{"a":1}',
}
EXPECTED = WidgetShape(
    "", NOW, 3, 12.5, Colour.BLUE, [Part("bolt", NOW), Part("nut")], NOW, "kept", ["a"], {"a": 1}
)


@pytest.mark.parametrize(
    ("stored", "read"),
    [
        ({}, {}),
        ({"made_at": "2026-01-31T08:00:00.123456+00:00"}, {}),  # ISO text, not Edm.DateTime
        ({"made_at": "2026-01-31T08:00:00.123456Z", "seen_at": "2026-01-31T08:00:00.123456Z"}, {}),
        ({"count": EntityProperty(3, EdmType.INT64)}, {}),  # Edm.Int64, as Storage Explorer may set
        ({"count": EntityProperty(2**40, EdmType.INT64)}, {"count": 2**40}),  # beyond 32 bits
        ({"count": "3"}, {}),  # a number kept as text
        ({"weight": 12}, {"weight": 12.0}),  # a whole number where a float belongs
        ({"parts": '[{"name":"bolt","at":"2026-01-31T08:00:00.123456Z"}]'}, {"parts": [Part("bolt", NOW)]}),
        # columns of fields added since, or of fields removed since
        (
            {"seen_at": None, "note": None, "tags": None, "sizes": None, "gone": "x"},
            {"seen_at": None, "note": None, "tags": [], "sizes": {}},
        ),
    ],
    ids=[
        "as-written",
        "datetime-as-iso-text",
        "datetime-as-iso-text-with-Z",
        "int-as-Edm.Int64",
        "int-as-Edm.Int64-beyond-32-bits",
        "int-as-text",
        "float-as-int",
        "nested-datetime-with-Z",
        "optional-columns-missing-and-an-unknown-one",
    ],
)
def test_rows_in_older_shapes_still_read(
    store: StateStore, stored: dict[str, Any], read: dict[str, Any]
) -> None:
    tenant = str(uuid.uuid4())
    entity = {
        "PartitionKey": tenant,
        "RowKey": SHAPE_ROWS.row_key(tenant),
        "tenant_id": tenant,
        **ROW,
        **stored,
    }
    store.table(SHAPE_ROWS.table, ensure=True).upsert_entity(
        {k: v for k, v in entity.items() if v is not None}
    )
    found = store.get(SHAPE_ROWS, tenant, tenant)
    assert found == dataclasses.replace(EXPECTED, tenant_id=tenant, **read)
    assert found is not None and type(found.count) is int and type(found.weight) is float
    # A query asks only for the type's columns ($select): the same row comes back.
    assert store.query(SHAPE_ROWS, tenant) == [found]
    assert [row for row, _ in store.read(tenant, [rows.Select(SHAPE_ROWS)])[SHAPE_ROWS]] == [found]


def test_a_null_property_reads_as_an_absent_one() -> None:
    """A property a query's $select names and the row lacks: Azure is reported to answer it null
    (Azurite issue #2535), Azurite leaves it out; a field with a default takes it either way."""
    entity = {**ROW, "tenant_id": "t", "seen_at": None, "note": None, "tags": None, "sizes": None}
    assert decode(WidgetShape, entity) == dataclasses.replace(
        EXPECTED, tenant_id="t", seen_at=None, note=None, tags=[], sizes={}
    )


@settings(max_examples=500, deadline=None)
@given(
    st.one_of(
        st.text(max_size=260),
        st.text(alphabet=st.sampled_from("aZ09-_.:/#?é١\u0301 "), max_size=210),
        st.uuids().map(str),
    )
)
def test_a_key_part_is_kept_exactly_when_every_character_is_plainly_safe(value: str) -> None:
    # The rule (RowKeys forbid / \ # ? and control characters): 1 to 200 characters, each
    # alphanumeric or one of "-_.:" is kept as it is; anything else becomes a fixed-length hash.
    plain = 0 < len(value) <= 200 and all(c.isalnum() or c in "-_.:" for c in value)
    key = rows.safe_key(value)
    if plain:
        assert key == value
    else:
        assert key != value and key.startswith("h-") and len(key) == 34
