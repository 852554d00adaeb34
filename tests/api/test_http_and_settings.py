"""HTTP errors as RFC 9457 problem+json, liveness, and settings validated with clear messages."""

from __future__ import annotations

import json
import logging
from typing import Any

import pytest

from shared import settings
from tests.conftest import LOOKOUT, Host, body


def assert_problem(response: Any, status: int) -> dict[str, Any]:
    assert response.status_code == status
    assert response.mimetype == "application/problem+json"
    problem: dict[str, Any] = body(response)
    assert problem["status"] == status
    assert problem["title"] and problem["detail"] and problem["type"].startswith("urn:mtd-guard:problem:")
    assert "Traceback" not in json.dumps(problem)
    return problem


def test_unknown_connector_is_a_404_problem_that_says_what_to_use(host: Host) -> None:
    response = host.http("connector_get", "GET", "/api/connectors/nokia", route_params={"partner": "nokia"})
    problem = assert_problem(response, 404)
    assert "'nokia'" in problem["detail"] and "GET /api/connectors" in problem["detail"]
    assert problem["instance"] == "/api/connectors/nokia"


@pytest.mark.parametrize(
    ("value", "detail"), [("abc", "whole number"), ("0", "between 1 and 1000"), ("5000", "between")]
)
def test_bad_query_parameter_is_a_400_problem_naming_it(
    host: Host, graph: Any, tenant_id: str, value: str, detail: str
) -> None:
    graph.load_scenario({"tenantId": tenant_id, "connectors": [{"id": LOOKOUT, "partnerState": "enabled"}]})
    host.http("checks_run", "POST", "/api/checks/heartbeat")
    response = host.http(
        "connector_get",
        "GET",
        "/api/connectors/lookout",
        route_params={"partner": "lookout"},
        params={"historyLimit": value},
    )
    problem = assert_problem(response, 400)
    assert problem["detail"].startswith("historyLimit must be") and detail in problem["detail"]


def test_misconfiguration_answers_503_listing_every_problem(host: Host, env: Any) -> None:
    env(TENANT_ID=None, GRAPH_ENDPOINT="ftp://example.com")
    problem = assert_problem(host.http("connectors_list", "GET", "/api/connectors"), 503)
    assert "TENANT_ID is not set" in problem["detail"]
    assert "GRAPH_ENDPOINT 'ftp://example.com' is not an absolute https:// URL" in problem["detail"]


def test_storage_outage_answers_503_without_leaking_the_connection_string(
    host: Host, env: Any, azurite: Any
) -> None:
    env(AzureWebJobsStorage=azurite.connection_string.replace(str(azurite.port), "1"))
    problem = assert_problem(host.http("connectors_list", "GET", "/api/connectors"), 503)
    assert problem["detail"].startswith("state storage unavailable")
    assert "AccountKey" not in json.dumps(problem)


def test_list_before_any_sweep_is_empty_not_an_error(host: Host, tenant_id: str) -> None:
    data = body(host.http("connectors_list", "GET", "/api/connectors"))
    assert data == {"tenantId": tenant_id, "checkedAt": None, "problems": [], "connectors": []}


def test_health_is_anonymous_and_does_not_list_configuration_details(
    host: Host, functions: dict[str, Any], env: Any
) -> None:
    binding = json.loads(functions["health"].get_function_json())["bindings"][0]
    assert binding["authLevel"] == "ANONYMOUS"
    never = {"lastSuccess": None, "status": "neverRun"}
    healthy = host.http("health", "GET", "/api/health")
    assert healthy.status_code == 200
    assert body(healthy) == {
        "status": "ok",
        "configurationProblems": 0,
        "storage": "ok",
        "jobs": {"heartbeatSweep": never, "caDrift": never, "alertOutbox": never},
    }
    env(TENANT_ID=None)
    misconfigured = host.http("health", "GET", "/api/health")
    assert misconfigured.status_code == 503  # a probe must see it: 200 "misconfigured" was missed
    assert body(misconfigured) == {
        "status": "misconfigured",
        "configurationProblems": 1,
        "storage": "notChecked",
        "jobs": {},
    }


def test_every_other_route_needs_a_function_key(functions: dict[str, Any]) -> None:
    for name, fn in functions.items():
        binding = json.loads(fn.get_function_json())["bindings"][0]
        if binding["type"] == "httpTrigger" and name != "health":
            assert binding["authLevel"] in ("FUNCTION", "ADMIN"), name


def test_timer_uses_the_schedule_setting(functions: dict[str, Any]) -> None:
    binding = json.loads(functions["heartbeat_monitor"].get_function_json())["bindings"][0]
    assert binding["schedule"] == "%HEARTBEAT_SCHEDULE%"
    assert binding["runOnStartup"] is False


def test_misconfigured_timer_logs_one_line_per_problem_without_traceback(
    host: Host, env: Any, caplog: pytest.LogCaptureFixture
) -> None:
    env(TENANT_ID=None, DEFAULT_THRESHOLD_DAYS="seven")
    with caplog.at_level(logging.ERROR):
        host.timer("heartbeat_monitor")
    lines = [r.getMessage() for r in caplog.records if r.levelno >= logging.ERROR]
    assert lines == [
        "MTD Guard is misconfigured: TENANT_ID is not set: Entra tenant (GUID or verified domain) whose MTD "
        "connectors are monitored.",
        "MTD Guard is misconfigured: DEFAULT_THRESHOLD_DAYS 'seven' is not a whole number",
    ]
    assert not any(r.exc_info for r in caplog.records)


BASE = {"TENANT_ID": "contoso.onmicrosoft.com", "AzureWebJobsStorage": "UseDevelopmentStorage=true"}


@pytest.mark.parametrize(
    ("overrides", "message"),
    [
        (
            {"HEARTBEAT_SCHEDULE": "*/30 * * * *"},
            "HEARTBEAT_SCHEDULE '*/30 * * * *' is not an NCRONTAB expression",
        ),
        ({"GRAPH_ENDPOINT": "http://graph.example.com"}, "must use https"),
        ({"TENANT_ID": "not a tenant"}, "is neither a tenant GUID nor a domain"),
        (
            {"ALERT_WEBHOOK_URL": "hooks.example.com/x"},
            "ALERT_WEBHOOK_URL 'hooks.example.com/x' is not an absolute",
        ),
        ({"GRAPH_API_VERSION": "v2"}, "GRAPH_API_VERSION 'v2' is not v1.0 or beta"),
        ({"DEFAULT_THRESHOLD_DAYS": "0"}, "DEFAULT_THRESHOLD_DAYS 0 is outside 1..365"),
        ({"AzureWebJobsStorage": ""}, "No state storage"),
    ],
)
def test_each_bad_setting_gets_its_own_clear_message(overrides: dict[str, str], message: str) -> None:
    found = settings.problems({**BASE, **overrides})
    assert len(found) == 1 and message in found[0], found


def test_defaults_and_loopback_detection() -> None:
    loaded = settings.load(BASE)
    assert loaded.graph_endpoint == "https://graph.microsoft.com"
    assert loaded.heartbeat_schedule == "0 */30 * * * *"
    assert (loaded.default_threshold_days, loaded.early_warning_hours) == (7, 24)
    assert not loaded.graph_is_loopback
    assert settings.load({**BASE, "GRAPH_ENDPOINT": "http://127.0.0.1:8080/"}).graph_is_loopback
    with pytest.raises(settings.SettingsError) as raised:
        settings.load({})
    assert len(raised.value.problems) == 2


def test_an_unresolved_key_vault_reference_is_never_used_as_a_key() -> None:
    reference = "@Microsoft.KeyVault(SecretUri=https://kv.vault.azure.net/secrets/alert-webhook-secret/)"
    env = {**BASE, "ALERT_WEBHOOK_SECRET": reference}
    # An empty vault must not stop heartbeat monitoring: the optional secret counts as unset.
    assert settings.problems(env) == []
    assert settings.load(env).alert_webhook_secret is None


def test_graph_and_storage_share_one_credential_and_local_runs_build_none(
    monkeypatch: pytest.MonkeyPatch, env: Any
) -> None:
    from shared import context

    context._azure_credential.cache_clear()
    context.services()  # the simulator and Azurite: no Azure credential is needed, none is built
    assert context._azure_credential.cache_info().currsize == 0

    env(
        GRAPH_ENDPOINT="https://graph.microsoft.com",
        AzureWebJobsStorage=None,
        AzureWebJobsStorage__tableServiceUri="https://stmtd.table.core.windows.net",
        AZURE_CLIENT_ID="11111111-2222-3333-4444-555555555555",
    )
    built = context.services()  # constructing makes no network call; tokens are fetched on use
    assert built.graph._credential is not None
    assert built.graph._credential is built.store._service.credential
    context._azure_credential.cache_clear()
