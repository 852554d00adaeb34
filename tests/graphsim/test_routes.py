"""Graph's REST behaviour as seen by a plain HTTP client: headers, paging, versions,
writes and the OData error bodies."""

from __future__ import annotations

import re
import uuid
from collections.abc import Iterator
from contextlib import contextmanager
from typing import Any

import httpx
import pytest

from graphsim import GraphSimulator
from graphsim.odata import GRAPH_CONTENT_TYPE

from .conftest import BETA, LOOKOUT, V1, ZIMPERIUM, client_for, scenario

V1_PROPERTIES = {
    "id",
    "lastHeartbeatDateTime",
    "partnerState",
    "partnerUnresponsivenessThresholdInDays",
    "androidEnabled",
    "iosEnabled",
    "windowsEnabled",
    "androidDeviceBlockedOnMissingPartnerData",
    "iosDeviceBlockedOnMissingPartnerData",
    "windowsDeviceBlockedOnMissingPartnerData",
    "androidMobileApplicationManagementEnabled",
    "iosMobileApplicationManagementEnabled",
    "partnerUnsupportedOsVersionBlocked",
    "allowPartnerToCollectIOSApplicationMetadata",
    "allowPartnerToCollectIOSPersonalApplicationMetadata",
    "microsoftDefenderForEndpointAttachEnabled",
}
BETA_ONLY = {
    "macEnabled",
    "macDeviceBlockedOnMissingPartnerData",
    "windowsMobileApplicationManagementEnabled",
}


@contextmanager
def serving(*connectors: dict[str, Any], **kwargs: Any) -> Iterator[httpx.Client]:
    """A simulator holding just ``connectors`` and a client bound to it."""
    with (
        GraphSimulator(scenario=scenario(*connectors), **kwargs) as sim,
        client_for(sim) as client,
    ):
        yield client


def error_of(response: httpx.Response) -> dict[str, Any]:
    body = response.json()
    assert set(body) == {"error"}
    error: dict[str, Any] = body["error"]
    assert set(error["innerError"]) == {"date", "request-id", "client-request-id"}
    assert error["innerError"]["request-id"] == response.headers["request-id"]
    return error


def all_pages(client: httpx.Client, url: str) -> tuple[list[dict[str, Any]], list[str]]:
    items: list[dict[str, Any]] = []
    links: list[str] = []
    next_url: str | None = url
    while next_url:
        body = client.get(next_url).raise_for_status().json()
        items += body["value"]
        next_url = body.get("@odata.nextLink")
        if next_url:
            links.append(next_url)
    return items, links


# -- headers and envelope ------------------------------------------------------------
def test_headers_are_graphs(http: httpx.Client) -> None:
    mine = str(uuid.uuid4())
    echoed = http.get(V1, headers={"client-request-id": mine})
    fresh = http.get(V1)

    assert echoed.headers["content-type"] == GRAPH_CONTENT_TYPE
    assert echoed.headers["client-request-id"] == mine
    assert uuid.UUID(echoed.headers["request-id"])
    assert echoed.headers["request-id"] != fresh.headers["request-id"]
    assert fresh.headers["client-request-id"] == fresh.headers["request-id"]
    assert re.fullmatch(r"\w{3}, \d\d \w{3} \d{4} \d\d:\d\d:\d\d GMT", echoed.headers["date"])
    assert "server" not in echoed.headers


def test_list_envelope_has_no_odata_context(http: httpx.Client) -> None:
    body = http.get(V1).json()
    assert "@odata.context" not in body
    assert list(body) == ["@odata.nextLink", "value"]  # control information first


# -- paging --------------------------------------------------------------------------
def test_pages_follow_absolute_next_links_to_the_end(sim: GraphSimulator, http: httpx.Client) -> None:
    items, links = all_pages(http, V1)

    assert [c["id"] for c in items] == [c["id"] for c in sim.connectors()]
    assert len(links) == 2  # 7 connectors in pages of 3
    assert all(link.startswith(sim.base_url + V1 + "?$skiptoken=") for link in links)


def test_top_makes_smaller_pages_and_is_kept_in_next_link(http: httpx.Client) -> None:
    first = http.get(V1, params={"$top": "2"}).json()
    assert len(first["value"]) == 2
    assert "$top=2" in first["@odata.nextLink"]
    items, links = all_pages(http, V1 + "?$top=2")
    assert len(items) == 7
    assert len(links) == 3


def test_top_larger_than_page_size_still_pages(http: httpx.Client) -> None:
    body = http.get(V1, params={"$top": "50"}).json()
    assert len(body["value"]) == 3
    assert "@odata.nextLink" in body


def test_page_size_precedence_and_default() -> None:
    many = [{"id": f"id-{n:03}"} for n in range(101)]
    with serving(*many) as http:
        assert len(http.get(V1).json()["value"]) == 100  # default
    with GraphSimulator(scenario={"pageSize": 2, "connectors": many[:5]}, page_size=4) as sim:
        assert len(httpx.get(sim.base_url + V1).json()["value"]) == 4  # constructor wins
    with serving(*many[:5]) as http:
        body = http.get(V1).json()
        assert len(body["value"]) == 5
        assert "@odata.nextLink" not in body  # last page carries no nextLink


@pytest.mark.parametrize(
    ("query", "fragment"),
    [
        ({"$skiptoken": "garbage!"}, "$skiptoken"),
        ({"$top": "0"}, "$top"),
        ({"$top": "two"}, "$top"),
        ({"$filter": "partnerState eq 'enabled'"}, "$filter"),
    ],
)
def test_bad_query_options_are_400(http: httpx.Client, query: dict[str, str], fragment: str) -> None:
    response = http.get(V1, params=query)
    assert response.status_code == 400
    error = error_of(response)
    assert error["code"] == "BadRequest"
    assert fragment in error["message"]


def test_select_returns_only_the_named_properties(http: httpx.Client) -> None:
    body = http.get(V1, params={"$select": "id,partnerState"}).json()
    assert all(set(c) == {"id", "partnerState"} for c in body["value"])
    assert "$select=id,partnerState" in body["@odata.nextLink"]
    bad = http.get(V1, params={"$select": "macEnabled"})  # beta-only
    assert bad.status_code == 400
    assert "macEnabled" in error_of(bad)["message"]


# -- versions ------------------------------------------------------------------------
def test_each_version_returns_exactly_its_properties(http: httpx.Client) -> None:
    v1 = http.get(f"{V1}/{LOOKOUT}").json()
    beta = http.get(f"{BETA}/{LOOKOUT}").json()
    assert set(v1) == V1_PROPERTIES
    assert set(beta) == V1_PROPERTIES | BETA_ONLY
    assert beta["macEnabled"] is False


def test_a_beta_only_state_is_unknown_future_value_on_v1() -> None:
    with serving({"id": "c1", "partnerState": "neverConfigured"}) as http:
        assert http.get(f"{V1}/c1").json()["partnerState"] == "unknownFutureValue"
        assert http.get(f"{BETA}/c1").json()["partnerState"] == "neverConfigured"


@pytest.mark.parametrize("state", ["notSetUp", "error"])
def test_states_the_v1_reference_now_lists_are_served_by_name_on_both(state: str) -> None:
    with serving({"id": "c1", "partnerState": state}) as http:
        assert http.get(f"{V1}/c1").json()["partnerState"] == state
        assert http.get(f"{BETA}/c1").json()["partnerState"] == state


def test_raw_scenario_values_pass_through_untouched() -> None:
    raw = {
        "id": "weird",
        "lastHeartbeatDateTime": "not-a-date",
        "partnerState": "bogusState",
        "partnerUnresponsivenessThresholdInDays": None,
        "iosEnabled": "yes",
    }
    zero = {"id": "zero", "partnerUnresponsivenessThresholdInDays": 0}
    with serving(raw, zero) as http:
        for version in (V1, BETA):
            got = http.get(f"{version}/weird").json()
            assert {k: got[k] for k in raw} == raw
        assert http.get(f"{V1}/zero").json()["partnerUnresponsivenessThresholdInDays"] == 0


def test_defaults_fill_every_omitted_property() -> None:
    with serving({"id": "bare"}) as http:
        got = http.get(f"{BETA}/bare").json()
    assert got["lastHeartbeatDateTime"] is None
    assert got["partnerUnresponsivenessThresholdInDays"] == 7
    assert got["partnerState"] == "notSetUp"
    flags = set(got) - {
        "id",
        "lastHeartbeatDateTime",
        "partnerState",
        "partnerUnresponsivenessThresholdInDays",
    }
    assert flags and all(got[f] is False for f in flags)


# -- writes --------------------------------------------------------------------------
def test_post_creates_full_entity_with_defaults(sim: GraphSimulator, http: httpx.Client) -> None:
    new_id = "29ee2d98-e795-475f-a0f8-0802dc3384a9"
    response = http.post(V1, json={"id": new_id, "androidEnabled": True})

    assert response.status_code == 201
    body = response.json()
    assert set(body) == V1_PROPERTIES
    assert body["androidEnabled"] is True
    assert body["iosEnabled"] is False
    assert body["partnerUnresponsivenessThresholdInDays"] == 7
    assert body["lastHeartbeatDateTime"] is None
    assert body["partnerState"] == "notSetUp"  # named by v1.0's current reference
    assert sim.connector(new_id) == {**http.get(f"{BETA}/{new_id}").json()}


def test_post_without_id_gets_a_generated_one(http: httpx.Client) -> None:
    body = http.post(BETA, json={"macEnabled": True}).json()
    assert uuid.UUID(body["id"])
    assert http.get(f"{BETA}/{body['id']}").json()["macEnabled"] is True


def test_post_of_an_existing_id_is_409(sim: GraphSimulator, http: httpx.Client) -> None:
    response = http.post(V1, json={"id": LOOKOUT.upper(), "iosEnabled": False})
    assert response.status_code == 409
    assert error_of(response)["code"] == "Conflict"
    stored = sim.connector(LOOKOUT)
    assert stored is not None
    assert stored["iosEnabled"] is True  # untouched


@pytest.mark.parametrize("method", ["POST", "PATCH"])
@pytest.mark.parametrize(
    ("payload", "named"),
    [
        (b'{"iosEnabled": tru', "JSON"),
        (b"", "JSON"),
        (b'{"iosEnabeld": true}', "'iosEnabeld'"),
        (b'{"macEnabled": true}', "'macEnabled'"),  # beta-only, sent to v1.0
        (b'{"iosEnabled": "yes"}', "Edm.Boolean"),
        (b'{"partnerState": "neverConfigured"}', "neverConfigured"),  # not a v1.0 member
        (b'{"iosEnabled": null}', "iosEnabled"),
        (b'{"lastHeartbeatDateTime": "yesterday"}', "Edm.DateTimeOffset"),
        (b"[]", "JSON object"),
    ],
)
def test_bad_writes_are_400_naming_the_problem(
    sim: GraphSimulator, http: httpx.Client, method: str, payload: bytes, named: str
) -> None:
    url = V1 if method == "POST" else f"{V1}/{ZIMPERIUM}"
    before = sim.connectors()
    response = http.request(method, url, content=payload, headers={"content-type": "application/json"})
    assert response.status_code == 400
    error = error_of(response)
    assert error["code"] == "BadRequest"
    assert named in error["message"]
    assert sim.connectors() == before


def test_beta_accepts_its_own_properties(sim: GraphSimulator, http: httpx.Client) -> None:
    response = http.patch(f"{BETA}/{ZIMPERIUM}", json={"macEnabled": True, "partnerState": "error"})
    assert response.status_code == 204
    stored = sim.connector(ZIMPERIUM)
    assert stored is not None
    assert (stored["macEnabled"], stored["partnerState"]) == (True, "error")


def test_patch_merges_and_answers_204_without_body(sim: GraphSimulator, http: httpx.Client) -> None:
    response = http.patch(
        f"{V1}/{ZIMPERIUM}",
        json={"iosEnabled": True, "lastHeartbeatDateTime": "2026-01-02T03:04:05+01:00"},
    )
    assert response.status_code == 204
    assert response.content == b""
    assert "content-type" not in response.headers
    stored = sim.connector(ZIMPERIUM)
    assert stored is not None
    assert stored["iosEnabled"] is True
    assert stored["androidEnabled"] is True  # kept
    assert stored["lastHeartbeatDateTime"] == "2026-01-02T02:04:05.0000000Z"  # Graph's form


def test_patch_returns_body_option() -> None:
    with serving({"id": "c1"}, patch_returns_body=True) as http:
        response = http.patch(f"{V1}/c1", json={"windowsEnabled": True})
    assert response.status_code == 200
    assert response.json()["windowsEnabled"] is True
    assert set(response.json()) == V1_PROPERTIES


def test_patch_unknown_id_and_mismatched_id(http: httpx.Client) -> None:
    missing = http.patch(f"{V1}/nope", json={"iosEnabled": True})
    assert missing.status_code == 404
    assert error_of(missing)["code"] == "ResourceNotFound"
    mismatch = http.patch(f"{V1}/{ZIMPERIUM}", json={"id": LOOKOUT})
    assert mismatch.status_code == 400


def test_delete_then_get_is_404(sim: GraphSimulator, http: httpx.Client) -> None:
    response = http.delete(f"{V1}/{LOOKOUT}")
    assert response.status_code == 204
    assert response.content == b""
    assert sim.connector(LOOKOUT) is None
    gone = http.get(f"{V1}/{LOOKOUT}")
    assert gone.status_code == 404
    error = error_of(gone)
    assert error["code"] == "ResourceNotFound"
    assert LOOKOUT in error["message"]
    assert http.delete(f"{V1}/{LOOKOUT}").status_code == 404


def test_ids_and_paths_match_case_insensitively(http: httpx.Client) -> None:
    url = f"/v1.0/devicemanagement/MOBILETHREATDEFENSECONNECTORS/{LOOKOUT.upper()}"
    response = http.get(url)
    assert response.status_code == 200
    assert response.json()["id"] == LOOKOUT


# -- routing errors ------------------------------------------------------------------
@pytest.mark.parametrize(
    ("method", "path", "allow"),
    [
        ("PUT", V1, "GET, POST"),
        ("DELETE", BETA, "GET, POST"),
        ("POST", f"{V1}/{LOOKOUT}", "DELETE, GET, PATCH"),
    ],
)
def test_unsupported_methods_are_405(http: httpx.Client, method: str, path: str, allow: str) -> None:
    response = http.request(method, path)
    assert response.status_code == 405
    assert response.headers["allow"] == allow
    assert error_of(response)["code"] == "MethodNotAllowed"


@pytest.mark.parametrize(
    ("path", "segment"),
    [
        ("/v1.0/deviceManagement/compliancePolicies", "compliancePolicies"),
        ("/v1.0/users", "users"),
        ("/v2.0/deviceManagement/mobileThreatDefenseConnectors", "/v2.0/"),
        (f"/v1.0{V1}/x/y", "v1.0"),
        ("/v1.0//deviceManagement/mobileThreatDefenseConnectors", "//deviceManagement"),
    ],
)
def test_unknown_paths_are_404(http: httpx.Client, path: str, segment: str) -> None:
    response = http.get(path)
    assert response.status_code == 404
    assert segment in error_of(response)["message"]


def test_chunked_upload_is_411_and_closes(http: httpx.Client) -> None:
    response = http.post(V1, content=iter([b'{"id": "x"}']))  # a generator: chunked
    assert response.status_code == 411
    assert response.headers["connection"] == "close"
    assert error_of(response)["code"] == "LengthRequired"
    assert http.get(f"{V1}/x").status_code == 404  # nothing was created
