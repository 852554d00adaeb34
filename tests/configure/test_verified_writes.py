"""Verified writes: after every configure write the connector is read again and compared with what
was asked and with the settings the request did not touch, on a simulator whose PATCH merges or
replaces (unconfirmed which one Graph does) and which can keep a value whatever it is sent."""

from __future__ import annotations

from typing import Any

import pytest

from graphsim import GraphSimulator
from tests.configure.test_configure_api import ITEM, audit, put, seed, writes
from tests.conftest import LOOKOUT, Host, body
from tests.support.scenarios import connector

LOOKOUT_ON = connector(
    LOOKOUT,
    "now-1h",
    androidEnabled=True,
    iosEnabled=True,
    androidDeviceBlockedOnMissingPartnerData=True,
    windowsEnabled=True,
    windowsDeviceBlockedOnMissingPartnerData=True,
)


def alerts(host: Host) -> list[dict[str, Any]]:
    response = host.http("alerts_list", "GET", "/api/alerts")
    assert response.status_code == 200, response.get_body()
    found: list[dict[str, Any]] = body(response)["alerts"]
    return found


@pytest.mark.parametrize("mode", ["merge", "replace"])
def test_a_patch_changes_one_setting_and_leaves_the_others_as_they_were_under_both_patch_behaviours(
    host: Host, graph: GraphSimulator, tenant_id: str, mode: str
) -> None:
    seed(graph, tenant_id, LOOKOUT_ON)
    graph.patch_mode = mode
    response = put(host, "lookout", {"appSync": True})
    assert response.status_code == 200, response.get_body()
    held = graph.connector(LOOKOUT)
    assert held is not None
    assert held["allowPartnerToCollectIOSApplicationMetadata"] is True
    # the untouched settings hold what they held before, whichever way PATCH works
    assert held["androidEnabled"] is True and held["iosEnabled"] is True
    assert held["androidDeviceBlockedOnMissingPartnerData"] is True
    result = body(response)
    assert result["after"]["ios"]["complianceEvaluation"] is True
    assert result["after"]["android"]["complianceEvaluation"] is True
    first = writes(graph)[0]
    assert first == ("PATCH", ITEM.format(LOOKOUT), {"allowPartnerToCollectIOSApplicationMetadata": True})
    if mode == "merge":
        assert len(writes(graph)) == 1 and result["notes"] == []
        assert audit(host)["entries"][0]["result"] == "applied"
    else:  # the reset was seen and repaired with one more PATCH carrying every setting
        assert len(writes(graph)) == 2
        assert writes(graph)[1][2]["iosEnabled"] is True
        assert any("replaced rather than merged" in n for n in result["notes"])


def test_a_value_intune_keeps_is_reported_partial_and_never_patched_again(
    host: Host, graph: GraphSimulator, tenant_id: str
) -> None:
    seed(graph, tenant_id, connector(LOOKOUT, "now-1h", windowsDeviceBlockedOnMissingPartnerData=True))
    graph.server_keeps = {"windowsDeviceBlockedOnMissingPartnerData": True}
    asked = {"windows": {"complianceEvaluation": True, "blockOnMissingPartnerData": False}}
    response = put(host, "lookout", asked, headers={"X-Ticket-Reference": "CHG1"})
    assert response.status_code == 200, response.get_body()
    result = body(response)
    assert result["applied"] is True
    assert result["after"]["windows"] == {"complianceEvaluation": True, "blockOnMissingPartnerData": True}
    [note] = result["notes"]
    assert note.startswith(
        "Intune did not keep Mark Windows devices noncompliant until partner data arrives "
        "(/windows/blockOnMissingPartnerData): asked Off, it holds On"
    )
    entry = audit(host)["entries"][0]
    assert entry["result"] == "partial" and "did not keep" in entry["detail"]

    graph.clear_requests()
    again = put(host, "lookout", asked, headers={"X-Ticket-Reference": "CHG1"})
    assert again.status_code == 200, again.get_body()
    assert writes(graph) == []  # the refused value is not sent again
    repeat = body(again)
    assert repeat["applied"] is False
    assert any(n.startswith("not sent again: Intune did not keep") for n in repeat["notes"])
    # Intune still holds the opposite of what was asked: partial, never "unchanged"
    assert repeat["result"] == "partial"
    entry = audit(host)["entries"][0]
    assert entry["result"] == "partial" and "already as desired" not in entry["detail"]


def test_settings_outside_the_request_that_intune_changed_are_said_and_alerted(
    host: Host, graph: GraphSimulator, tenant_id: str
) -> None:
    # a service that turns the iOS block off whatever it is sent, and resets what a PATCH omits
    seed(graph, tenant_id, LOOKOUT_ON)
    graph.patch_mode = "replace"
    graph.server_keeps = {"androidDeviceBlockedOnMissingPartnerData": False}
    response = put(host, "lookout", {"appSync": True})
    assert response.status_code == 200, response.get_body()
    result = body(response)
    assert any(
        "Intune also changed Mark Android devices noncompliant until partner data arrives" in n
        and "On -> Off" in n
        for n in result["notes"]
    )
    assert audit(host)["entries"][0]["result"] == "partial"
    [alert] = [a for a in alerts(host) if a["kind"] == "connectorDrift"]
    assert alert["severity"] == "high"
    assert alert["sideEffects"][0]["property"] == "androidDeviceBlockedOnMissingPartnerData"


def test_a_configure_write_sets_the_baseline_to_what_intune_kept(
    host: Host, graph: GraphSimulator, tenant_id: str
) -> None:
    seed(graph, tenant_id, LOOKOUT_ON)
    response = put(host, "lookout", {"unresponsiveThresholdDays": 14}, headers={"X-Ticket-Reference": "CHG7"})
    assert response.status_code == 200, response.get_body()
    assert host.http("checks_run", "POST", "/api/checks/heartbeat").status_code == 200
    detail = host.http("connector_get", "GET", "/api/connectors/lookout", route_params={"partner": "lookout"})
    assert detail.status_code == 200, detail.get_body()
    found = body(detail)
    assert found["baseline"]["source"] == "configured" and found["baseline"]["ticket"] == "CHG7"
    assert found["baseline"]["settings"]["unresponsiveThresholdDays"] == 14
    assert found["baseline"]["settings"]["ios"]["complianceEvaluation"] is True
    assert found["settings"] == found["baseline"]["settings"] and found["drift"] == []
