"""Injected faults, as an httpx client (what MTD Guard's own Graph client uses) sees them."""

from __future__ import annotations

import json
import threading
import time
from typing import Any

import httpx
import pytest
from pytest_mock import MockerFixture

from graphsim import Fault, FaultError, GraphSimulator

from .conftest import CONNECTORS, LOOKOUT, V1, client_for


def test_429_carries_retry_after_and_an_odata_body(sim: GraphSimulator, http: httpx.Client) -> None:
    sim.add_fault(Fault(kind="status", status=429, retry_after=1, times=1))
    throttled = http.get(V1)
    after = http.get(V1)

    assert throttled.status_code == 429
    assert throttled.headers["retry-after"] == "1"
    error = throttled.json()["error"]
    assert error["code"] == "TooManyRequests"
    assert error["innerError"]["request-id"] == throttled.headers["request-id"]
    assert after.status_code == 200  # times: 1 is spent


def test_503_without_retry_after_has_no_header_and_custom_code(
    sim: GraphSimulator, http: httpx.Client
) -> None:
    sim.add_fault(Fault(kind="status", status=503, code="serviceNotAvailable", message="try later", times=1))
    response = http.get(V1)
    assert response.status_code == 503
    assert "retry-after" not in response.headers
    assert response.json()["error"]["code"] == "serviceNotAvailable"
    assert response.json()["error"]["message"] == "try later"


def test_503_default_code(sim: GraphSimulator, http: httpx.Client) -> None:
    sim.add_fault(Fault(kind="status", status=503))
    assert http.get(V1).json()["error"]["code"] == "ServiceUnavailable"


def test_slow_delays_then_answers_normally(
    sim: GraphSimulator, http: httpx.Client, mocker: MockerFixture
) -> None:
    sim.add_fault(Fault(kind="slow", delay_seconds=0.3, times=1))
    waits = mocker.spy(sim._stopping, "wait")  # the simulator's delay (interruptible by stop())
    response = http.get(V1)
    assert [c.args for c in waits.call_args_list] == [(0.3,)]
    assert response.status_code == 200
    assert len(response.json()["value"]) == 3
    # times=1: the slow fault is spent, so the next request reaches the fault armed after it (the
    # first armed fault that matches wins), rather than being delayed again.
    sim.add_fault(Fault(kind="status", status=503))
    assert http.get(V1).status_code == 503


def test_slow_beyond_client_timeout_is_a_read_timeout(sim: GraphSimulator) -> None:
    sim.add_fault(Fault(kind="slow", delay_seconds=1, times=1))
    with client_for(sim) as http, pytest.raises(httpx.ReadTimeout):
        http.get(V1, timeout=0.2)


def test_malformed_is_200_with_invalid_json(sim: GraphSimulator, http: httpx.Client) -> None:
    sim.add_fault(Fault(kind="malformed", times=1))
    response = http.get(V1)
    assert response.status_code == 200
    assert response.headers["content-type"].startswith("application/json")
    with pytest.raises(json.JSONDecodeError):
        response.json()


def test_drop_closes_without_a_response(sim: GraphSimulator, http: httpx.Client) -> None:
    sim.add_fault(Fault(kind="drop", times=1))
    with pytest.raises(httpx.RemoteProtocolError):
        http.get(V1)
    assert sim.requests[-1].status is None
    assert http.get(V1).status_code == 200  # the server itself survives


def test_times_exhaust_and_null_means_forever(sim: GraphSimulator, http: httpx.Client) -> None:
    sim.add_fault(Fault(kind="status", status=500, times=2))
    assert [http.get(V1).status_code for _ in range(3)] == [500, 500, 200]
    sim.add_fault(Fault(kind="status", status=502))
    assert [http.get(V1).status_code for _ in range(4)] == [502] * 4
    sim.clear_faults()
    assert http.get(V1).status_code == 200


def test_method_and_path_prefix_select_requests(sim: GraphSimulator, http: httpx.Client) -> None:
    sim.add_fault(Fault(kind="status", status=500, method="patch", path=CONNECTORS))
    sim.add_fault(Fault(kind="status", status=504, path=f"{CONNECTORS}/{LOOKOUT}"))
    assert http.get(V1).status_code == 200  # GET of the list: neither matches
    assert http.patch(f"{V1}/{LOOKOUT}", json={}).status_code == 500  # first match wins
    assert http.get(f"/beta{CONNECTORS}/{LOOKOUT}").status_code == 504  # any version


def test_faults_hit_each_request_once_under_concurrency(sim: GraphSimulator) -> None:
    sim.add_fault(Fault(kind="status", status=429, retry_after=0, times=5))
    statuses: list[int] = []

    with client_for(sim) as http:  # httpx clients are thread-safe; one pool, 12 connections

        def fetch() -> None:
            statuses.append(http.get(V1).status_code)

        threads = [threading.Thread(target=fetch) for _ in range(12)]
        for thread in threads:
            thread.start()
        for thread in threads:
            thread.join()
    assert sorted(statuses) == [200] * 7 + [429] * 5


def test_stop_interrupts_a_slow_fault() -> None:
    # An hour-long delay: were stop() to wait it out, pytest-timeout (120 s) would fail the test.
    sim = GraphSimulator(scenario={"faults": [{"kind": "slow", "delaySeconds": 3600, "times": 1}]}).start()
    outcomes: list[object] = []

    def call() -> None:
        try:
            outcomes.append(httpx.get(sim.base_url + V1, timeout=None).status_code)
        except httpx.HTTPError as exc:
            outcomes.append(type(exc))

    clients = [threading.Thread(target=call) for _ in range(2)]
    for client in clients:
        client.start()
    # The fault has one hit: once one request is answered (the request log shows it), the other
    # has taken the fault, i.e. it is held by the delay; stop() must cut that short.
    for _ in range(6000):  # bounded: at most about a minute
        if sim.requests:
            break
        time.sleep(0.01)
    assert [r.status for r in sim.requests] == [200]
    sim.stop()
    for client in clients:
        client.join()
    # The held client waits without a timeout: it has an outcome only because the delay was cut short.
    assert len(outcomes) == 2


@pytest.mark.parametrize(
    ("data", "fragment"),
    [
        ({"kind": "explode"}, "kind"),
        ({"kind": "status"}, "status"),
        ({"kind": "status", "status": 200}, "status"),
        ({"kind": "status", "status": 429, "retryAfter": 1.5}, "retryAfter"),
        ({"kind": "drop", "times": 0}, "times"),
        ({"kind": "slow", "delaySeconds": -1}, "delaySeconds"),
        ({"kind": "drop", "path": "deviceManagement"}, "path"),
        ({"kind": "drop", "retry_after": 1}, "retry_after"),
        ({"status": 429}, "kind"),
    ],
)
def test_invalid_faults_are_rejected_by_name(data: dict[str, Any], fragment: str) -> None:
    with pytest.raises(FaultError, match=fragment):
        Fault.from_json(data)


def test_fault_json_round_trips() -> None:
    data = {
        "method": "GET",
        "path": CONNECTORS,
        "kind": "status",
        "status": 429,
        "retryAfter": 1,
        "code": "TooManyRequests",
        "message": "slow down",
        "delaySeconds": 0.0,
        "times": 3,
    }
    assert Fault.from_json(data).to_json() == data
