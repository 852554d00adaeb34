"""Round trips of a sweep, counted at the wire: every Graph and Table Storage request goes through a
counting proxy (tests/support/proxy.py). A timer sweep pays its round trips every run for every
tenant; these pin how many it makes, not how long they take."""

from __future__ import annotations

import threading
from collections.abc import Callable, Iterator
from datetime import timedelta
from typing import Any

import pytest
from pytest_mock import MockerFixture

from graphsim import GraphSimulator
from scripts.azurite import Azurite
from tests.conftest import DEFENDER, LOOKOUT, ZIMPERIUM, Host
from tests.support.proxy import CountingProxy
from tests.support.receiver import Receiver
from tests.support.scenarios import connector, load

# The sweep record's upsert (an InsertOrReplace of one entity), the tenant's partition.
RECORD_WRITE = "PUT /devstoreaccount1/mtdguardstate(PartitionKey='{}',RowKey='sweep%7Cheartbeat')"


@pytest.fixture
def wire(azurite: Azurite, graph: GraphSimulator, env: Callable[..., None]) -> Iterator[Callable[..., Any]]:
    """Point the app at counting proxies; returns a function applying env overrides on top and
    answering the (graph, table) proxies."""
    with (
        CountingProxy(graph.base_url) as graph_proxy,
        CountingProxy(f"http://127.0.0.1:{azurite.port}/devstoreaccount1") as table_proxy,
    ):
        storage = azurite.connection_string.replace(
            f"http://127.0.0.1:{azurite.port}/devstoreaccount1", table_proxy.url
        )

        def apply(**overrides: str | None) -> tuple[CountingProxy, CountingProxy]:
            env(GRAPH_ENDPOINT=graph_proxy.url, AzureWebJobsStorage=storage, **overrides)
            return graph_proxy, table_proxy

        yield apply


def _steady(host: Host, proxies: tuple[CountingProxy, CountingProxy]) -> tuple[list[str], list[str]]:
    """Sweep twice more (the second is steady), counting the last one's Graph and Table requests.
    In it, the state read is answered only once Graph has been asked: a sweep that waited for the
    read before asking Graph would leave it in ``waited_out``."""
    graph_proxy, table_proxy = proxies
    host.timer("heartbeat_monitor")
    for proxy in proxies:
        proxy.clear()
    table_proxy.hold(lambda method, _: method == "GET", until=graph_proxy.arrived)
    host.timer("heartbeat_monitor")
    graph = [f"{r.method} {r.path.split('?')[0]}" for r in graph_proxy.requests]
    table = [f"{r.method} {r.path.split('?')[0]}" for r in table_proxy.requests]
    return graph, table


def test_a_steady_sweep_of_an_unchanged_tenant_waits_for_two_round_trips_and_writes_one_row(
    host: Host, wire: Callable[..., Any], graph: GraphSimulator, tenant_id: str
) -> None:
    from shared.context import services
    from shared.heartbeat.sweep import history

    proxies = wire()
    load(
        graph,
        tenant_id,
        connector(LOOKOUT, "now-2h"),
        connector(DEFENDER, "now-9d"),
        connector(ZIMPERIUM, "now-30h"),
    )
    host.timer("heartbeat_monitor")  # first sweep: statuses, findings and alerts created
    _, table_proxy = proxies
    graph_calls, table_calls = _steady(host, proxies)
    assert graph_calls == ["GET /v1.0/deviceManagement/mobileThreatDefenseConnectors"]
    # Round trip 1: one read of the tenant's state (statuses, findings, the sweep record, pending
    # alerts), sent while Graph is asked; 2: one row written, the sweep's record, which carries the
    # timer's success (a plain request: no batch for one row). Nothing else changed, so no status,
    # finding or history row is written; no table creation, no query for pending alerts.
    assert table_calls == ["GET /devstoreaccount1/mtdguardstate()", RECORD_WRITE.format(tenant_id)]
    assert table_proxy.waited_out == []  # the read overlapped the Graph call
    # Three sweeps, one observation each: only the first saw anything new.
    store = services().store
    assert [len(history(store, tenant_id, c)) for c in (LOOKOUT, DEFENDER, ZIMPERIUM)] == [1, 1, 1]


def test_a_drift_left_open_is_not_written_again_by_the_sweeps_that_see_it_unchanged(
    host: Host, wire: Callable[..., Any], graph: GraphSimulator, tenant_id: str
) -> None:
    from shared.clock import now_utc
    from shared.context import services
    from shared.findings.stored import stored_findings
    from shared.heartbeat.sweep import history

    proxies = wire()
    beat = (now_utc() - timedelta(hours=2)).strftime("%Y-%m-%dT%H:%M:%SZ")  # the same in every load
    load(graph, tenant_id, connector(LOOKOUT, beat), connector(ZIMPERIUM, beat, threshold=7))
    host.timer("heartbeat_monitor")  # first sight: baselines taken
    load(graph, tenant_id, connector(LOOKOUT, beat), connector(ZIMPERIUM, beat, threshold=5))
    host.timer("heartbeat_monitor")  # Zimperium's threshold lowered in the admin center: drift
    store = services().store
    drift = list(stored_findings(store, tenant_id, "connectorDrift").values())
    assert [(f.resource_id, f.is_active) for f in drift] == [(ZIMPERIUM, True)]
    _, table_calls = _steady(host, proxies)  # two more sweeps, the drift still open
    assert table_calls == ["GET /devstoreaccount1/mtdguardstate()", RECORD_WRITE.format(tenant_id)]
    assert [len(history(store, tenant_id, c)) for c in (LOOKOUT, ZIMPERIUM)] == [1, 2]
    again = list(stored_findings(store, tenant_id, "connectorDrift").values())
    assert [f.last_seen for f in again] == [drift[0].last_seen]  # as of the change, not rewritten


def test_an_alert_still_pending_is_delivered_by_a_later_sweep_with_nothing_new(
    host: Host,
    wire: Callable[..., Any],
    graph: GraphSimulator,
    tenant_id: str,
    receiver: Receiver,
    mocker: MockerFixture,
) -> None:
    from shared.clock import now_utc

    wire(ALERT_WEBHOOK_URL=receiver.url)
    load(graph, tenant_id, connector(DEFENDER, "now-9d"))
    receiver.fail_with = 503
    host.timer("heartbeat_monitor")  # Defender unresponsive: the alert's first delivery fails
    assert receiver.received == []
    receiver.fail_with = None
    mocker.patch("shared.clock.system_now", return_value=now_utc() + timedelta(hours=2))  # retry due
    host.timer("heartbeat_monitor")  # nothing new: the pending alert, read with the state, goes out
    assert [(p["kind"], p["health"]) for p in receiver.payloads()] == [("heartbeat", "unresponsive")]


def test_a_sweep_with_nothing_pending_does_not_ask_the_outbox(
    host: Host, wire: Callable[..., Any], graph: GraphSimulator, tenant_id: str, receiver: Receiver
) -> None:
    _, table_proxy = wire(ALERT_WEBHOOK_URL=receiver.url)
    load(graph, tenant_id, connector(DEFENDER, "now-9d"))
    host.timer("heartbeat_monitor")  # Defender unresponsive: one alert, sent at once
    assert len(receiver.received) == 1
    table_proxy.clear()
    host.timer("heartbeat_monitor")  # nothing new, nothing pending: no query for pending alerts
    assert [r.method for r in table_proxy.requests] == ["GET", "PUT"]  # the read, the sweep's record
    assert len(receiver.received) == 1


def test_every_graph_call_of_a_process_reuses_one_connection(
    host: Host, wire: Callable[..., Any], graph: GraphSimulator, tenant_id: str
) -> None:
    # One HTTP client (and its msgraph-sdk middleware) per process: a client per call re-read the
    # CA bundle and opened a new connection every time.
    graph_proxy, _ = wire()
    load(graph, tenant_id, connector(LOOKOUT, "now-2h"))
    for _ in range(3):
        host.timer("heartbeat_monitor")
    assert len(graph_proxy.requests) == 3
    assert graph_proxy.connections == 1


def test_every_table_of_a_process_is_reached_over_one_connection(
    host: Host, wire: Callable[..., Any], graph: GraphSimulator, tenant_id: str
) -> None:
    # One transport (and connection pool) for the process's Table Storage clients: a client per
    # table with a pool each opened a connection (a TLS handshake in Azure) per table.
    _, table_proxy = wire()
    load(graph, tenant_id, connector(LOOKOUT, "now-2h"))
    host.timer("heartbeat_monitor")  # statuses and the history: two tables (both created here)
    load(graph, tenant_id, connector(LOOKOUT, "now-1h"))
    host.timer("heartbeat_monitor")  # a new heartbeat: a status and an observation again
    tables = {r.path.split("/")[2].split("(")[0] for r in table_proxy.requests}
    assert {"mtdguardstate", "mtdguardhistory"} <= tables
    assert table_proxy.connections == 1


def test_starting_the_graph_read_returns_before_graph_answers(
    wire: Callable[..., Any], graph: GraphSimulator, tenant_id: str
) -> None:
    # The sweep's state read overlaps Graph's answer only if starting the Graph read does not
    # wait for it: begin_list_connectors returns once the request is on its way.
    from shared.context import services

    graph_proxy, _ = wire()
    load(graph, tenant_id, connector(LOOKOUT, "now-2h"))
    gateway = services().graph
    gateway.list_connectors()  # the adapter built and its connection open, as in a steady sweep
    graph_proxy.clear()
    answer = threading.Event()
    graph_proxy.hold(lambda method, _: method == "GET", until=answer)
    listing = gateway.begin_list_connectors()
    assert not listing.done()  # held at the proxy: asked, not answered
    assert graph_proxy.arrived.wait(5)
    answer.set()
    assert [r.id for r in listing.result(timeout=10).readings] == [LOOKOUT]
    assert graph_proxy.waited_out == []
