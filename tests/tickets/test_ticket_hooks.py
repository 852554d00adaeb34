"""POST /api/hooks/{source}: Jira, ServiceNow and generic callers configure, check and acknowledge,
and every answer carries their ticket reference back."""

from __future__ import annotations

import hashlib
import hmac
import json
import threading
from typing import Any

import pytest

from graphsim import Fault, GraphSimulator
from shared.context import services
from shared.findings.stored import stored_findings
from tests.api.test_authorization import principal_header
from tests.configure.test_configure_api import audit, problem, seed, writes
from tests.conftest import LOOKOUT, Host, body

SECRET = "s3cr3t-for-tests"


def hook(
    host: Host,
    source: str,
    payload: Any,
    *,
    headers: dict[str, str] | None = None,
    params: dict[str, str] | None = None,
) -> Any:
    raw = payload if isinstance(payload, bytes) else json.dumps(payload).encode()
    return host.http(
        "hook_receive",
        "POST",
        f"/api/hooks/{source}",
        route_params={"source": source},
        body=raw,
        headers=headers,
        params=params,
    )


def signed(payload: dict[str, Any], secret: str = SECRET) -> tuple[bytes, dict[str, str]]:
    raw = json.dumps(payload).encode()
    signature = "sha256=" + hmac.new(secret.encode(), raw, hashlib.sha256).hexdigest()
    return raw, {"X-Hub-Signature": signature}


# The body a Jira Automation rule "Send web request" sends (custom body with smart values filled in).
JIRA_CONFIGURE = {
    "issue": {"key": "OPS-42", "fields": {"summary": "Enable Lookout for iOS"}},
    "action": "configure",
    "partner": "lookout",
    "settings": {"ios": {"complianceEvaluation": True, "blockOnMissingPartnerData": True}},
}

# What a ServiceNow outbound REST message sends: ${variables} arrive as text.
SERVICENOW_DRY_RUN = {
    "number": "CHG0031234",
    "sys_id": "9d385017c611228701d22104cc95c371",
    "action": "configure",
    "partner": "lookout",
    "dryRun": "true",
    "settings": '{"android": {"complianceEvaluation": true}}',
    "short_description": "Enable Lookout for Android",
}


def test_jira_configure_applies_and_carries_the_issue_key_back(
    host: Host, graph: GraphSimulator, tenant_id: str
) -> None:
    seed(graph, tenant_id, {"id": LOOKOUT, "partnerState": "enabled"})
    response = hook(host, "jira", JIRA_CONFIGURE)
    assert response.status_code == 200, response.get_body()
    reply = body(response)
    assert reply["source"] == "jira" and reply["ticket"] == "OPS-42" and reply["action"] == "configure"
    assert reply["result"]["applied"] is True and reply["result"]["ticket"] == "OPS-42"
    assert writes(graph) == [
        (
            "PATCH",
            f"/deviceManagement/mobileThreatDefenseConnectors/{LOOKOUT}",
            {"iosEnabled": True, "iosDeviceBlockedOnMissingPartnerData": True},
        )
    ]
    entry = audit(host, ticket="OPS-42")["entries"][0]
    assert entry["via"] == "jira" and entry["who"] == "jira webhook" and entry["result"] == "applied"


def test_servicenow_text_values_map_to_a_dry_run_with_the_change_number(
    host: Host, graph: GraphSimulator, tenant_id: str
) -> None:
    seed(graph, tenant_id, {"id": LOOKOUT})
    response = hook(host, "servicenow", SERVICENOW_DRY_RUN)
    assert response.status_code == 200, response.get_body()
    reply = body(response)
    assert reply["ticket"] == "CHG0031234"
    assert reply["result"]["dryRun"] is True and reply["result"]["changes"][0]["property"] == "androidEnabled"
    assert writes(graph) == []


def test_a_bad_setting_in_a_webhook_names_it_under_settings_and_returns_the_ticket(
    host: Host, graph: GraphSimulator, tenant_id: str
) -> None:
    seed(graph, tenant_id, {"id": LOOKOUT})
    payload = {**JIRA_CONFIGURE, "settings": {"ios": {"complianceEvaluation": "yes"}}}
    found = problem(hook(host, "jira", payload), 400)
    assert found["errors"][0]["pointer"] == "/settings/ios/complianceEvaluation"
    assert found["ticket"] == "OPS-42" and found["source"] == "jira"


@pytest.mark.parametrize(
    ("source", "payload", "pointer"),
    [
        (
            "generic",
            {"action": "configure", "partner": "lookout", "settings": {}, "colour": "red"},
            "/colour",
        ),
        ("generic", {"action": "reboot", "ticket": "T-1"}, "/action"),
        ("generic", {"action": "configure", "ticket": "T-1", "settings": {"appSync": True}}, "/partner"),
        ("generic", {"action": "acknowledge", "ticket": "T-1"}, "/findingId"),
        (
            "servicenow",
            {"number": "CHG1", "action": "configure", "partner": "lookout", "settings": "{oops"},
            "/settings",
        ),
        ("servicenow", {"number": "CHG1", "action": "check", "dryRun": "maybe"}, "/dryRun"),
        ("jira", {"issue": {"key": "OPS-1"}}, "/action"),  # RFC 6901; the detail names ?action=
    ],
)
def test_invalid_webhook_payloads_are_400_naming_the_field(
    host: Host, graph: GraphSimulator, source: str, payload: dict[str, Any], pointer: str
) -> None:
    found = problem(hook(host, source, payload), 400)
    assert pointer in [e["pointer"] for e in found["errors"]]
    assert graph.requests == []


def test_unknown_source_is_404(host: Host) -> None:
    assert "jira, servicenow, generic" in problem(hook(host, "github", {"action": "check"}), 404)["detail"]


# -- Jira signatures ---------------------------------------------------------------------------


def test_jira_signature_good_bad_and_missing(
    host: Host, graph: GraphSimulator, tenant_id: str, env: Any
) -> None:
    env(JIRA_WEBHOOK_SECRET=SECRET)
    seed(graph, tenant_id, {"id": LOOKOUT})
    raw, good = signed(JIRA_CONFIGURE)
    assert hook(host, "jira", raw, headers=good).status_code == 200

    _, wrong_key = signed(JIRA_CONFIGURE, secret="not-the-secret")
    bad = problem(hook(host, "jira", raw, headers=wrong_key), 401)
    assert "does not match" in bad["detail"]
    tampered = json.dumps({**JIRA_CONFIGURE, "partner": "defender"}).encode()
    assert hook(host, "jira", tampered, headers=good).status_code == 401
    missing = problem(hook(host, "jira", raw), 401)
    assert "is missing" in missing["detail"]
    for refused in (bad, missing):
        assert SECRET not in json.dumps(refused)
    assert len(writes(graph)) == 1  # only the signed delivery changed anything
    assert len(audit(host)["entries"]) == 1  # unauthenticated deliveries leave no trace to fill up

    # Signatures are Jira's: the other sources authenticate with the function key and Entra.
    assert hook(host, "generic", {"action": "check", "ticket": "T-9"}).status_code == 200


def test_without_a_secret_jira_deliveries_need_no_signature(
    host: Host, graph: GraphSimulator, tenant_id: str, env: Any, caplog: pytest.LogCaptureFixture
) -> None:
    seed(graph, tenant_id, {"id": LOOKOUT})
    assert hook(host, "jira", JIRA_CONFIGURE).status_code == 200
    assert "WITHOUT a signature" not in caplog.text
    # In Azure the setting is a Key Vault reference; one that did not resolve is said out loud.
    env(
        JIRA_WEBHOOK_SECRET="@Microsoft.KeyVault(SecretUri=https://kv.vault.azure.net/secrets/jira-webhook-secret/)"
    )
    assert hook(host, "jira", JIRA_CONFIGURE).status_code == 200
    assert "WITHOUT a signature check" in caplog.text


# -- replays ----------------------------------------------------------------------------------


def test_a_jira_retry_with_the_same_webhook_identifier_changes_nothing_again(
    host: Host, graph: GraphSimulator, tenant_id: str, env: Any
) -> None:
    env(JIRA_WEBHOOK_SECRET=SECRET)
    seed(graph, tenant_id, {"id": LOOKOUT})
    raw, headers = signed(JIRA_CONFIGURE)
    headers["X-Atlassian-Webhook-Identifier"] = "4f3c2b1a-delivery-1"
    first = hook(host, "jira", raw, headers=headers)
    again = hook(host, "jira", raw, headers=headers)
    assert first.status_code == again.status_code == 200
    assert again.get_body() == first.get_body() and again.headers["Idempotent-Replayed"] == "true"
    assert len(writes(graph)) == 1
    assert audit(host)["entries"][0]["idempotencyKey"] == "4f3c2b1a-delivery-1"


def test_two_concurrent_jira_deliveries_write_once(host: Host, graph: GraphSimulator, tenant_id: str) -> None:
    seed(graph, tenant_id, {"id": LOOKOUT})
    graph.add_fault(Fault(kind="slow", method="PATCH", delay_seconds=0.5, times=1))
    services()
    answers: list[Any] = []
    headers = {"X-Atlassian-Webhook-Identifier": "delivery-2"}

    def deliver() -> None:
        answers.append(hook(host, "jira", JIRA_CONFIGURE, headers=headers))

    threads = [threading.Thread(target=deliver) for _ in range(2)]
    for t in threads:
        t.start()
    for t in threads:
        t.join()
    assert [a.status_code for a in answers] == [200, 200]
    assert answers[0].get_body() == answers[1].get_body()
    assert len(writes(graph)) == 1


# -- check now and acknowledge ------------------------------------------------------------------


def test_check_now_runs_the_heartbeat_sweep_and_is_audited(
    host: Host, graph: GraphSimulator, tenant_id: str
) -> None:
    seed(graph, tenant_id, {"id": LOOKOUT, "partnerState": "enabled", "lastHeartbeatDateTime": "now-9d"})
    response = hook(host, "generic", {"action": "check", "ticket": "INC-5"})
    assert response.status_code == 200
    reply = body(response)
    assert reply["ticket"] == "INC-5"
    assert [c["health"] for c in reply["result"]["connectors"]] == ["unresponsive"]
    entry = audit(host, action="check")["entries"][0]
    assert entry["ticket"] == "INC-5" and "1 not healthy" in entry["detail"]


def test_acknowledge_a_finding_from_a_ticket(
    host: Host, graph: GraphSimulator, tenant_id: str, env: Any
) -> None:
    seed(graph, tenant_id, {"id": LOOKOUT, "partnerState": "enabled", "lastHeartbeatDateTime": "now-9d"})
    host.http("checks_run", "POST", "/api/checks/heartbeat")
    # the principal is believed only behind App Service authentication
    env(REQUIRE_ENTRA_ROLE="true", WEBSITE_AUTH_ENABLED="True")
    snow = principal_header("MtdGuard.Operator", name="snow-int")
    finding_id = f"heartbeat.{LOOKOUT}"
    payload = {
        "number": "INC0010042",
        "action": "acknowledge",
        "findingId": finding_id,
        "note": "Lookout outage, vendor ticket 7731",
    }
    response = hook(host, "servicenow", payload, headers=snow)
    assert response.status_code == 200, response.get_body()
    result = body(response)["result"]
    assert result["status"] == "acknowledged" and result["acknowledgedBy"] == "snow-int"
    assert result["note"] == "Lookout outage, vendor ticket 7731"
    stored = stored_findings(services().store, tenant_id)[finding_id]
    assert stored.status == "acknowledged" and stored.acknowledged_by == "snow-int"
    entry = audit(host, action="acknowledge")["entries"][0]
    assert entry["before"]["status"] == "open" and entry["after"]["status"] == "acknowledged"
    assert entry["ticket"] == "INC0010042"

    missing = problem(hook(host, "servicenow", {**payload, "findingId": "heartbeat.nope"}, headers=snow), 404)
    assert missing["ticket"] == "INC0010042"


def test_jira_admin_webhook_can_ask_for_a_check_in_the_url(
    host: Host, graph: GraphSimulator, tenant_id: str
) -> None:
    seed(graph, tenant_id)
    native = {"webhookEvent": "jira:issue_updated", "issue": {"key": "OPS-77", "fields": {}}}
    response = hook(host, "jira", native, params={"action": "check"})
    assert response.status_code == 200 and body(response)["ticket"] == "OPS-77"
