"""The generic store against real Azurite: kinds declared by their types, atomic groups, conflicts,
parameterised filters and error messages safe to show."""

from __future__ import annotations

import subprocess
import sys
import uuid
from dataclasses import dataclass, field, replace
from datetime import UTC, datetime, timedelta
from enum import StrEnum
from typing import Any

import pytest

from scripts.azurite import KEY, Azurite
from shared.store import rows
from shared.store.rows import RowKind, Write, eq, ge
from shared.store.state import StateStore, StoreConflict, StoreError, StoreRejected
from tests.store.conftest import no_token

NOW = datetime(2026, 1, 31, 8, 0, 0, 123456, tzinfo=UTC)


class Colour(StrEnum):
    RED = "red"
    BLUE = "blue"


@dataclass(frozen=True)
class Part:
    name: str
    at: datetime | None = None


@dataclass(frozen=True)
class Widget:
    tenant_id: str
    name: str
    colour: Colour
    made_at: datetime
    weight: float
    count: int
    tags: list[str] = field(default_factory=list)
    parts: dict[str, Part] = field(default_factory=dict)
    note: str | None = None


WIDGET_ROWS = RowKind(
    Widget,
    "testwidget",
    key=lambda w: rows.safe_key(w.name),
    layout="a test widget",
    columns=lambda w: {"heavy": w.weight > 10},
)


@dataclass(frozen=True)
class Ticket:
    tenant_id: str
    id: str
    opened_at: datetime


TICKET_ROWS = RowKind(Ticket, "testticket", key=lambda t: t.id, layout="inserted once", write=Write.INSERT)


@dataclass(frozen=True)
class Counter:
    tenant_id: str
    name: str
    value: int
    etag: str | None = field(default=None, compare=False, metadata={"stored": False})


COUNTER_ROWS = RowKind(
    Counter,
    "testcounter",
    key=lambda c: c.name,
    layout="written over the version read",
    write=Write.IF_UNCHANGED,
    etag=lambda c: c.etag,
)


@pytest.fixture
def tenant() -> str:
    return str(uuid.uuid4())


def widget(tenant: str, name: str = "w1", **changes: Any) -> Widget:
    made = Widget(
        tenant,
        name,
        Colour.BLUE,
        NOW,
        12.5,
        3,
        ["a", "b"],
        {"left": Part("bolt", NOW), "right": Part("nut")},
        note=None,
    )
    return replace(made, **changes)


def test_a_kind_round_trips_every_field_type_and_its_extra_column(store: StateStore, tenant: str) -> None:
    stored = widget(tenant)
    store.commit(tenant, [[stored]])

    assert store.get(WIDGET_ROWS, tenant, "w1") == stored
    assert store.query(WIDGET_ROWS, tenant) == [stored]
    assert store.query(WIDGET_ROWS, tenant, eq("heavy", True)) == [stored]
    assert store.query(WIDGET_ROWS, tenant, eq("heavy", False)) == []
    assert store.get(WIDGET_ROWS, tenant, "missing") is None
    assert store.query(WIDGET_ROWS, str(uuid.uuid4())) == []  # another tenant's partition


def test_rows_of_a_kind_stay_in_their_prefix_and_deletes_are_groups_too(
    store: StateStore, tenant: str
) -> None:
    store.commit(tenant, [[widget(tenant, "a")], [widget(tenant, "b")], [Ticket(tenant, "a", NOW)]])
    assert [w.name for w in store.query(WIDGET_ROWS, tenant)] == ["a", "b"]

    store.commit(tenant, [[WIDGET_ROWS.delete("a"), Ticket(tenant, "b", NOW)]])

    assert [w.name for w in store.query(WIDGET_ROWS, tenant)] == ["b"]
    assert [t.id for t in store.query(TICKET_ROWS, tenant)] == ["a", "b"]


def test_an_insert_only_row_makes_a_second_batch_fail_whole(store: StateStore, tenant: str) -> None:
    store.commit(tenant, [[Ticket(tenant, "evt-1", NOW), widget(tenant, note="first run")]])

    with pytest.raises(StoreConflict):
        store.commit(tenant, [[Ticket(tenant, "evt-1", NOW), widget(tenant, note="second run")]])

    kept = store.get(WIDGET_ROWS, tenant, "w1")
    assert kept is not None and kept.note == "first run"  # nothing of the failed batch landed


def test_a_row_changed_since_it_was_read_is_not_overwritten(store: StateStore, tenant: str) -> None:
    store.commit(tenant, [[Counter(tenant, "c", 1)]])
    mine = store.get(COUNTER_ROWS, tenant, "c")
    theirs = store.get(COUNTER_ROWS, tenant, "c")
    assert mine is not None and theirs is not None and mine.etag

    store.commit(tenant, [[replace(theirs, value=2)]])  # they write first
    with pytest.raises(StoreConflict):
        store.commit(tenant, [[replace(mine, value=3)]])
    with pytest.raises(StoreConflict):  # never read: inserting over an existing row conflicts too
        store.commit(tenant, [[Counter(tenant, "c", 4)]])

    now = store.get(COUNTER_ROWS, tenant, "c")
    assert now is not None and now.value == 2


def test_save_and_transact_answer_none_when_another_writer_came_first(store: StateStore, tenant: str) -> None:
    etag = store.save(tenant, widget(tenant), None)
    assert etag is not None
    assert store.save(tenant, widget(tenant), None) is None  # exists already
    found = store.get_with_etag(WIDGET_ROWS, tenant, "w1")
    assert found is not None and found[1] == etag

    newer = store.transact(tenant, replace=[(widget(tenant, count=4), etag)], create=[widget(tenant, "w2")])
    assert newer is not None and set(newer) == {"w1", "w2"} and newer["w1"] != etag
    assert store.transact(tenant, replace=[(widget(tenant, count=5), etag)]) is None  # stale ETag
    assert store.save(tenant, widget(tenant, count=6), etag) is None
    kept = store.get(WIDGET_ROWS, tenant, "w1")
    assert kept is not None and kept.count == 4


@dataclass(frozen=True)
class Oversized:
    tenant_id: str
    name: str


# The codec cuts long text (a property holds at most 64 KiB); an extra column is written as given.
OVERSIZED_ROWS = RowKind(
    Oversized,
    "testoversized",
    key=lambda o: o.name,
    layout="refused",
    columns=lambda o: {"blob": "x" * 40_000},
)


def test_a_row_storage_refuses_is_refused_alone_as_in_a_batch(store: StateStore, tenant: str) -> None:
    # A write of one row is a plain request (no batch); it must fail the way its batch would.
    for group in ([Oversized(tenant, "big")], [Oversized(tenant, "big"), widget(tenant, "w2")]):
        with pytest.raises(StoreRejected, match="refused a row"):
            store.commit(tenant, [group])
    assert store.query(WIDGET_ROWS, tenant) == []  # nothing of either landed


@pytest.mark.parametrize("name", ["O'Brien", "it''s", "' or RowKey ne '", "a @p0 b"])
def test_a_filter_value_with_quotes_is_matched_literally(store: StateStore, tenant: str, name: str) -> None:
    others = ["OBrien", "O", "it's", "x"]
    store.commit(tenant, [[widget(tenant, n, note=n)] for n in [name, *others] if n != name])
    store.commit(tenant, [[widget(tenant, name, note=name)]])

    found = store.query(WIDGET_ROWS, tenant, eq("note", name))

    assert [w.note for w in found] == [name]


def test_a_quote_in_the_tenant_id_stays_inside_the_partition(store: StateStore) -> None:
    odd, plain = "t'1", "t"
    store.commit(odd, [[widget(odd)]])
    store.commit(plain, [[widget(plain)]])
    assert [w.tenant_id for w in store.query(WIDGET_ROWS, odd)] == [odd]


def test_datetime_conditions_compare_as_datetimes(store: StateStore, tenant: str) -> None:
    store.commit(
        tenant,
        [
            [widget(tenant, "early", made_at=NOW)],
            [widget(tenant, "late", made_at=NOW + timedelta(seconds=1))],
        ],
    )
    assert [w.name for w in store.query(WIDGET_ROWS, tenant, ge("made_at", NOW + timedelta(seconds=1)))] == [
        "late"
    ]
    assert store.delete_where(WIDGET_ROWS, tenant, rows.lt("made_at", NOW + timedelta(seconds=1))) == 1
    assert [w.name for w in store.query(WIDGET_ROWS, tenant)] == ["late"]


def test_pages_continue_after_the_last_row_key(store: StateStore, tenant: str) -> None:
    store.commit(tenant, [[widget(tenant, f"w{i}")] for i in range(5)])
    first, after = store.page(WIDGET_ROWS, tenant, limit=2)
    second, after2 = store.page(WIDGET_ROWS, tenant, limit=2, after=after)
    last, end = store.page(WIDGET_ROWS, tenant, limit=2, after=after2)
    assert [w.name for w in first + second + last] == [f"w{i}" for i in range(5)]
    assert end is None


def test_a_group_spanning_two_tables_is_refused(store: StateStore, tenant: str) -> None:
    from shared.heartbeat.plan import Observation

    seen = Observation("c", NOW, "healthy", None, None, None, 7, "ok")
    with pytest.raises(ValueError, match="spans tables"):
        store.commit(tenant, [[widget(tenant), seen]])


def test_storage_errors_never_show_the_account_key_or_connection_string(azurite: Azurite) -> None:
    wrong_key = "c2VjcmV0LWtleS10aGF0LW11c3Qtbm90LWxlYWs=" * 2
    connection = azurite.connection_string.replace(KEY, wrong_key)
    down = f"DefaultEndpointsProtocol=http;AccountName=devstoreaccount1;AccountKey={wrong_key};TableEndpoint=http://127.0.0.1:9/devstoreaccount1;"
    for text in (connection, down):
        bad = StateStore.connect(connection_string=text, endpoint=None, credential=no_token)
        with pytest.raises(StoreError) as caught:
            bad.query(WIDGET_ROWS, "t")
        message = str(caught.value)
        assert message.startswith("state storage unavailable")
        for secret in (wrong_key, KEY, text, "AccountKey="):
            assert secret not in message


def test_the_stored_layout_is_what_deployed_tenants_hold() -> None:
    """Same tables, prefixes and write modes as before the store became generic: existing rows read."""
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
    import shared.posture.model  # noqa: F401

    layout = {k.type.__name__: (k.table, k.prefix, k.write) for k in rows._KINDS.values()}
    state, upsert = "mtdguardstate", Write.UPSERT
    assert {
        name: where
        for name, where in layout.items()
        if not name.startswith(("Widget", "Ticket", "Counter", "Oversized"))
    } == {
        "ConnectorStatus": (state, "connector", upsert),
        "SweepRecord": (state, "sweep", Write.IF_UNCHANGED),  # over the version read since issue 15
        "Observation": ("mtdguardhistory", "obs", upsert),  # ticks first since issue 15
        "LegacyObservation": ("mtdguardhistory", "", upsert),  # the layout before: read and pruned
        "Finding": (state, "finding", Write.IF_UNCHANGED),
        "Alert": (state, "alert", upsert),
        "Thread": (state, "thread", upsert),
        "ClassicPolicy": (state, "classic", upsert),
        "AuditCursor": (state, "cursor", upsert),
        "ProcessedEvent": (state, "auditevent", Write.INSERT),
        "BaselineImport": (state, "import", upsert),
        "PlannedRemoval": (state, "removal", upsert),
        "ModernPolicy": (state, "capolicy", upsert),
        "GraphTransient": (state, "catransient", upsert),
        "AuditEntry": ("mtdguardchanges", "audit", Write.INSERT),
        "JobRun": (state, "job", upsert),  # new kind (issue 11): each timer job's last success
        # new kinds (issue 12): a connector's baseline, values Intune refused to keep
        "Baseline": (state, "baseline", upsert),
        "NotKept": (state, "notkept", upsert),
        "PlatformPosture": (state, "posture", upsert),  # new kinds (issue 13): the chain per platform
        "LinkBaseline": (state, "chainlink", upsert),
    }
    assert "mtdguardstate  finding|<Finding key>" in rows.layout()


def test_a_prefix_names_one_kind() -> None:
    with pytest.raises(ValueError, match="already names Widget"):
        RowKind(Ticket, "testwidget", key=lambda t: t.id, layout="clash")


def test_kinds_and_stored_types_load_without_the_azure_sdk() -> None:
    code = (
        "import sys, shared.store.rows, shared.findings.model, shared.audit.entries;"
        "print(sorted(m for m in sys.modules if m.startswith('azure')))"
    )
    out = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, check=True)
    assert out.stdout.strip() == "[]"


@dataclass(frozen=True)
class WidgetNote:  # Widget*: a test type, not part of the deployed layout
    tenant_id: str
    id: str
    text: str


NOTE_ROWS = RowKind(WidgetNote, "testnote", key=lambda n: n.id, layout="a note", table="testvanishing")


@dataclass(frozen=True)
class WidgetStamp:  # inserted only, as audit entries are
    tenant_id: str
    id: str


STAMP_ROWS = RowKind(
    WidgetStamp, "teststamp", key=lambda n: n.id, layout="a stamp", table="testvanishing", write=Write.INSERT
)


def test_a_table_deleted_while_the_app_runs_is_created_again_and_the_write_retried(
    azurite: Azurite, tenant: str
) -> None:
    # The store never creates tables up front (in Azure the deployment did), so this table does
    # not exist at first either; both cases are one 404 TableNotFound, answered the same way.
    store = StateStore.connect(
        connection_string=azurite.connection_string, endpoint=None, credential=no_token
    )
    azure_like = StateStore(store._service)
    azure_like.commit(tenant, [[WidgetNote(tenant, "n1", "first")]])
    assert [n.text for n in azure_like.query(NOTE_ROWS, tenant)] == ["first"]
    store._service.delete_table("testvanishing")
    assert azure_like.read(tenant, [rows.Select(NOTE_ROWS)]) == {NOTE_ROWS: []}
    store._service.delete_table("testvanishing")
    azure_like.commit(tenant, [[WidgetNote(tenant, "n2", "second")]])
    assert [n.text for n in azure_like.query(NOTE_ROWS, tenant)] == ["second"]
    assert azure_like.get(NOTE_ROWS, tenant, "n1") is None
    store._service.delete_table("testvanishing")
    azure_like.commit(tenant, [[WidgetStamp(tenant, "s1")]])  # one insert alone, as an audit entry
    assert [s.id for s in azure_like.query(STAMP_ROWS, tenant)] == ["s1"]


def test_one_partition_read_returns_each_selected_kind_with_etags(store: StateStore, tenant: str) -> None:
    other = str(uuid.uuid4())
    store.commit(tenant, [[widget(tenant, "w1")], [widget(tenant, "w2", weight=2.0)]])
    store.commit(tenant, [[Counter(tenant, "c1", 1)], [Counter(tenant, "c2", 2)]])
    store.commit(tenant, [[Ticket(tenant, "t1", NOW)]])
    store.commit(other, [[Counter(other, "c1", 9)]])
    found = store.read(
        tenant,
        [
            rows.Select(WIDGET_ROWS, where=(eq("heavy", True),)),
            rows.Select(COUNTER_ROWS, key="c2"),
            rows.Select(TICKET_ROWS),
        ],
    )
    assert [w.name for w, _ in found[WIDGET_ROWS]] == ["w1"]  # w2 weighs 2.0: not heavy
    [(counter, etag)] = found[COUNTER_ROWS]
    assert (counter.name, counter.value) == ("c2", 2)  # only that key, only this tenant
    assert store.save(tenant, replace(counter, value=3), etag) is not None  # the ETag is current
    assert [t.id for t, _ in found[TICKET_ROWS]] == ["t1"]
    with pytest.raises(ValueError, match="spans tables"):
        store.read(tenant, [rows.Select(WIDGET_ROWS), rows.Select(NOTE_ROWS)])
