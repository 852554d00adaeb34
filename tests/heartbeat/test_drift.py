"""Connector configuration drift, found by the heartbeat sweep: functions called as the host calls
them, real Azurite, the Graph simulator changed between sweeps as an admin would in the admin center."""

from __future__ import annotations

from typing import Any

import pytest

from graphsim import GraphSimulator
from tests.conftest import LOOKOUT, ZIMPERIUM, Host, body
from tests.heartbeat.test_sweep import sweep
from tests.support.scenarios import connector, load

ENFORCING = {
    "androidEnabled": True,
    "iosEnabled": True,
    "androidDeviceBlockedOnMissingPartnerData": True,
    "iosDeviceBlockedOnMissingPartnerData": True,
    "partnerUnsupportedOsVersionBlocked": True,
    "allowPartnerToCollectIOSApplicationMetadata": False,
}


def lookout(
    heartbeat: str = "now-1h", threshold: int = 7, state: str = "enabled", **settings: Any
) -> dict[str, Any]:
    return connector(LOOKOUT, heartbeat, state=state, threshold=threshold, **{**ENFORCING, **settings})


def drift_findings(host: Host) -> list[dict[str, Any]]:
    response = host.http("findings_list", "GET", "/api/findings", params={"kind": "connectorDrift"})
    assert response.status_code == 200
    found: list[dict[str, Any]] = body(response)["findings"]
    return found


def drift_alerts(result: dict[str, Any]) -> list[dict[str, Any]]:
    return [a for a in result["alertsRaised"] if a["kind"] == "connectorDrift"]


def baseline_then(host: Host, graph: GraphSimulator, tenant_id: str, **changed: Any) -> dict[str, Any]:
    """First sweep takes the first-seen baseline; the admin changes ``changed``; second sweep."""
    load(graph, tenant_id, lookout())
    first = sweep(host)
    assert drift_alerts(first) == [] and drift_findings(host) == []
    graph.put_connector(lookout(**changed))
    return sweep(host)


@pytest.mark.parametrize(
    ("changed", "label", "shown", "severity"),
    [
        ({"iosEnabled": False}, "Connect iOS/iPadOS devices to Lookout for Work", "On -> Off", "high"),
        ({"androidEnabled": False}, "Connect Android devices to Lookout for Work", "On -> Off", "high"),
        (
            {"androidDeviceBlockedOnMissingPartnerData": False},
            "Mark Android devices noncompliant until partner data arrives",
            "On -> Off",
            "high",
        ),
        (
            {"iosDeviceBlockedOnMissingPartnerData": False},
            "Mark iOS/iPadOS devices noncompliant until partner data arrives",
            "On -> Off",
            "high",
        ),
        ({"partnerUnsupportedOsVersionBlocked": False}, "Block unsupported OS versions", "On -> Off", "high"),
        (
            {"androidMobileApplicationManagementEnabled": True},
            "App protection policy evaluation for Android devices",
            "Off -> On",
            "warning",
        ),
        ({"windowsEnabled": True}, "Connect Windows devices to Lookout for Work", "Off -> On", "warning"),
        (
            {"allowPartnerToCollectIOSApplicationMetadata": True},
            "Enable App Sync for iOS devices",
            "Off -> On",
            "warning",
        ),
        (
            {"allowPartnerToCollectIOSPersonalApplicationMetadata": True},
            "Send full application inventory data on personally-owned iOS/iPadOS devices",
            "Off -> On",
            "warning",
        ),
        ({"threshold": 30}, "Number of days until partner is unresponsive", "7 -> 30", "high"),
        ({"threshold": 3}, "Number of days until partner is unresponsive", "7 -> 3", "warning"),
    ],
)
def test_each_change_made_in_the_admin_center_is_a_drift_finding_in_its_words(
    host: Host,
    graph: GraphSimulator,
    tenant_id: str,
    changed: dict[str, Any],
    label: str,
    shown: str,
    severity: str,
) -> None:
    result = baseline_then(host, graph, tenant_id, **changed)
    [alert] = drift_alerts(result)
    assert alert["severity"] == severity
    assert f"{label}" in alert["reason"] and shown in alert["reason"]
    [finding] = drift_findings(host)
    assert finding["id"] == f"connectorDrift.{LOOKOUT}"
    assert finding["status"] == "open" and finding["severity"] == severity
    assert shown in finding["message"] and finding["resourceName"] == "Lookout for Work"


def test_the_issue_three_changes_are_one_high_finding_listing_each(
    host: Host, graph: GraphSimulator, tenant_id: str
) -> None:
    result = baseline_then(
        host, graph, tenant_id, iosEnabled=False, androidDeviceBlockedOnMissingPartnerData=False, threshold=30
    )
    [alert] = drift_alerts(result)
    assert alert["severity"] == "high"
    assert [c["property"] for c in alert["changes"]] == [
        "androidDeviceBlockedOnMissingPartnerData",
        "iosEnabled",
        "partnerUnresponsivenessThresholdInDays",
    ]
    assert "Number of days until partner is unresponsive: 7 -> 30" in alert["reason"]


def test_unchanged_drift_alerts_once_a_new_difference_alerts_again_and_return_resolves(
    host: Host, graph: GraphSimulator, tenant_id: str
) -> None:
    first = baseline_then(host, graph, tenant_id, iosEnabled=False)
    assert len(drift_alerts(first)) == 1
    again = sweep(host)
    assert drift_alerts(again) == []  # the same set of differences: no repeat
    assert drift_findings(host)[0]["status"] == "open"

    graph.put_connector(lookout(iosEnabled=False, threshold=30))
    more = sweep(host)
    [alert] = drift_alerts(more)
    assert "7 -> 30" in alert["reason"] and "On -> Off" in alert["reason"]

    graph.put_connector(lookout())
    back = sweep(host)
    [resolved] = drift_alerts(back)
    assert resolved["severity"] == "info" and "match the baseline again" in resolved["title"]
    [finding] = drift_findings(host)
    assert finding["status"] == "resolved"
    assert drift_alerts(sweep(host)) == []


def test_threshold_raised_while_the_partner_is_silent_is_called_out_not_read_as_recovery(
    host: Host, graph: GraphSimulator, tenant_id: str
) -> None:
    load(graph, tenant_id, lookout(heartbeat="now-12d", state="unresponsive"))
    first = sweep(host)
    assert first["connectors"][0]["health"] == "unresponsive"
    graph.put_connector(lookout(heartbeat="now-12d", threshold=90))
    result = sweep(host)
    silent = "threshold raised from 7 to 90 days while the partner had been silent for 12 days"
    status = result["connectors"][0]
    assert status["reason"].startswith(silent) and "not a recovery" in status["reason"]
    heartbeat = [a for a in result["alertsRaised"] if a["kind"] == "heartbeat"]
    assert [a["title"] for a in heartbeat] == [
        "Lookout for Work unresponsive threshold was raised while the partner was silent"
    ]
    [drift] = drift_alerts(result)
    assert drift["severity"] == "high"
    assert "Intune now uses 12-day-old risk data" in drift["reason"]


def test_explicit_baselines_judge_nothing_until_one_is_set(
    host: Host, graph: GraphSimulator, tenant_id: str, env: Any
) -> None:
    env(CONNECTOR_BASELINE="explicit")
    load(graph, tenant_id, lookout(), connector(ZIMPERIUM, "now-1h", iosEnabled=True))
    sweep(host)
    graph.put_connector(lookout(iosEnabled=False))
    assert drift_alerts(sweep(host)) == [] and drift_findings(host) == []


def test_a_drifted_connector_deleted_in_intune_closes_its_drift_finding(
    host: Host, graph: GraphSimulator, tenant_id: str
) -> None:
    baseline_then(host, graph, tenant_id, iosEnabled=False)
    assert drift_findings(host)[0]["status"] == "open"
    load(graph, tenant_id)  # the connector is gone
    result = sweep(host)
    assert drift_alerts(result) == []  # the heartbeat's removal alert says it
    assert [a["title"] for a in result["alertsRaised"]] == ["Lookout for Work connector was removed"]
    [finding] = drift_findings(host)
    assert finding["status"] == "resolved" and "no longer exists in Intune" in finding["message"]
