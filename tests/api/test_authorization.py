"""Entra app roles from App Service authentication, enforced when REQUIRE_ENTRA_ROLE=true."""

from __future__ import annotations

import base64
import json
from typing import Any

import pytest

from shared.principal import from_headers
from tests.conftest import Host


def principal_header(*roles: str, name: str = "ops@contoso.com", role_typ: str = "roles") -> dict[str, str]:
    claims = [{"typ": role_typ, "val": r} for r in roles] + [{"typ": "preferred_username", "val": name}]
    encoded = base64.b64encode(
        json.dumps({"auth_typ": "aad", "claims": claims, "role_typ": role_typ}).encode()
    )
    return {"X-MS-CLIENT-PRINCIPAL": encoded.decode(), "X-MS-CLIENT-PRINCIPAL-ID": "1111"}


def test_roles_are_not_checked_unless_required(host: Host) -> None:
    assert host.http("connectors_list", "GET", "/api/connectors").status_code == 200


def test_no_principal_is_401_when_roles_are_required(host: Host, env: Any) -> None:
    env(REQUIRE_ENTRA_ROLE="true", WEBSITE_AUTH_ENABLED="True")
    response = host.http("connectors_list", "GET", "/api/connectors")
    assert response.status_code == 401
    assert response.mimetype == "application/problem+json"


def test_reader_can_read_but_not_run_a_check(host: Host, env: Any) -> None:
    env(REQUIRE_ENTRA_ROLE="true", WEBSITE_AUTH_ENABLED="True")
    reader = principal_header("MtdGuard.Reader")
    assert host.http("connectors_list", "GET", "/api/connectors", headers=reader).status_code == 200
    refused = host.http("checks_run", "POST", "/api/checks/heartbeat", headers=reader)
    assert refused.status_code == 403
    problem = json.loads(refused.get_body())
    assert problem["requiredRole"] == "MtdGuard.Operator"
    assert "ops@contoso.com lacks the app role MtdGuard.Operator" in problem["detail"]


def test_operator_can_read_and_run_a_check(host: Host, env: Any) -> None:
    env(REQUIRE_ENTRA_ROLE="true", WEBSITE_AUTH_ENABLED="True")
    operator = principal_header(
        "MtdGuard.Operator", role_typ="http://schemas.microsoft.com/ws/2008/06/identity/claims/role"
    )
    assert host.http("connectors_list", "GET", "/api/connectors", headers=operator).status_code == 200
    assert host.http("checks_run", "POST", "/api/checks/heartbeat", headers=operator).status_code == 200


@pytest.mark.parametrize("value", ["not base64!", base64.b64encode(b"[1,2]").decode(), ""])
def test_a_broken_principal_header_is_no_principal(value: str) -> None:
    assert from_headers({"X-MS-CLIENT-PRINCIPAL": value}) is None


# -- Honest about identity (issue 11): the principal headers are believed only behind App Service
# authentication, which the platform announces with WEBSITE_AUTH_ENABLED=True.


def test_roles_required_without_app_service_authentication_refuse_and_health_says_why(
    host: Host, env: Any, graph: Any, tenant_id: str
) -> None:
    from tests.support.scenarios import load

    load(graph, tenant_id, {"id": "2c7790de-8b02-4814-85cf-e0c59380dee8"})
    graph.clear_requests()
    env(REQUIRE_ENTRA_ROLE="true")  # but authentication is not in front of the app
    forged = principal_header("MtdGuard.Operator", name="ceo@contoso.com")
    refused = host.http(
        "connector_configure",
        "PUT",
        "/api/connectors/lookout",
        route_params={"partner": "lookout"},
        body={"appSync": True},
        headers=forged,
    )
    assert refused.status_code == 503 and refused.mimetype == "application/problem+json"
    problem = json.loads(refused.get_body())
    assert problem["title"] == "Misconfigured"
    assert "REQUIRE_ENTRA_ROLE is true but App Service authentication is off" in problem["detail"]
    assert "WEBSITE_AUTH_ENABLED" in problem["detail"]
    assert graph.requests == []  # refused before any work
    health = json.loads(host.http("health", "GET", "/api/health").get_body())
    assert health["status"] == "misconfigured" and health["configurationProblems"] == 1
    env(REQUIRE_ENTRA_ROLE=None)  # roles off again: the trail holds no entry, least of all the forged name
    trail = host.http("audit_list", "GET", "/api/audit")
    assert json.loads(trail.get_body())["entries"] == [], trail.get_body()


def test_a_forged_principal_names_nobody_in_a_redelivery_note(
    host: Host, env: Any, graph: Any, tenant_id: str
) -> None:
    from tests.support.receiver import Receiver
    from tests.support.scenarios import connector, load

    receiver = Receiver().start()
    try:
        env(ALERT_WEBHOOK_URL=receiver.url)
        load(graph, tenant_id, connector("2c7790de-8b02-4814-85cf-e0c59380dee8", "now-9d"))
        host.http("checks_run", "POST", "/api/checks/heartbeat")
        alert_id = json.loads(host.http("alerts_list", "GET", "/api/alerts").get_body())["alerts"][0][
            "alertId"
        ]
        forged = principal_header("MtdGuard.Operator", name="ceo@contoso.com")
        redelivered = host.http(
            "alert_redeliver",
            "POST",
            f"/api/alerts/{alert_id}/redeliver",
            route_params={"alertId": alert_id},
            params={"channel": "webhook"},
            headers=forged,
        )
    finally:
        receiver.stop()
    assert redelivered.status_code == 202, redelivered.get_body()
    assert "ceo@contoso.com" not in redelivered.get_body().decode()


MALFORMED_PRINCIPALS = [
    "not base64!",
    "ü" * 12,
    base64.b64encode(b"[1,2]").decode(),
    base64.b64encode(b"\xff\xfe\xfd").decode(),
    base64.b64encode(b'{"claims": 5}').decode(),
    base64.b64encode(b'{"claims": [{"typ": ["roles"], "val": "MtdGuard.Operator"}]}').decode(),
    base64.b64encode(b'{"claims": [{"typ": {"a": 1}, "val": "x"}], "role_typ": {"b": 2}}').decode(),
    base64.b64encode(b"[" * 100_000).decode(),
    base64.b64encode(b'{"claims": [{"typ": "roles", "val": ["MtdGuard.Operator"]}]}').decode(),
]


@pytest.mark.parametrize("value", MALFORMED_PRINCIPALS)
def test_a_malformed_principal_header_is_a_4xx_never_a_500(host: Host, env: Any, value: str) -> None:
    env(REQUIRE_ENTRA_ROLE="true", WEBSITE_AUTH_ENABLED="True")
    response = host.http(
        "checks_run", "POST", "/api/checks/heartbeat", headers={"X-MS-CLIENT-PRINCIPAL": value}
    )
    # 401 (no principal) or 403 (a principal without the role): never a 500
    assert response.status_code in (401, 403), response.get_body()
    read = from_headers({"X-MS-CLIENT-PRINCIPAL": value})
    assert read is None or not read.roles
