"""The request log and the /_sim control endpoints (the same operations over HTTP)."""

from __future__ import annotations

import httpx
import pytest

from graphsim import GraphSimulator, RecordedRequest

from .conftest import CONNECTORS, V1, ZIMPERIUM


def test_request_log_records_what_was_sent_and_answered(sim: GraphSimulator, http: httpx.Client) -> None:
    http.get(V1, params={"$top": "2"}, headers={"Client-Request-Id": "abc"})
    http.patch(f"/beta{CONNECTORS}/{ZIMPERIUM}", json={"macEnabled": True})
    http.get("/v1.0/nowhere")

    listed, patched, missing = sim.requests
    assert isinstance(listed, RecordedRequest)
    assert (listed.method, listed.version, listed.path) == ("GET", "v1.0", CONNECTORS)
    assert listed.query == {"$top": ["2"]}
    assert listed.headers["client-request-id"] == "abc"
    assert listed.status == 200
    assert listed.body == b""
    assert listed.json is None
    assert (patched.method, patched.version, patched.status) == ("PATCH", "beta", 204)
    assert patched.json == {"macEnabled": True}
    assert patched.body == b'{"macEnabled":true}'
    assert (missing.path, missing.status) == ("/nowhere", 404)
    with pytest.raises(AttributeError):
        listed.status = 500  # type: ignore[misc]  # frozen
    sim.clear_requests()
    assert sim.requests == []


def test_request_without_version_is_logged_with_none(sim: GraphSimulator, http: httpx.Client) -> None:
    http.get(CONNECTORS)
    (entry,) = sim.requests
    assert entry.version is None
    assert entry.path == CONNECTORS
    assert entry.status == 404


def test_control_endpoints_drive_the_simulator(sim: GraphSimulator, http: httpx.Client) -> None:
    http.get(V1)
    log = http.get("/_sim/requests")
    assert log.status_code == 200
    (entry,) = log.json()["value"]
    assert entry["method"] == "GET"
    assert entry["path"] == CONNECTORS
    assert entry["status"] == 200

    added = http.post("/_sim/faults", json={"kind": "status", "status": 429, "retryAfter": 0, "times": 1})
    assert added.status_code == 201
    assert added.json()["retryAfter"] == 0
    assert http.get(V1).status_code == 429
    http.post("/_sim/faults", json={"kind": "status", "status": 500})
    assert http.delete("/_sim/faults").status_code == 204
    assert http.get(V1).status_code == 200

    loaded = http.put("/_sim/scenario", json={"connectors": [{"id": "only"}]})
    assert loaded.status_code == 204
    assert [c["id"] for c in sim.connectors()] == ["only"]

    assert http.delete("/_sim/requests").status_code == 204
    assert sim.requests == []
    http.get("/_sim/requests")
    assert sim.requests == []  # control traffic is never recorded


@pytest.mark.parametrize(
    ("method", "path", "body", "status", "fragment"),
    [
        ("POST", "/_sim/faults", b'{"kind": "boom"}', 400, "kind"),
        ("POST", "/_sim/faults", b"{", 400, "JSON"),
        ("PUT", "/_sim/scenario", b'{"connectors": [{"id": "a", "x": 1}]}', 400, "unknown key 'x'"),
        ("PUT", "/_sim/scenario", b"[]", 400, "JSON object"),
        ("GET", "/_sim/faults", b"", 405, "GET"),
        ("GET", "/_sim/nothing", b"", 404, "/_sim/nothing"),
    ],
)
def test_control_errors(
    sim: GraphSimulator, http: httpx.Client, method: str, path: str, body: bytes, status: int, fragment: str
) -> None:
    before = sim.connectors()
    response = http.request(method, path, content=body)
    assert response.status_code == status
    assert fragment in response.json()["error"]["message"]
    assert sim.connectors() == before
