"""What a person (or the sweep) does about a connector's configuration: adopt a baseline, accept a
drift, restore the baseline (dry run and real, by hand and automatically), delete a connector, and
export every connector's settings as PUT bodies. Real functions, Azurite, the Graph simulator."""

from __future__ import annotations

from typing import Any

from graphsim import GraphSimulator
from tests.configure.test_configure_api import ITEM, audit, problem, put, seed, writes
from tests.conftest import LOOKOUT, ZIMPERIUM, Host, body
from tests.heartbeat.test_drift import ENFORCING, drift_alerts, drift_findings, lookout
from tests.heartbeat.test_sweep import UNKNOWN_ID, sweep
from tests.support.scenarios import connector, load


def call(host: Host, name: str, method: str, path: str, **kw: Any) -> Any:
    partner = path.split("/")[3] if path.startswith("/api/connectors/") else ""
    return host.http(name, method, path, route_params={"partner": partner} if partner else None, **kw)


def detail(host: Host, partner: str = "lookout") -> dict[str, Any]:
    response = call(host, "connector_get", "GET", f"/api/connectors/{partner}")
    assert response.status_code == 200, response.get_body()
    found: dict[str, Any] = body(response)
    return found


def drifted(host: Host, graph: GraphSimulator, tenant_id: str, **changed: Any) -> None:
    load(graph, tenant_id, lookout())
    sweep(host)
    graph.put_connector(lookout(**changed))
    assert len(drift_alerts(sweep(host))) == 1


def test_the_connector_read_back_shows_settings_in_the_put_shape_baseline_and_drift(
    host: Host, graph: GraphSimulator, tenant_id: str
) -> None:
    drifted(host, graph, tenant_id, iosEnabled=False, threshold=30)
    listed = body(host.http("connectors_list", "GET", "/api/connectors"))["connectors"]
    [shown] = listed
    assert shown["settings"]["ios"] == {
        "complianceEvaluation": False,
        "blockOnMissingPartnerData": True,
        "appProtectionEvaluation": False,
    }
    assert shown["settings"]["unresponsiveThresholdDays"] == 30
    assert shown["baseline"]["source"] == "firstSeen" and shown["baseline"]["setBy"] == "MTD Guard"
    assert shown["baseline"]["settings"]["ios"]["complianceEvaluation"] is True
    assert [(d["field"], d["baseline"], d["current"], d["weakens"]) for d in shown["drift"]] == [
        ("/ios/complianceEvaluation", True, False, True),
        ("/unresponsiveThresholdDays", 7, 30, True),
    ]
    assert detail(host)["drift"] == shown["drift"]


def test_an_explicit_baseline_is_adopted_with_a_note_audited_and_then_judged(
    host: Host, graph: GraphSimulator, tenant_id: str, env: Any
) -> None:
    env(CONNECTOR_BASELINE="explicit")
    load(graph, tenant_id, lookout())
    sweep(host)
    assert detail(host)["baseline"] is None
    response = call(
        host,
        "connector_baseline",
        "POST",
        "/api/connectors/lookout/baseline",
        body={"note": "reviewed with the SOC"},
        headers={"X-Ticket-Reference": "CHG42"},
    )
    assert response.status_code == 200, response.get_body()
    adopted = body(response)
    assert adopted["source"] == "adopted" and adopted["note"] == "reviewed with the SOC"
    assert adopted["ticket"] == "CHG42" and adopted["settings"]["ios"]["complianceEvaluation"] is True
    entry = audit(host)["entries"][0]
    assert entry["action"] == "baseline" and entry["result"] == "applied" and entry["ticket"] == "CHG42"
    graph.put_connector(lookout(iosEnabled=False))
    [alert] = drift_alerts(sweep(host))
    assert alert["severity"] == "high"


def test_adopting_a_baseline_of_a_connector_intune_does_not_have_is_404(
    host: Host, graph: GraphSimulator, tenant_id: str
) -> None:
    seed(graph, tenant_id)
    response = call(host, "connector_baseline", "POST", "/api/connectors/lookout/baseline")
    assert response.status_code == 404 and body(response)["type"].endswith("connector-not-found")


def test_accepting_a_drift_finding_adopts_the_current_settings_and_resolves_it(
    host: Host, graph: GraphSimulator, tenant_id: str
) -> None:
    drifted(host, graph, tenant_id, iosEnabled=False)
    [finding] = drift_findings(host)
    response = host.http(
        "finding_acknowledge",
        "POST",
        f"/api/findings/{finding['id']}/ack",
        route_params={"id": finding["id"]},
        body={"note": "iOS moved to another partner", "accept": True},
    )
    assert response.status_code == 200, response.get_body()
    closed = body(response)
    assert closed["status"] == "resolved" and "accepted as the new baseline" in closed["message"]
    shown = detail(host)
    assert shown["baseline"]["source"] == "accepted" and shown["drift"] == []
    assert shown["baseline"]["settings"]["ios"]["complianceEvaluation"] is False
    assert drift_alerts(sweep(host)) == []  # the accepted settings are the baseline now


def test_accept_is_refused_for_another_kind_of_finding(
    host: Host, graph: GraphSimulator, tenant_id: str
) -> None:
    load(graph, tenant_id, connector(LOOKOUT, "now-9d", state="unresponsive"))
    sweep(host)
    fid = f"heartbeat.{LOOKOUT}"
    response = host.http(
        "finding_acknowledge",
        "POST",
        f"/api/findings/{fid}/ack",
        route_params={"id": fid},
        body={"accept": True},
    )
    assert response.status_code == 422, response.get_body()


def test_restore_is_a_dry_run_by_default_and_writes_the_baseline_back_when_asked(
    host: Host, graph: GraphSimulator, tenant_id: str
) -> None:
    drifted(host, graph, tenant_id, iosEnabled=False, threshold=30)
    graph.clear_requests()
    preview = call(host, "connector_restore", "POST", "/api/connectors/lookout/restore")
    assert preview.status_code == 200, preview.get_body()
    planned = body(preview)
    assert planned["dryRun"] is True and planned["applied"] is False
    assert [(c["property"], c["from"], c["to"]) for c in planned["changes"]] == [
        ("iosEnabled", False, True),
        ("partnerUnresponsivenessThresholdInDays", 30, 7),
    ]
    assert writes(graph) == []
    real = call(
        host, "connector_restore", "POST", "/api/connectors/lookout/restore", params={"dryRun": "false"}
    )
    assert real.status_code == 200, real.get_body()
    assert writes(graph) == [
        ("PATCH", ITEM.format(LOOKOUT), {"iosEnabled": True, "partnerUnresponsivenessThresholdInDays": 7})
    ]
    assert audit(host)["entries"][0]["action"] == "restore"
    [resolved] = drift_alerts(sweep(host))
    assert "match the baseline again" in resolved["title"]


def test_restore_without_a_baseline_is_404(
    host: Host, graph: GraphSimulator, tenant_id: str, env: Any
) -> None:
    env(CONNECTOR_BASELINE="explicit")
    seed(graph, tenant_id, lookout())
    response = call(host, "connector_restore", "POST", "/api/connectors/lookout/restore")
    assert response.status_code == 404 and body(response)["type"].endswith("no-baseline")


def test_the_sweep_restores_by_itself_under_connector_drift_action_restore(
    host: Host, graph: GraphSimulator, tenant_id: str, env: Any
) -> None:
    env(CONNECTOR_DRIFT_ACTION="restore")
    load(graph, tenant_id, lookout())
    sweep(host)
    graph.put_connector(lookout(androidDeviceBlockedOnMissingPartnerData=False))
    graph.clear_requests()
    result = sweep(host)
    assert len(drift_alerts(result)) == 1  # still said: someone changed it
    assert writes(graph) == [
        ("PATCH", ITEM.format(LOOKOUT), {"androidDeviceBlockedOnMissingPartnerData": True})
    ]
    held = graph.connector(LOOKOUT)
    assert held is not None and held["androidDeviceBlockedOnMissingPartnerData"] is True
    entry = audit(host)["entries"][0]
    assert entry["action"] == "restore" and entry["who"].startswith("MTD Guard")
    assert drift_findings(host)[0]["status"] == "open"
    sweep(host)
    assert drift_findings(host)[0]["status"] == "resolved"


def test_delete_is_a_dry_run_by_default_then_deletes_under_audit_and_restore_sets_it_up_again(
    host: Host, graph: GraphSimulator, tenant_id: str
) -> None:
    load(graph, tenant_id, lookout())
    sweep(host)
    graph.clear_requests()
    preview = call(host, "connector_delete", "DELETE", "/api/connectors/lookout")
    assert preview.status_code == 200, preview.get_body()
    assert body(preview)["dryRun"] is True and body(preview)["deleted"] is False
    assert writes(graph) == [] and graph.connector(LOOKOUT) is not None
    assert audit(host)["entries"][0]["result"] == "dryRun"

    gone = call(host, "connector_delete", "DELETE", "/api/connectors/lookout", params={"dryRun": "false"})
    assert gone.status_code == 200, gone.get_body()
    answer = body(gone)
    assert answer["deleted"] is True and answer["before"]["ios"]["complianceEvaluation"] is True
    assert writes(graph) == [("DELETE", ITEM.format(LOOKOUT), None)]
    assert graph.connector(LOOKOUT) is None
    entry = audit(host)["entries"][0]
    assert entry["action"] == "delete" and entry["result"] == "applied"
    again = call(host, "connector_delete", "DELETE", "/api/connectors/lookout", params={"dryRun": "false"})
    assert again.status_code == 404

    back = call(
        host, "connector_restore", "POST", "/api/connectors/lookout/restore", params={"dryRun": "false"}
    )
    assert back.status_code == 200, back.get_body()
    assert body(back)["action"] == "create"
    held = graph.connector(LOOKOUT)
    assert held is not None and all(held[k] == v for k, v in ENFORCING.items())


def export(host: Host) -> dict[str, Any]:
    response = host.http("connectors_export", "GET", "/api/export")
    assert response.status_code == 200, response.get_body()
    found: dict[str, Any] = body(response)["connectors"]
    return found


def test_export_then_put_each_body_into_an_empty_tenant_then_export_again_is_identical(
    host: Host, graph: GraphSimulator, tenant_id: str
) -> None:
    load(
        graph,
        tenant_id,
        lookout(threshold=14),
        connector(
            ZIMPERIUM,
            "now-1h",
            threshold=3,
            androidEnabled=True,
            androidMobileApplicationManagementEnabled=True,
        ),
        # a partner outside the catalog (the demo tenant has one): replayed as a create by its id
        connector(UNKNOWN_ID, "now-1h", androidEnabled=True, threshold=5),
    )
    first = export(host)
    assert set(first) == {"lookout", "zimperium", UNKNOWN_ID}
    assert first["zimperium"]["android"]["appProtectionEvaluation"] is True
    seed(graph, tenant_id)  # an empty tenant
    for partner, settings in first.items():
        response = put(host, partner, settings)
        assert response.status_code == 200, response.get_body()
    assert export(host) == first


def test_delete_and_restore_refuse_a_body_rather_than_ignore_it_and_the_delete_dry_run_carries_the_ticket(
    host: Host, graph: GraphSimulator, tenant_id: str
) -> None:
    load(graph, tenant_id, lookout())
    sweep(host)
    graph.clear_requests()
    for name, method, path in (
        ("connector_delete", "DELETE", "/api/connectors/lookout"),
        ("connector_restore", "POST", "/api/connectors/lookout/restore"),
    ):
        refused = problem(call(host, name, method, path, body={"dryRun": False}), 400)
        assert refused["errors"][0]["pointer"] == ""
        assert "?dryRun=false" in refused["errors"][0]["detail"]
    assert writes(graph) == [] and graph.connector(LOOKOUT) is not None
    preview = call(
        host, "connector_delete", "DELETE", "/api/connectors/lookout", headers={"X-Ticket-Reference": "CHG9"}
    )
    assert preview.status_code == 200, preview.get_body()
    assert body(preview)["ticket"] == "CHG9" and body(preview)["dryRun"] is True
