"""Bad input is a 4xx, never a 500 or a 503 (issue 11): bodies nested too deep, bodies too large,
extreme dates, and valid or invalid input whose record would not fit a Table Storage property.

A ticketing system retries a 5xx forever; each case here once answered 500 or 503. Through the
real functions, Azurite and the Graph simulator.
"""

from __future__ import annotations

import json
from typing import Any

import pytest

from graphsim import GraphSimulator
from tests.conftest import LOOKOUT, Host, body
from tests.support.scenarios import load

# Every route that reads a JSON body: (function, method, path, route parameters).
BODY_ROUTES = [
    ("connector_configure", "PUT", "/api/connectors/lookout", {"partner": "lookout"}),
    ("classic_baseline_import", "PUT", "/api/ca/classic-baseline", {}),
    ("planned_removal_create", "POST", "/api/ca/planned-removals", {}),
    ("finding_acknowledge", "POST", "/api/findings/heartbeat.x/ack", {"id": "heartbeat.x"}),
    ("hook_receive", "POST", "/api/hooks/generic", {"source": "generic"}),
    ("hook_receive", "POST", "/api/hooks/servicenow", {"source": "servicenow"}),
    ("hook_receive", "POST", "/api/hooks/jira", {"source": "jira"}),
]


def problem(response: Any, status: int) -> dict[str, Any]:
    assert response.status_code == status, response.get_body()[:500]
    assert response.mimetype == "application/problem+json"
    found: dict[str, Any] = body(response)
    return found


@pytest.mark.parametrize(("name", "method", "path", "route"), BODY_ROUTES)
@pytest.mark.parametrize("nested", [b"[" * 100_000 + b"]" * 100_000, b'{"a":' * 60 + b"1" + b"}" * 60])
def test_a_body_nested_too_deep_is_400_before_any_work(
    host: Host, graph: GraphSimulator, name: str, method: str, path: str, route: dict[str, str], nested: bytes
) -> None:
    found = problem(host.http(name, method, path, route_params=route, body=nested), 400)
    assert "nested" in found["errors"][0]["detail"]
    assert graph.requests == []


@pytest.mark.parametrize(("name", "method", "path", "route"), BODY_ROUTES)
def test_a_body_too_large_is_413(
    host: Host, name: str, method: str, path: str, route: dict[str, str]
) -> None:
    big = json.dumps({"padding": "x" * 1_100_000}).encode()
    assert (
        problem(host.http(name, method, path, route_params=route, body=big), 413)["title"] == "Body too large"
    )


@pytest.mark.parametrize(
    "moment",
    ["9999-12-31T23:59:59-14:00", "0001-01-01T00:00:00+14:00", "9999-12-31T23:59:59.999999-00:01"],
)
@pytest.mark.parametrize(
    ("name", "path", "parameter"),
    [
        ("alerts_list", "/api/alerts", "since"),
        ("audit_list", "/api/audit", "since"),
        ("audit_list", "/api/audit", "until"),
    ],
)
def test_an_extreme_date_is_400(host: Host, name: str, path: str, parameter: str, moment: str) -> None:
    found = problem(host.http(name, "GET", path, params={parameter: moment}), 400)
    assert found["errors"][0]["parameter"] == parameter


def test_300_unknown_fields_are_refused_with_400_and_audited(
    host: Host, graph: GraphSimulator, tenant_id: str
) -> None:
    load(graph, tenant_id, {"id": LOOKOUT})
    graph.clear_requests()
    settings = {f"unknownSettingNumber{i:03d}": True for i in range(300)}
    refused = host.http(
        "connector_configure",
        "PUT",
        "/api/connectors/lookout",
        route_params={"partner": "lookout"},
        body=settings,
    )
    assert len(problem(refused, 400)["errors"]) == 300  # the answer names every one
    entries = body(host.http("audit_list", "GET", "/api/audit"))["entries"]
    assert [(e["result"], e["status"]) for e in entries] == [("refused", 400)]
    assert len(entries[0]["detail"].encode("utf-16-le")) < 64 * 1024
    assert [r.method for r in graph.requests if r.method != "GET"] == []


def test_a_valid_import_of_500_policies_with_long_names_is_accepted(host: Host) -> None:
    inventory = {
        "policies": [
            {"displayName": f"{i:03d} " + "Classic MTD policy for the whole company " * 6, "state": "enabled"}
            for i in range(500)
        ]
    }
    response = host.http("classic_baseline_import", "PUT", "/api/ca/classic-baseline", body=inventory)
    assert response.status_code == 200, response.get_body()[:500]
    assert len(body(response)["policies"]) == 500
    stored = body(host.http("classic_baseline_get", "GET", "/api/ca/classic-baseline"))
    assert len(stored["policies"]) == 500


@pytest.mark.parametrize("moment", ["9999-12-31T23:59:59Z", "0001-01-01T00:00:00Z"])
def test_the_first_and_last_utc_times_are_answered(host: Host, moment: str) -> None:
    for name, path in (("alerts_list", "/api/alerts"), ("audit_list", "/api/audit")):
        assert host.http(name, "GET", path, params={"since": moment}).status_code == 200
    assert host.http("audit_list", "GET", "/api/audit", params={"until": moment}).status_code == 200
