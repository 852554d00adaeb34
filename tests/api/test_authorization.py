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
    env(REQUIRE_ENTRA_ROLE="true")
    response = host.http("connectors_list", "GET", "/api/connectors")
    assert response.status_code == 401
    assert response.mimetype == "application/problem+json"


def test_reader_can_read_but_not_run_a_check(host: Host, env: Any) -> None:
    env(REQUIRE_ENTRA_ROLE="true")
    reader = principal_header("MtdGuard.Reader")
    assert host.http("connectors_list", "GET", "/api/connectors", headers=reader).status_code == 200
    refused = host.http("checks_run", "POST", "/api/checks/heartbeat", headers=reader)
    assert refused.status_code == 403
    problem = json.loads(refused.get_body())
    assert problem["requiredRole"] == "MtdGuard.Operator"
    assert "ops@contoso.com lacks the app role MtdGuard.Operator" in problem["detail"]


def test_operator_can_read_and_run_a_check(host: Host, env: Any) -> None:
    env(REQUIRE_ENTRA_ROLE="true")
    operator = principal_header(
        "MtdGuard.Operator", role_typ="http://schemas.microsoft.com/ws/2008/06/identity/claims/role"
    )
    assert host.http("connectors_list", "GET", "/api/connectors", headers=operator).status_code == 200
    assert host.http("checks_run", "POST", "/api/checks/heartbeat", headers=operator).status_code == 200


@pytest.mark.parametrize("value", ["not base64!", base64.b64encode(b"[1,2]").decode(), ""])
def test_a_broken_principal_header_is_no_principal(value: str) -> None:
    assert from_headers({"X-MS-CLIENT-PRINCIPAL": value}) is None
