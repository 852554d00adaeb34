"""Every invocation ends within its time budget, whatever Graph, Table Storage or a receiver does
(issue 11, "Time"). Each fault is injected under the real functions (host stand-in, Azurite, the
Graph simulator, local receivers) with a small budget set through the settings; each test prints
the invocation's wall time against its budget, and asserts only that it finished within it, and
what the user sees: a transient problem, a 503, the other channel served, no configure let in.
"""

from __future__ import annotations

import json
import threading
import time
from collections.abc import Callable
from datetime import timedelta
from typing import Any

import pytest
from pytest_mock import MockerFixture

from graphsim import Fault, GraphSimulator
from scripts.azurite import Azurite
from shared import catalog
from shared.audit.entries import Caller
from shared.clock import now_utc
from shared.configure import apply as configurator
from shared.context import services
from tests.chaos.figures import Figures
from tests.chaos.stand_ins import SilentServer, TrickleServer, wall
from tests.conftest import LOOKOUT, ZIMPERIUM, Host, body
from tests.support.alerting import CHANNEL_SETTINGS_OFF, alerts_of, outbox, teams_settings
from tests.support.fakeapi import FakeTeamsWorkflow
from tests.support.receiver import Receiver
from tests.support.scenarios import connector, load

SENTINELONE = "bb13fe25-ce1f-45aa-b278-cabbc6b9072e"
BLACKBERRY = catalog.resolve("blackberry")
BUDGET = 5  # seconds: TIMER_BUDGET_SECONDS and HTTP_BUDGET_SECONDS in these tests
CONNECTORS = "/deviceManagement/mobileThreatDefenseConnectors"


@pytest.fixture
def budgeted(env: Callable[..., None]) -> Callable[..., None]:
    """``env`` with both budgets at BUDGET seconds and every channel off unless named."""

    def apply(**overrides: Any) -> None:
        budgets = {"TIMER_BUDGET_SECONDS": str(BUDGET), "HTTP_BUDGET_SECONDS": str(BUDGET)}
        env(**{**CHANNEL_SETTINGS_OFF, **budgets, **overrides})

    apply()
    return apply


def timed(figures: Figures, request: pytest.FixtureRequest, function: str, call: Callable[[], Any]) -> Any:
    """Run one invocation, record and print its wall time, assert it ended within the budget."""
    start = time.monotonic()
    result = call()
    seconds = wall(start)
    figures.invocation(request.node.name, function, seconds, BUDGET)
    assert seconds <= BUDGET, f"{function} took {seconds:.1f} s, beyond its {BUDGET} s budget"
    return result


def test_a_retry_after_longer_than_the_budget_ends_the_sweep_as_throttled_without_waiting(
    host: Host,
    budgeted: Callable[..., None],
    graph: GraphSimulator,
    tenant_id: str,
    figures: Figures,
    request: pytest.FixtureRequest,
    caplog: pytest.LogCaptureFixture,
) -> None:
    load(graph, tenant_id, connector(LOOKOUT, "now-1h"))
    graph.add_fault(Fault(kind="status", method="GET", path=CONNECTORS, status=429, retry_after=179))
    figures.fault("Graph answers 429 with Retry-After: 179 on every connector read")

    timed(figures, request, "heartbeat_monitor", lambda: host.timer("heartbeat_monitor"))

    assert len(graph.requests) == 1  # the SDK did not sleep 179 s to try again
    problems = [r.getMessage() for r in caplog.records if "heartbeat sweep problem" in r.getMessage()]
    assert any("429, with Retry-After" in p and "retrying next sweep" in p for p in problems), problems


def test_a_graph_body_trickled_byte_by_byte_ends_the_check_within_its_budget(
    host: Host, budgeted: Callable[..., None], figures: Figures, request: pytest.FixtureRequest
) -> None:
    page = json.dumps({"value": [connector(LOOKOUT, "2026-11-29T00:00:00Z")]}).encode()
    with TrickleServer(page, interval=0.5) as trickle:  # every read well inside httpx's 30 s
        budgeted(GRAPH_ENDPOINT=trickle.url)
        figures.fault("Graph's answer trickles in one byte every 0.5 s")
        answer = timed(
            figures, request, "checks_run", lambda: host.http("checks_run", "POST", "/api/checks/heartbeat")
        )
    assert answer.status_code == 200
    result = body(answer)
    assert result["ok"] is False
    assert any("did not answer the connector list in time" in p for p in result["problems"]), result[
        "problems"
    ]


def test_a_table_endpoint_that_never_answers_ends_the_check_and_the_timer_within_the_budget(
    host: Host,
    budgeted: Callable[..., None],
    azurite: Azurite,
    graph: GraphSimulator,
    tenant_id: str,
    figures: Figures,
    request: pytest.FixtureRequest,
) -> None:
    load(graph, tenant_id, connector(LOOKOUT, "now-1h"))
    with SilentServer() as silent:
        table = f"http://127.0.0.1:{silent.port}/devstoreaccount1"
        stuck = azurite.connection_string.replace(_table_endpoint(azurite), table)
        assert stuck != azurite.connection_string
        budgeted(AzureWebJobsStorage=stuck)
        figures.fault("Table Storage accepts connections and never answers (HTTP route)")
        answer = timed(
            figures, request, "checks_run", lambda: host.http("checks_run", "POST", "/api/checks/heartbeat")
        )
        figures.fault("Table Storage accepts connections and never answers (timer)")
        timed(figures, request, "heartbeat_monitor", lambda: host.timer("heartbeat_monitor"))
        assert silent.connections >= 1  # the store really was asked
    # Nothing could be recorded: 503, as every route answers when storage is down, saying why.
    assert answer.status_code == 503
    assert answer.mimetype == "application/problem+json"
    problem = body(answer)
    assert problem["title"] == "Storage unavailable"
    assert (
        "nothing was recorded: state storage unavailable: no answer within this run's time budget"
        in problem["detail"]
    )


def test_a_slow_receiver_delays_only_itself_and_its_alert_goes_out_later_once(
    host: Host,
    budgeted: Callable[..., None],
    graph: GraphSimulator,
    tenant_id: str,
    receiver: Receiver,
    teams: FakeTeamsWorkflow,
    figures: Figures,
    request: pytest.FixtureRequest,
) -> None:
    budgeted(ALERT_WEBHOOK_URL=receiver.url, **teams_settings(teams))
    load(graph, tenant_id, connector(LOOKOUT, "now-9d"))
    receiver.delay = 3 * BUDGET  # the webhook answers long after the budget
    figures.fault(f"the webhook receiver answers after {receiver.delay:.0f} s")

    answer = timed(
        figures, request, "checks_run", lambda: host.http("checks_run", "POST", "/api/checks/heartbeat")
    )

    assert answer.status_code == 200
    [alert] = alerts_of()
    assert [c.headers["x-mtdguard-alert-id"] for c in teams.calls] == [alert.alert_id]  # Teams did not wait
    assert receiver.received == []  # the webhook's answer never came within the budget
    receiver.delay = 0.0
    outbox(now_utc() + timedelta(minutes=10))  # the next run, after the retry's backoff
    figures.deliveries([alert.alert_id], [p["alertId"] for p in receiver.payloads()])
    figures.deliveries([alert.alert_id], [c.headers["x-mtdguard-alert-id"] for c in teams.calls])
    assert [p["alertId"] for p in receiver.payloads()] == [alert.alert_id]


def test_a_throttled_patch_never_lets_a_second_configure_in(
    host: Host,
    budgeted: Callable[..., None],
    graph: GraphSimulator,
    tenant_id: str,
    mocker: MockerFixture,
    figures: Figures,
    request: pytest.FixtureRequest,
) -> None:
    load(graph, tenant_id, connector(LOOKOUT, "now-1h"), connector(ZIMPERIUM, "now-1h"))
    graph.add_fault(Fault(kind="status", method="PATCH", status=429, retry_after=1, times=1))
    figures.fault("Graph throttles the configure PATCH (429, Retry-After: 1)")
    # The throttling outlasts a fixed lease: the old 2 minutes against 9, here 0.5 s against 1.
    mocker.patch.object(configurator, "LEASE", timedelta(seconds=0.5))
    services()  # built once, before the threads
    answers: dict[str, Any] = {}

    def put(partner: str) -> None:
        answers[partner] = _put_android_mam(host, figures, request, partner)

    first = threading.Thread(target=put, args=("lookout",))
    first.start()
    time.sleep(0.7)  # the first holds the lease and waits out the throttling
    put("zimperium")
    first.join()

    assert _android_mam_on(graph) == [LOOKOUT]
    assert answers["lookout"].status_code == 200
    assert answers["zimperium"].status_code == 409


def test_a_write_that_times_out_keeps_the_lease_so_a_late_landing_leaves_one_mam_partner(
    host: Host,
    budgeted: Callable[..., None],
    graph: GraphSimulator,
    tenant_id: str,
    figures: Figures,
    request: pytest.FixtureRequest,
) -> None:
    load(graph, tenant_id, connector(ZIMPERIUM, "now-1h"), connector(SENTINELONE, "now-1h"))
    late = 2 * BUDGET  # the PATCH lands after its caller gave up, before the lease ends
    graph.add_fault(Fault(kind="slow", method="PATCH", delay_seconds=late, times=1))
    figures.fault(f"Graph applies the configure PATCH {late} s late, after the request timed out")

    unknown = _put_android_mam(host, figures, request, "zimperium")
    graph.clear_faults()
    second = _put_android_mam(host, figures, request, "sentinelone")
    _wait_for(lambda: _android_mam_on(graph) == [ZIMPERIUM], seconds=3 * late)  # the late PATCH lands

    assert _android_mam_on(graph) == [ZIMPERIUM]  # Intune's one-MAM-partner rule held
    assert second.status_code == 409  # the lease was kept: SentinelOne did not plan against stale state
    assert unknown.status_code == 503
    problem = body(unknown)
    assert problem["type"].endswith("write-outcome-unknown")
    assert "outcome is unknown" in problem["detail"] and "GET /api/connectors/zimperium" in problem["detail"]
    assert problem["leaseHeldUntil"] in problem["detail"]
    assert int(unknown.headers["Retry-After"]) >= late


def test_a_delete_that_times_out_keeps_the_lease_so_no_configure_is_undone_by_its_landing(
    host: Host,
    budgeted: Callable[..., None],
    graph: GraphSimulator,
    tenant_id: str,
    figures: Figures,
    request: pytest.FixtureRequest,
) -> None:
    load(graph, tenant_id, connector(ZIMPERIUM, "now-1h"))
    late = 2 * BUDGET
    graph.add_fault(Fault(kind="slow", method="DELETE", delay_seconds=late, times=1))
    figures.fault(f"Graph applies the DELETE of a connector {late} s late, after the request timed out")
    zimperium = {"partner": "zimperium"}
    deleted = timed(
        figures,
        request,
        "connector_delete",
        lambda: host.http(
            "connector_delete",
            "DELETE",
            "/api/connectors/zimperium",
            route_params=zimperium,
            params={"dryRun": "false"},
        ),
    )
    graph.clear_faults()
    configured = _put_android_mam(host, figures, request, "zimperium")
    _wait_for(lambda: not graph.connectors(), seconds=3 * late)  # the late DELETE lands

    assert configured.status_code == 409  # not a 200 for settings the late delete then removed
    assert deleted.status_code == 503
    assert body(deleted)["type"].endswith("write-outcome-unknown")
    assert int(deleted.headers["Retry-After"]) >= late


def test_a_configure_without_a_budget_ends_its_write_before_its_lease_does(
    budgeted: Callable[..., None], graph: GraphSimulator, tenant_id: str, mocker: MockerFixture
) -> None:
    """A script's configure (no HTTP or timer budget around it): its PATCH may take the gateway's
    whole CALL_SECONDS, so the fixed lease ran out under it and let a second partner in."""
    load(graph, tenant_id, connector(ZIMPERIUM, "now-1h"), connector(SENTINELONE, "now-1h"))
    mocker.patch.object(configurator, "LEASE", timedelta(seconds=2))
    graph.add_fault(Fault(kind="slow", method="PATCH", delay_seconds=4, times=1))  # beyond the lease
    s = services()
    answers: dict[str, int] = {}

    def configure(partner: str) -> None:
        try:
            configurator.configure(
                s,
                partner,
                {"android": {"appProtectionEvaluation": True}},
                dry_run=False,
                caller=Caller(who="a script", via="api"),
                tenant_id=s.settings.tenant_id,
            )
            answers[partner] = 200
        except configurator.Refused as refused:
            answers[partner] = refused.status

    first = threading.Thread(target=configure, args=("zimperium",))
    first.start()
    time.sleep(2.5)  # past the lease's 2 s, while the PATCH is still on its way
    configure("sentinelone")
    first.join()
    _wait_for(lambda: _android_mam_on(graph) == [ZIMPERIUM], seconds=10)  # the late PATCH lands

    assert _android_mam_on(graph) == [ZIMPERIUM]
    assert answers == {"zimperium": 503, "sentinelone": 409}


def test_every_route_failed_by_graph_throttling_passes_on_graphs_retry_after(
    host: Host, budgeted: Callable[..., None], graph: GraphSimulator, tenant_id: str
) -> None:
    load(graph, tenant_id, connector(ZIMPERIUM, "now-1h"), connector(BLACKBERRY, "now-1h"))
    zimperium = {"partner": "zimperium"}
    adopt = "/api/connectors/zimperium/baseline"
    adopted = host.http("connector_baseline", "POST", adopt, route_params=zimperium)
    assert adopted.status_code == 200, adopted.get_body()
    graph.add_fault(Fault(kind="status", status=429, retry_after=179))
    answers = {
        "export": host.http("connectors_export", "GET", "/api/export"),
        "delete dry run": host.http(
            "connector_delete",
            "DELETE",
            "/api/connectors/blackberry",
            route_params={"partner": "blackberry"},
            params={"dryRun": "true"},
        ),
        "configure": host.http(
            "connector_configure",
            "PUT",
            "/api/connectors/zimperium",
            route_params={"partner": "zimperium"},
            body={"android": {"appProtectionEvaluation": True}},
        ),
        "restore": host.http(
            "connector_restore",
            "POST",
            "/api/connectors/zimperium/restore",
            route_params={"partner": "zimperium"},
            params={"dryRun": "false"},
        ),
    }
    seen = {name: (a.status_code, a.headers.get("Retry-After")) for name, a in answers.items()}
    assert seen == dict.fromkeys(answers, (503, "179"))

    graph.clear_faults()
    graph.add_fault(Fault(kind="status", status=503))  # Graph unavailable, no wait named
    export = host.http("connectors_export", "GET", "/api/export")
    assert (export.status_code, export.headers.get("Retry-After")) == (503, "30")


def _put_android_mam(host: Host, figures: Figures, request: pytest.FixtureRequest, partner: str) -> Any:
    """PUT /api/connectors/{partner} turning Android app protection evaluation on, timed."""
    return timed(
        figures,
        request,
        f"connector_configure {partner}",
        lambda: host.http(
            "connector_configure",
            "PUT",
            f"/api/connectors/{partner}",
            route_params={"partner": partner},
            body={"android": {"appProtectionEvaluation": True}},
        ),
    )


def _android_mam_on(graph: GraphSimulator) -> list[str]:
    return [c["id"] for c in graph.connectors() if c.get("androidMobileApplicationManagementEnabled")]


def _wait_for(condition: Callable[[], bool], seconds: float) -> None:
    give_up = time.monotonic() + seconds
    while not condition() and time.monotonic() < give_up:
        time.sleep(0.2)


def _table_endpoint(azurite: Azurite) -> str:
    parts = dict(p.split("=", 1) for p in azurite.connection_string.split(";") if "=" in p)
    return parts["TableEndpoint"]


def test_the_budgets_end_inside_the_hosts_limits_even_at_their_maximum() -> None:
    from pathlib import Path

    from shared import settings

    host = json.loads((Path(__file__).resolve().parents[2] / "host.json").read_text())
    hours, minutes, seconds = (int(p) for p in host["functionTimeout"].split(":"))
    function_timeout = hours * 3600 + minutes * 60 + seconds
    timer = settings.TIMER_BUDGET_SECONDS
    assert timer.read(timer.default or "") < function_timeout
    assert timer.problem(str(function_timeout)) is not None  # a budget as long as the host's is refused
    http = settings.HTTP_BUDGET_SECONDS
    assert http.problem("230") is not None  # Azure's front end gives up on a request after about 230 s
    assert http.read(http.default or "") < 230
