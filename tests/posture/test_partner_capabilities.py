"""Partner capabilities (issue 13): Microsoft's list of app protection partners and the beta
connector's partnerSupports*Mam / partnerMinimumSupported*Version fields, used when a tenant sends
them and tolerated when it does not; configure refuses what a partner says it does not support,
warns about what is not confirmed, and names the minimum OS version. Through the real functions."""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

import pytest

from graphsim import GraphSimulator
from shared import catalog
from shared.graph.connectors import reading_from_graph
from tests.configure.test_configure_api import put, seed, writes
from tests.conftest import DEFENDER, LOOKOUT, Host, body

CROWDSTRIKE = "29ee2d98-e795-475f-a0f8-0802dc3384a9"


@pytest.fixture
def beta(env: Callable[..., None]) -> None:
    env(GRAPH_API_VERSION="beta")


def test_microsofts_app_protection_list_is_android_and_ios_and_says_unconfirmed_elsewhere() -> None:
    lookout, crowdstrike = catalog.by_id(LOOKOUT), catalog.by_id(CROWDSTRIKE)
    assert catalog.partner_supports_mam(lookout, "ios", {}) is True
    assert catalog.partner_supports_mam(lookout, "windows", {}) is None  # not confirmed either way
    assert catalog.partner_supports_mam(crowdstrike, "android", {}) is None  # not listed: unconfirmed
    # the connector's own word wins, both ways
    assert catalog.partner_supports_mam(crowdstrike, "android", {"partnerSupportsAndroidMam": True}) is True
    assert catalog.partner_supports_mam(lookout, "ios", {"partnerSupportsIosMam": False}) is False
    assert (
        catalog.partner_supports_mam(lookout, "ios", {"partnerSupportsIosMam": "yes"}) is True
    )  # odd: ignored


def test_the_connector_read_model_keeps_partner_facts_when_present_and_tolerates_absence() -> None:
    absent = reading_from_graph({"id": LOOKOUT})
    odd = reading_from_graph(
        {"id": LOOKOUT, "partnerSupportsIosMam": "true", "partnerMinimumSupportedIosVersion": 16}
    )
    sent = reading_from_graph(
        {"id": LOOKOUT, "partnerSupportsIosMam": True, "partnerMinimumSupportedIosVersion": " 16.0 "}
    )
    assert absent.partner_facts == {} and odd.partner_facts == {}
    assert sent.partner_facts == {"partnerMinimumSupportedIosVersion": "16.0", "partnerSupportsIosMam": True}


def test_configure_refuses_app_protection_the_connector_says_it_does_not_support(
    host: Host, graph: GraphSimulator, tenant_id: str, beta: None
) -> None:
    seed(graph, tenant_id, {"id": LOOKOUT, "partnerState": "enabled", "partnerSupportsIosMam": False})
    response = put(host, "lookout", {"ios": {"appProtectionEvaluation": True}})
    assert response.status_code == 422, response.get_body()
    problem = body(response)
    assert problem["refusals"][0]["pointer"] == "/ios/appProtectionEvaluation"
    assert "partnerSupportsIosMam = false" in problem["detail"]
    assert writes(graph) == []


def test_configure_warns_about_unconfirmed_app_protection_and_names_the_minimum_os_version(
    host: Host, graph: GraphSimulator, tenant_id: str, beta: None
) -> None:
    seed(
        graph,
        tenant_id,
        {"id": CROWDSTRIKE, "partnerState": "enabled", "partnerMinimumSupportedAndroidVersion": "10.0"},
    )
    response = put(
        host, "crowdstrike", {"android": {"complianceEvaluation": True, "appProtectionEvaluation": True}}
    )
    assert response.status_code == 200, response.get_body()
    notes = body(response)["notes"]
    assert (
        "/android/complianceEvaluation: CrowdStrike Falcon for Mobile supports android 10.0 and later."
        in notes
    )
    assert any(
        n.startswith(
            "/android/appProtectionEvaluation: app protection evaluation by CrowdStrike Falcon for Mobile"
        )
        and "not confirmed" in n
        for n in notes
    )
    # a partner Microsoft lists for app protection: no warning, nothing invented when no version is sent
    seed(graph, tenant_id, {"id": DEFENDER, "partnerState": "enabled"})
    quiet = put(host, "defender", {"ios": {"complianceEvaluation": True, "appProtectionEvaluation": True}})
    assert quiet.status_code == 200 and body(quiet)["notes"] == []


def test_posture_shows_the_minimum_os_version_when_the_connector_sends_it(
    host: Host, graph: GraphSimulator, tenant_id: str, beta: None
) -> None:
    connector: dict[str, Any] = {
        "id": LOOKOUT,
        "partnerState": "enabled",
        "lastHeartbeatDateTime": "now-1h",
        "iosEnabled": True,
        "partnerMinimumSupportedIosVersion": "16.0",
    }
    graph.load_scenario({"tenantId": tenant_id, "connectors": [connector]})
    assert host.http("checks_ca_drift", "POST", "/api/checks/ca-drift").status_code == 200
    platforms = {p["platform"]: p for p in body(host.http("posture_get", "GET", "/api/posture"))["platforms"]}
    assert platforms["iOS"]["connectors"][0]["minimumOsVersion"] == "16.0"
    assert platforms["iOS"]["connectors"][0]["health"] is None  # no heartbeat check yet: not invented
