"""Who changed a drifted connector, from Intune's audit log (GET /deviceManagement/auditEvents):
matched, unknown, or "cannot see" when the log cannot be read; never a silenced drift."""

from __future__ import annotations

from typing import Any

from graphsim import Fault, GraphSimulator
from tests.conftest import LOOKOUT, Host
from tests.heartbeat.test_drift import drift_alerts, drift_findings, lookout
from tests.heartbeat.test_sweep import sweep
from tests.support.scenarios import load

AUDIT = "/deviceManagement/auditEvents"


def event(
    resource_id: str | None, *, at: str = "now-5m", who: str = "admin@contoso.com", **resource: Any
) -> dict[str, Any]:
    return {
        "id": f"evt-{who}-{at}",
        "activity": "Patch MobileThreatDefenseConnector",
        "activityDateTime": at,
        "activityType": "Patch MobileThreatDefenseConnector",
        "actor": {"auditActorType": "ItPro", "userPrincipalName": who},
        "resources": [
            {
                "resourceId": resource_id,
                "auditResourceType": "MobileThreatDefenseConnector",
                "displayName": None,
                **resource,
            }
        ],
    }


def drift_with(
    host: Host, graph: GraphSimulator, tenant_id: str, events: list[dict[str, Any]]
) -> dict[str, Any]:
    load(graph, tenant_id, lookout())
    sweep(host)
    graph.load_scenario(
        {"tenantId": tenant_id, "connectors": [lookout(iosEnabled=False)], "intuneAuditEvents": events}
    )
    [alert] = drift_alerts(sweep(host))
    return alert


def test_an_event_for_the_connector_names_who_changed_it(
    host: Host, graph: GraphSimulator, tenant_id: str
) -> None:
    alert = drift_with(
        host, graph, tenant_id, [event(LOOKOUT), event("another-id", who="someone@contoso.com")]
    )
    assert "changed by: admin@contoso.com (Patch MobileThreatDefenseConnector at " in alert["reason"]
    assert "someone@contoso.com" not in alert["reason"]
    assert alert["changedBy"].startswith("changed by: admin@contoso.com")
    assert "changed by: admin@contoso.com" in drift_findings(host)[0]["message"]


def test_an_event_naming_the_partner_without_its_id_matches_by_the_configured_patterns(
    host: Host, graph: GraphSimulator, tenant_id: str
) -> None:
    alert = drift_with(host, graph, tenant_id, [event(None, displayName="Lookout for Work connector")])
    assert "changed by: admin@contoso.com" in alert["reason"]


def test_no_matching_event_says_unknown_rather_than_guessing(
    host: Host, graph: GraphSimulator, tenant_id: str
) -> None:
    alert = drift_with(host, graph, tenant_id, [event(None, displayName="Zimperium")])
    assert "changed by: unknown (no matching Intune audit event)" in alert["reason"]


def test_a_missing_permission_is_cannot_see_and_the_drift_is_still_reported(
    host: Host, graph: GraphSimulator, tenant_id: str
) -> None:
    load(graph, tenant_id, lookout())
    sweep(host)
    graph.put_connector(lookout(iosEnabled=False))
    graph.add_fault(Fault(kind="status", status=403, path=AUDIT))
    [alert] = drift_alerts(sweep(host))
    assert alert["severity"] == "high"
    assert "changed by: cannot see (Intune's audit log could not be read:" in alert["reason"]
    assert "DeviceManagementApps.Read.All" in alert["reason"]


def test_the_log_is_read_only_when_a_drift_alerts_and_never_when_turned_off(
    host: Host, graph: GraphSimulator, tenant_id: str, env: Any
) -> None:
    load(graph, tenant_id, lookout())
    sweep(host)
    sweep(host)
    assert not [r for r in graph.requests if r.path == AUDIT]  # no drift: no read
    env(CONNECTOR_AUDIT_EVENTS="false")
    graph.put_connector(lookout(iosEnabled=False))
    [alert] = drift_alerts(sweep(host))
    assert "changed by" not in alert["reason"]
    assert not [r for r in graph.requests if r.path == AUDIT]


def test_who_changed_it_stays_on_the_finding_while_the_differences_are_the_same(
    host: Host, graph: GraphSimulator, tenant_id: str
) -> None:
    drift_with(host, graph, tenant_id, [event(LOOKOUT)])
    assert drift_alerts(sweep(host)) == []  # nothing changed: no new alert, no new log read
    assert "changed by: admin@contoso.com" in drift_findings(host)[0]["message"]
