"""PUT /api/connectors/{partner}: desired settings in, exactly the needed Graph writes out.

Functions called as the host calls them, real Azurite, the Graph simulator; the simulator's request
log is how each test proves which Graph requests were (and were not) sent.
"""

from __future__ import annotations

import threading
from typing import Any

import pytest
from pytest_mock import MockerFixture

from graphsim import Fault, GraphSimulator
from shared.configure import apply as configurator
from shared.context import services
from shared.store.changes import ChangeStore
from tests.api.test_authorization import principal_header
from tests.conftest import DEFENDER, LOOKOUT, Host, body
from tests.support.scenarios import load

BLACKBERRY = "a447eca6-a986-4d3f-9838-5862bf50776c"
ITEM = "/deviceManagement/mobileThreatDefenseConnectors/{}"
COLLECTION = "/deviceManagement/mobileThreatDefenseConnectors"


def put(
    host: Host,
    partner: str,
    settings: Any,
    *,
    params: dict[str, str] | None = None,
    headers: dict[str, str] | None = None,
) -> Any:
    raw = settings if isinstance(settings, bytes) else None
    return host.http(
        "connector_configure",
        "PUT",
        f"/api/connectors/{partner}",
        route_params={"partner": partner},
        params=params,
        body=raw if raw is not None else _as_body(settings),
        headers=headers,
    )


def _as_body(settings: Any) -> bytes | dict[str, Any]:
    import json

    return settings if isinstance(settings, dict) else json.dumps(settings).encode()


def calls(graph: GraphSimulator) -> list[tuple[str, str, str, Any]]:
    """(method, version, path, JSON body) of every Graph request, oldest first."""
    return [(r.method, r.version or "", r.path, r.json) for r in graph.requests]


def writes(graph: GraphSimulator) -> list[tuple[str, str, Any]]:
    return [(r.method, r.path, r.json) for r in graph.requests if r.method != "GET"]


def seed(graph: GraphSimulator, tenant_id: str, *connectors: dict[str, Any]) -> None:
    """Load the tenant and forget the requests so far: tests assert on the writes that follow."""
    load(graph, tenant_id, *connectors)
    graph.clear_requests()


READER = principal_header("MtdGuard.Reader", name="auditor@contoso.com")


def audit(host: Host, **params: str) -> dict[str, Any]:
    response = host.http("audit_list", "GET", "/api/audit", params=params, headers=READER)
    assert response.status_code == 200, response.get_body()
    result: dict[str, Any] = body(response)
    return result


def problem(response: Any, status: int) -> dict[str, Any]:
    assert response.status_code == status, response.get_body()
    assert response.mimetype == "application/problem+json"
    found: dict[str, Any] = body(response)
    assert found["status"] == status and found["detail"]
    return found


# -- create / patch only what differs / no-op ---------------------------------------------------


def test_absent_connector_is_created_with_one_post_and_the_answer_says_what_is_left(
    host: Host, graph: GraphSimulator, tenant_id: str
) -> None:
    seed(graph, tenant_id)
    response = put(
        host,
        "lookout",
        {"android": {"complianceEvaluation": True}, "ios": {"complianceEvaluation": True}, "appSync": True},
        headers={"X-Ticket-Reference": "CHG0031234"},
    )
    assert response.status_code == 200, response.get_body()
    assert calls(graph) == [
        ("GET", "v1.0", ITEM.format(LOOKOUT), None),
        (
            "POST",
            "v1.0",
            COLLECTION,
            {
                "id": LOOKOUT,
                "androidEnabled": True,
                "iosEnabled": True,
                "allowPartnerToCollectIOSApplicationMetadata": True,
            },
        ),
        ("GET", "v1.0", ITEM.format(LOOKOUT), None),
    ]
    result = body(response)
    assert result["action"] == "create" and result["applied"] is True and result["dryRun"] is False
    assert result["ticket"] == "CHG0031234"
    assert result["before"] is None
    assert result["after"]["android"]["complianceEvaluation"] is True
    assert result["after"]["ios"] == {
        "complianceEvaluation": True,
        "blockOnMissingPartnerData": False,
        "appProtectionEvaluation": False,
    }
    assert result["after"]["unresponsiveThresholdDays"] == 7  # Intune's default, read back
    assert [c["property"] for c in result["changes"]] == [
        "androidEnabled",
        "iosEnabled",
        "allowPartnerToCollectIOSApplicationMetadata",
    ]
    # A new connector waits for the partner's side: the answer says so and where to watch.
    assert result["partnerState"] == "notSetUp"  # v1.0's current reference names it
    assert "Lookout for Work admin console" in result["nextSteps"][0]
    assert "GET /api/connectors/lookout" in result["nextSteps"][1]


def test_existing_connector_gets_a_patch_of_only_the_changed_properties(
    host: Host, graph: GraphSimulator, tenant_id: str
) -> None:
    seed(
        graph,
        tenant_id,
        {"id": LOOKOUT, "partnerState": "enabled", "androidEnabled": True, "lastHeartbeatDateTime": "now-1h"},
    )
    response = put(
        host,
        LOOKOUT.upper(),  # an id in any case works as well as the slug
        {
            "android": {"complianceEvaluation": True},
            "ios": {"complianceEvaluation": True, "blockOnMissingPartnerData": False},
            "unresponsiveThresholdDays": 14,
            "blockUnsupportedOsVersions": True,
        },
    )
    assert response.status_code == 200, response.get_body()
    assert writes(graph) == [
        (
            "PATCH",
            ITEM.format(LOOKOUT),
            {
                "iosEnabled": True,
                "partnerUnsupportedOsVersionBlocked": True,
                "partnerUnresponsivenessThresholdInDays": 14,
            },
        )
    ]
    result = body(response)
    assert result["action"] == "update" and result["applied"] is True
    assert result["before"]["ios"]["complianceEvaluation"] is False
    assert result["after"]["ios"]["complianceEvaluation"] is True
    assert result["after"]["unresponsiveThresholdDays"] == 14
    assert result["nextSteps"] == []  # the partner is connected: nothing left
    assert graph.connector(LOOKOUT)["partnerUnresponsivenessThresholdInDays"] == 14  # type: ignore[index]


def test_connector_already_as_desired_gets_no_write_at_all(
    host: Host, graph: GraphSimulator, tenant_id: str
) -> None:
    seed(graph, tenant_id, {"id": LOOKOUT, "partnerState": "enabled", "androidEnabled": True})
    response = put(host, "lookout", {"android": {"complianceEvaluation": True}, "appSync": False})
    assert response.status_code == 200
    assert calls(graph) == [("GET", "v1.0", ITEM.format(LOOKOUT), None)]
    result = body(response)
    assert result["action"] == "none" and result["applied"] is False and result["changes"] == []


def test_dry_run_returns_the_plan_and_writes_nothing(
    host: Host, graph: GraphSimulator, tenant_id: str
) -> None:
    seed(graph, tenant_id, {"id": LOOKOUT, "partnerState": "enabled"})
    before = graph.connector(LOOKOUT)
    response = put(host, "lookout", {"ios": {"complianceEvaluation": True}}, params={"dryRun": "true"})
    assert response.status_code == 200
    assert writes(graph) == []
    assert graph.connector(LOOKOUT) == before
    result = body(response)
    assert result["dryRun"] is True and result["applied"] is False and result["action"] == "update"
    assert result["changes"] == [
        {
            "field": "/ios/complianceEvaluation",
            "property": "iosEnabled",
            "label": "Connect iOS/iPadOS devices to the partner (compliance evaluation)",
            "from": False,
            "to": True,
        }
    ]
    assert result["after"]["ios"]["complianceEvaluation"] is True  # the predicted state

    created = put(host, "zimperium", {"android": {"complianceEvaluation": True}}, params={"dryRun": "true"})
    assert body(created)["action"] == "create"
    assert writes(graph) == []
    assert audit(host, result="dryRun")["entries"][0]["target"] == "08a8455c-48dd-45ff-ad82-7211355354f3"


# -- validation: 400 naming the field -------------------------------------------------------


@pytest.mark.parametrize(
    ("settings", "pointer", "words"),
    [
        ({"andriod": {"complianceEvaluation": True}}, "/andriod", "not a known setting"),
        ({"android": {"compliance": True}}, "/android/compliance", "known: appProtectionEvaluation"),
        ({"mac": {"appProtectionEvaluation": True}}, "/mac/appProtectionEvaluation", "no app protection"),
        (
            {"ios": {"complianceEvaluation": "yes"}},
            "/ios/complianceEvaluation",
            "true or false, got a string",
        ),
        ({"appSync": 1}, "/appSync", "true or false, got a number"),
        ({"unresponsiveThresholdDays": 0}, "/unresponsiveThresholdDays", "between 1 and 365 days, got 0"),
        ({"unresponsiveThresholdDays": 366}, "/unresponsiveThresholdDays", "got 366"),
        ({"unresponsiveThresholdDays": 7.5}, "/unresponsiveThresholdDays", "whole number"),
        ({"unresponsiveThresholdDays": True}, "/unresponsiveThresholdDays", "got a boolean"),
        ({"windows": True}, "/windows", "must be a JSON object"),
        ({}, "", "names no setting"),
        ([{"android": {}}], "", "must be a JSON object, got an array"),
    ],
)
def test_invalid_settings_are_400_naming_the_field_and_touch_no_graph(
    host: Host, graph: GraphSimulator, tenant_id: str, settings: Any, pointer: str, words: str
) -> None:
    seed(graph, tenant_id, {"id": LOOKOUT})
    found = problem(put(host, "lookout", settings), 400)
    assert found["errors"][0]["pointer"] == pointer
    assert words in found["errors"][0]["detail"]
    assert (pointer or "/") in found["detail"]
    assert graph.requests == []


@pytest.mark.parametrize("days", [1, 365])
def test_the_threshold_limits_themselves_are_accepted_and_written(
    host: Host, graph: GraphSimulator, tenant_id: str, days: int
) -> None:
    seed(graph, tenant_id, {"id": LOOKOUT, "partnerState": "enabled"})
    response = put(host, "lookout", {"unresponsiveThresholdDays": days})
    assert response.status_code == 200, response.get_body()
    patch = {"partnerUnresponsivenessThresholdInDays": days}
    assert writes(graph) == [("PATCH", ITEM.format(LOOKOUT), patch)]
    assert body(response)["after"]["unresponsiveThresholdDays"] == days


def test_every_problem_of_a_body_is_listed_at_once(host: Host, graph: GraphSimulator, tenant_id: str) -> None:
    found = problem(put(host, "lookout", {"appSync": "on", "ios": {"x": True}, "extra": 1}), 400)
    assert [e["pointer"] for e in found["errors"]] == ["/appSync", "/ios/x", "/extra"]


def test_a_body_that_is_not_json_and_an_unknown_partner_are_problems(
    host: Host, graph: GraphSimulator
) -> None:
    assert problem(put(host, "lookout", b"{not json"), 400)["title"] == "Invalid JSON"
    unknown = problem(put(host, "nokia", {"appSync": True}), 404)
    assert "'nokia'" in unknown["detail"] and "lookout" in unknown["detail"]
    assert problem(put(host, "lookout", {"appSync": True}, params={"dryRun": "maybe"}), 400)
    assert graph.requests == []


# -- Intune's rules, before any write ----------------------------------------------------------


def test_app_protection_held_by_another_partner_is_a_409_naming_it(
    host: Host, graph: GraphSimulator, tenant_id: str, env: Any
) -> None:
    env(REQUIRE_ENTRA_ROLE="true", WEBSITE_AUTH_ENABLED="True")
    operator = principal_header("MtdGuard.Operator", name="ops@contoso.com")
    seed(
        graph,
        tenant_id,
        {"id": DEFENDER, "partnerState": "enabled", "androidMobileApplicationManagementEnabled": True},
        {"id": LOOKOUT, "partnerState": "enabled"},
    )
    response = put(
        host,
        "lookout",
        {"android": {"appProtectionEvaluation": True}},
        headers=operator,
    )
    found = problem(response, 409)
    assert found["type"] == "urn:mtd-guard:problem:app-protection-taken"
    assert "Microsoft Defender for Endpoint has it" in found["detail"]
    assert found["heldBy"] == [{"id": DEFENDER, "partner": "Microsoft Defender for Endpoint"}]
    assert writes(graph) == []
    # iOS is free: the same partner may take app protection there.
    assert (
        put(host, "lookout", {"ios": {"appProtectionEvaluation": True}}, headers=operator).status_code == 200
    )
    refused = body(
        host.http("audit_list", "GET", "/api/audit", params={"result": "refused"}, headers=operator)
    )["entries"]
    assert len(refused) == 1
    assert refused[0]["who"] == "ops@contoso.com" and refused[0]["status"] == 409
    assert refused[0]["before"]["android"]["appProtectionEvaluation"] is False


def test_asking_again_for_app_protection_the_connector_already_holds_is_no_conflict(
    host: Host, graph: GraphSimulator, tenant_id: str
) -> None:
    seed(
        graph,
        tenant_id,
        {"id": LOOKOUT, "partnerState": "enabled", "androidMobileApplicationManagementEnabled": True},
        {"id": DEFENDER, "partnerState": "enabled"},
    )
    response = put(host, "lookout", {"android": {"appProtectionEvaluation": True}})
    assert response.status_code == 200, response.get_body()
    result = body(response)
    assert result["action"] == "none" and result["changes"] == []
    assert writes(graph) == []


def test_turning_app_protection_off_is_never_refused(
    host: Host, graph: GraphSimulator, tenant_id: str
) -> None:
    seed(
        graph,
        tenant_id,
        {"id": DEFENDER, "androidMobileApplicationManagementEnabled": True},
        {"id": LOOKOUT, "androidMobileApplicationManagementEnabled": True},  # a tenant already in conflict
    )
    response = put(host, "lookout", {"android": {"appProtectionEvaluation": False}})
    assert response.status_code == 200
    assert writes(graph) == [
        ("PATCH", ITEM.format(LOOKOUT), {"androidMobileApplicationManagementEnabled": False})
    ]


def test_beta_only_settings_need_the_beta_endpoint(
    host: Host, graph: GraphSimulator, tenant_id: str, env: Any
) -> None:
    seed(graph, tenant_id, {"id": LOOKOUT})
    found = problem(put(host, "lookout", {"mac": {"complianceEvaluation": True}}), 422)
    assert found["type"] == "urn:mtd-guard:problem:beta-required"
    assert "GRAPH_API_VERSION=beta" in found["detail"]
    assert writes(graph) == []

    env(GRAPH_API_VERSION="beta")
    response = put(host, "lookout", {"mac": {"complianceEvaluation": True}})
    assert response.status_code == 200, response.get_body()
    assert [(r.method, r.version, r.json) for r in graph.requests if r.method == "PATCH"] == [
        ("PATCH", "beta", {"macEnabled": True})
    ]
    result = body(response)
    assert result["after"]["mac"]["complianceEvaluation"] is True
    # beta names the state v1.0 calls unknownFutureValue: the partner's side is still to be done
    assert result["partnerState"] == "notSetUp" and "admin console" in result["nextSteps"][0]


def test_a_platform_the_partner_does_not_offer_is_refused_with_the_reason(
    host: Host, graph: GraphSimulator, tenant_id: str
) -> None:
    seed(graph, tenant_id, {"id": BLACKBERRY})
    found = problem(put(host, "blackberry", {"windows": {"complianceEvaluation": True}}), 422)
    assert found["type"] == "urn:mtd-guard:problem:partner-capability"
    assert "Android and iOS/iPadOS only" in found["detail"]
    assert put(host, "blackberry", {"windows": {"complianceEvaluation": False}}).status_code == 200


def test_graph_refusing_the_write_is_a_502_that_names_the_permission(
    host: Host, graph: GraphSimulator, tenant_id: str
) -> None:
    seed(graph, tenant_id, {"id": LOOKOUT})
    graph.add_fault(Fault(kind="status", method="PATCH", status=403, times=1))
    found = problem(put(host, "lookout", {"appSync": True}), 502)
    assert "DeviceManagementServiceConfig.ReadWrite.All" in found["detail"]
    failed = audit(host, result="failed")["entries"]
    assert failed[0]["status"] == 502 and "ReadWrite.All" in failed[0]["detail"]


# -- concurrency -----------------------------------------------------------------------------


def test_two_configure_calls_at_once_lose_no_update(
    host: Host, graph: GraphSimulator, tenant_id: str
) -> None:
    seed(graph, tenant_id, {"id": LOOKOUT, "partnerState": "enabled"})
    # The first PATCH is slow, so the second request arrives while the first holds the lease.
    graph.add_fault(Fault(kind="slow", method="PATCH", delay_seconds=0.6, times=1))
    services()  # build the shared services once, before the threads
    answers: dict[str, Any] = {}

    def call(name: str, settings: dict[str, Any]) -> None:
        answers[name] = put(host, "lookout", settings)

    first = threading.Thread(target=call, args=("android", {"android": {"complianceEvaluation": True}}))
    second = threading.Thread(target=call, args=("ios", {"ios": {"complianceEvaluation": True}}))
    first.start()
    second.start()
    first.join()
    second.join()
    assert {n: a.status_code for n, a in answers.items()} == {"android": 200, "ios": 200}
    stored = graph.connector(LOOKOUT)
    assert stored is not None and stored["androidEnabled"] is True and stored["iosEnabled"] is True
    patches = [r.json for r in graph.requests if r.method == "PATCH"]
    assert sorted(patches, key=str) == [{"androidEnabled": True}, {"iosEnabled": True}]
    # The later one planned against what the earlier one wrote: its "before" shows that write.
    results = [body(a) for a in answers.values()]
    saw_other = [
        r["before"]["android"]["complianceEvaluation"] or r["before"]["ios"]["complianceEvaluation"]
        for r in results
    ]
    assert sorted(saw_other) == [False, True]
    later = results[saw_other.index(True)]
    assert later["after"]["android"]["complianceEvaluation"] and later["after"]["ios"]["complianceEvaluation"]


class WaitClock:
    """The lease wait's clock (``time.monotonic``/``time.sleep`` as apply.py sees them): sleeping
    moves it on at once, so the production wait is exercised whole without a test waiting for it.
    ``on_sleep`` runs at each poll with the clock's reading in seconds."""

    def __init__(self, on_sleep: Any = None) -> None:
        self.now = 1000.0
        self.started = self.now
        self.on_sleep = on_sleep

    def monotonic(self) -> float:
        return self.now

    def sleep(self, seconds: float) -> None:
        self.now += seconds
        if self.on_sleep is not None:
            self.on_sleep(self.now - self.started)

    @property
    def waited(self) -> float:
        return self.now - self.started


def test_a_configure_call_that_cannot_get_the_lease_in_time_is_409_with_retry_after(
    host: Host, graph: GraphSimulator, tenant_id: str, mocker: MockerFixture
) -> None:
    seed(graph, tenant_id, {"id": LOOKOUT})
    clock = WaitClock()
    mocker.patch.object(configurator, "time", clock)  # the wait's clock: monotonic and sleep
    from shared.clock import now_utc

    holder = ChangeStore(services().store).acquire(tenant_id, now_utc(), configurator.LEASE)
    assert holder is not None
    response = put(host, "lookout", {"appSync": True})
    # It waited the documented 10 s (polling) before giving up, and not a poll longer.
    assert 10.0 <= clock.waited < 10.5
    found = problem(response, 409)
    assert found["type"] == "urn:mtd-guard:problem:concurrent-change"
    assert response.headers["Retry-After"] == "5"
    assert graph.requests == []  # refused before reading anything
    ChangeStore(services().store).release_lease(tenant_id, holder)
    assert put(host, "lookout", {"appSync": True}).status_code == 200


def test_a_configure_call_waits_for_a_lease_released_within_10_seconds(
    host: Host, graph: GraphSimulator, tenant_id: str, mocker: MockerFixture
) -> None:
    from shared.clock import now_utc

    seed(graph, tenant_id, {"id": LOOKOUT})
    store = ChangeStore(services().store)
    holder = store.acquire(tenant_id, now_utc(), configurator.LEASE)
    assert holder is not None

    def first_caller_finishes_late(waited: float) -> None:
        if waited >= 9.5:
            store.release_lease(tenant_id, holder)

    clock = WaitClock(first_caller_finishes_late)
    mocker.patch.object(configurator, "time", clock)  # the wait's clock: monotonic and sleep
    assert put(host, "lookout", {"appSync": True}).status_code == 200
    assert 9.5 <= clock.waited < 10.0


def test_an_expired_lease_of_a_crashed_caller_is_taken_over(
    host: Host, graph: GraphSimulator, tenant_id: str
) -> None:
    from datetime import timedelta

    from shared.clock import now_utc

    seed(graph, tenant_id, {"id": LOOKOUT})
    store = ChangeStore(services().store)
    assert store.acquire(tenant_id, now_utc() - timedelta(minutes=10), configurator.LEASE) is not None
    assert put(host, "lookout", {"appSync": True}).status_code == 200


def test_a_lease_expires_on_the_apps_clock_without_anyone_waiting_for_it(
    host: Host, graph: GraphSimulator, tenant_id: str, mocker: Any
) -> None:
    # The clock stands in (pytest-mock, one patch point for every module): a caller took the lease
    # and crashed; once the app's clock is past the lease, the next call takes it over at once.
    from datetime import timedelta

    from shared.clock import now_utc

    seed(graph, tenant_id, {"id": LOOKOUT})
    taken = now_utc()
    assert ChangeStore(services().store).acquire(tenant_id, taken, configurator.LEASE) is not None
    mocker.patch("shared.clock.system_now", return_value=taken + configurator.LEASE + timedelta(seconds=1))
    response = put(host, "lookout", {"appSync": True})
    assert response.status_code == 200
    assert body(response)["applied"] is True


# -- idempotency -----------------------------------------------------------------------------


def test_same_idempotency_key_returns_the_first_response_and_writes_once(
    host: Host, graph: GraphSimulator, tenant_id: str
) -> None:
    seed(graph, tenant_id, {"id": LOOKOUT})
    headers = {"Idempotency-Key": "CHG0031234-1"}
    first = put(host, "lookout", {"appSync": True}, headers=headers)
    second = put(host, "lookout", {"appSync": True}, headers=headers)
    assert first.status_code == second.status_code == 200
    assert second.get_body() == first.get_body()
    assert second.headers["Idempotent-Replayed"] == "true"
    assert "Idempotent-Replayed" not in first.headers
    assert len(writes(graph)) == 1
    # A replay is not a second change: one audit entry.
    assert len(audit(host)["entries"]) == 1

    reused = problem(put(host, "lookout", {"appSync": False}, headers=headers), 422)
    assert "different request" in reused["detail"]
    assert len(writes(graph)) == 1


def test_a_refusal_is_replayed_too_but_a_busy_answer_is_not(
    host: Host, graph: GraphSimulator, tenant_id: str
) -> None:
    seed(graph, tenant_id, {"id": LOOKOUT})
    headers = {"Idempotency-Key": "k-400"}
    assert put(host, "lookout", {"appSync": "on"}, headers=headers).status_code == 400
    again = put(host, "lookout", {"appSync": "on"}, headers=headers)
    assert again.status_code == 400 and again.headers["Idempotent-Replayed"] == "true"

    # Graph failing (here: the permission not yet granted) is a 5xx: not kept, a retry runs.
    graph.add_fault(Fault(kind="status", method="GET", status=403, times=1))
    headers = {"Idempotency-Key": "k-502"}
    assert put(host, "lookout", {"appSync": True}, headers=headers).status_code == 502
    retried = put(host, "lookout", {"appSync": True}, headers=headers)  # the retry runs for real
    assert retried.status_code == 200 and "Idempotent-Replayed" not in retried.headers


def test_two_concurrent_deliveries_with_one_key_write_once_and_answer_alike(
    host: Host, graph: GraphSimulator, tenant_id: str
) -> None:
    seed(graph, tenant_id, {"id": LOOKOUT})
    graph.add_fault(Fault(kind="slow", method="PATCH", delay_seconds=0.5, times=1))
    services()
    answers: list[Any] = []

    def deliver() -> None:
        answers.append(put(host, "lookout", {"appSync": True}, headers={"Idempotency-Key": "same"}))

    threads = [threading.Thread(target=deliver) for _ in range(2)]
    for t in threads:
        t.start()
    for t in threads:
        t.join()
    assert [a.status_code for a in answers] == [200, 200]
    assert answers[0].get_body() == answers[1].get_body()
    assert sorted(a.headers.get("Idempotent-Replayed", "no") for a in answers) == ["no", "true"]
    assert len(writes(graph)) == 1


# -- the audit trail -------------------------------------------------------------------------


def test_audit_trail_records_who_ticket_before_after_and_pages(
    host: Host, graph: GraphSimulator, tenant_id: str, env: Any
) -> None:
    env(REQUIRE_ENTRA_ROLE="true", WEBSITE_AUTH_ENABLED="True")
    seed(graph, tenant_id, {"id": LOOKOUT}, {"id": DEFENDER})
    bob = principal_header("MtdGuard.Operator", name="bob@contoso.com")
    operator = {
        **principal_header("MtdGuard.Operator", name="alice@contoso.com"),
        "X-Ticket-Reference": "OPS-7",
    }
    put(host, "lookout", {"appSync": True}, headers=operator)
    put(host, "lookout", {"appSync": "yes"}, headers=operator)  # refused: 400
    put(host, "defender", {"ios": {"complianceEvaluation": True}}, headers=bob)

    everything = audit(host)
    assert [(e["targetName"], e["result"]) for e in everything["entries"]] == [
        ("Microsoft Defender for Endpoint", "applied"),
        ("Lookout for Work", "refused"),
        ("Lookout for Work", "applied"),
    ]
    applied = everything["entries"][2]
    assert applied["who"] == "alice@contoso.com" and applied["principalId"] == "1111"
    assert applied["via"] == "api" and applied["ticket"] == "OPS-7" and applied["status"] == 200
    assert applied["before"]["appSync"] is False and applied["after"]["appSync"] is True
    assert applied["changes"][0]["property"] == "allowPartnerToCollectIOSApplicationMetadata"
    assert everything["entries"][0]["who"] == "bob@contoso.com"

    assert [e["result"] for e in audit(host, connector="lookout")["entries"]] == ["refused", "applied"]
    assert [e["status"] for e in audit(host, result="refused")["entries"]] == [400]
    assert len(audit(host, ticket="OPS-7")["entries"]) == 2
    since = everything["entries"][1]["at"]
    assert len(audit(host, since=since)["entries"]) == 2
    assert len(audit(host, until=since)["entries"]) == 1

    page1 = audit(host, limit="2")
    assert len(page1["entries"]) == 2 and page1["continuationToken"]
    page2 = audit(host, limit="2", continuationToken=page1["continuationToken"])
    assert [e["id"] for e in page2["entries"]] == [everything["entries"][2]["id"]]
    assert page2["continuationToken"] is None


@pytest.mark.parametrize(
    ("params", "words"),
    [
        ({"result": "ok"}, "result must be one of"),
        ({"since": "yesterday"}, "ISO 8601"),
        ({"limit": "0"}, "between 1 and 500"),
        ({"continuationToken": "garbage!"}, "not one this API returned"),
    ],
)
def test_audit_filters_are_validated(host: Host, params: dict[str, str], words: str) -> None:
    response = host.http("audit_list", "GET", "/api/audit", params=params)
    assert words in problem(response, 400)["detail"]


def test_a_continuation_token_only_works_with_its_own_filters(
    host: Host, graph: GraphSimulator, tenant_id: str
) -> None:
    seed(graph, tenant_id, {"id": LOOKOUT})
    put(host, "lookout", {"appSync": True})
    put(host, "lookout", {"appSync": False})
    token = audit(host, limit="1")["continuationToken"]
    response = host.http(
        "audit_list",
        "GET",
        "/api/audit",
        params={"limit": "1", "continuationToken": token, "result": "refused"},
    )
    assert "same filters" in problem(response, 400)["detail"]


# -- roles -----------------------------------------------------------------------------------


def test_with_entra_roles_required_a_reader_may_read_the_audit_but_not_configure(
    host: Host, graph: GraphSimulator, tenant_id: str, env: Any
) -> None:
    env(REQUIRE_ENTRA_ROLE="true", WEBSITE_AUTH_ENABLED="True")
    seed(graph, tenant_id, {"id": LOOKOUT})
    reader = principal_header("MtdGuard.Reader", name="auditor@contoso.com")
    refused = problem(put(host, "lookout", {"appSync": True}, headers=reader), 403)
    assert refused["requiredRole"] == "MtdGuard.Operator"
    assert problem(put(host, "lookout", {"appSync": True}), 401)  # no principal at all
    webhook = host.http(
        "hook_receive",
        "POST",
        "/api/hooks/generic",
        route_params={"source": "generic"},
        body={"action": "check"},
        headers=reader,
    )
    assert webhook.status_code == 403
    assert graph.requests == []
    operator = principal_header("MtdGuard.Operator", name="ops@contoso.com")
    assert put(host, "lookout", {"appSync": True}, headers=operator).status_code == 200
    reading = host.http("audit_list", "GET", "/api/audit", headers=reader)
    assert reading.status_code == 200
    assert [e["who"] for e in body(reading)["entries"]] == ["ops@contoso.com"]
    assert host.http("openapi", "GET", "/api/openapi.json", headers=reader).status_code == 200


def test_a_connector_created_meanwhile_elsewhere_is_patched_instead(
    host: Host, graph: GraphSimulator, tenant_id: str
) -> None:
    # Our read says "absent" (someone creates it in the admin center right after): the POST then
    # meets 409 and only the differences are patched.
    seed(graph, tenant_id, {"id": LOOKOUT, "androidEnabled": True})
    graph.add_fault(Fault(kind="status", method="GET", status=404, times=1))
    response = put(host, "lookout", {"android": {"complianceEvaluation": True}, "appSync": True})
    assert response.status_code == 200, response.get_body()
    assert [(m, p) for m, p, _ in writes(graph)] == [("POST", COLLECTION), ("PATCH", ITEM.format(LOOKOUT))]
    assert writes(graph)[1][2] == {"allowPartnerToCollectIOSApplicationMetadata": True}
    assert body(response)["notes"] == [
        "the connector appeared while this request ran; only the differences were patched"
    ]


def test_an_idempotency_key_is_free_again_after_24_hours_or_when_its_first_delivery_died(
    azurite: Any, env: Any, tenant_id: str
) -> None:
    from datetime import timedelta

    from shared.clock import now_utc
    from shared.store.changes import ClaimState, StoredResponse

    store = ChangeStore(services().store)
    now = now_utc()
    assert store.claim(tenant_id, "idem|a", "f1", now).state is ClaimState.CLAIMED
    store.complete(tenant_id, "idem|a", StoredResponse(200, b'{"ok": true}', "application/json"), now)
    replay = store.claim(tenant_id, "idem|a", "f1", now + timedelta(hours=23))
    assert replay.state is ClaimState.DONE and replay.response is not None
    assert replay.response.body == b'{"ok": true}'
    assert store.claim(tenant_id, "idem|a", "f1", now + timedelta(hours=25)).state is ClaimState.CLAIMED

    assert store.claim(tenant_id, "idem|b", "f2", now).state is ClaimState.CLAIMED
    assert store.claim(tenant_id, "idem|b", "f2", now + timedelta(minutes=1)).state is ClaimState.PENDING
    assert store.claim(tenant_id, "idem|b", "f2", now + timedelta(minutes=6)).state is ClaimState.CLAIMED


def test_a_large_first_response_is_kept_whole(azurite: Any, env: Any, tenant_id: str) -> None:
    import os

    from shared.clock import now_utc
    from shared.store.changes import ClaimState, StoredResponse

    store = ChangeStore(services().store)
    big = os.urandom(150_000)  # incompressible: three binary properties
    assert store.claim(tenant_id, "idem|big", "f", now_utc()).state is ClaimState.CLAIMED
    store.complete(tenant_id, "idem|big", StoredResponse(200, big, "application/json"), now_utc())
    replay = store.claim(tenant_id, "idem|big", "f", now_utc())
    assert replay.response is not None and replay.response.body == big


def test_without_entra_authentication_a_client_sent_principal_is_not_believed(
    host: Host, graph: GraphSimulator, tenant_id: str
) -> None:
    seed(graph, tenant_id, {"id": LOOKOUT})
    forged = principal_header("MtdGuard.Operator", name="ceo@contoso.com")
    assert put(host, "lookout", {"appSync": True}, headers=forged).status_code == 200
    entry = audit(host)["entries"][0]
    assert entry["who"] == "function key caller" and entry["principalId"] is None


def test_an_id_outside_the_catalog_is_created_with_a_note_that_intune_decides_whether_it_is_valid(
    host: Host, graph: GraphSimulator, tenant_id: str
) -> None:
    unknown = "7d9a6c1e-0000-4000-8000-00000000beef"
    seed(graph, tenant_id)
    created = put(host, unknown, {"appSync": True})
    assert created.status_code == 200, created.get_body()
    assert body(created)["action"] == "create"
    assert any("does not know partner" in n and "Intune decides" in n for n in body(created)["notes"])
    assert [w[:2] for w in writes(graph)] == [("POST", ITEM.format("")[:-1])]
    seed(graph, tenant_id, {"id": unknown})  # a partner newer than the catalog, already connected
    assert put(host, unknown, {"appSync": True}).status_code == 200
    assert writes(graph) == [
        ("PATCH", ITEM.format(unknown), {"allowPartnerToCollectIOSApplicationMetadata": True})
    ]
    assert problem(put(host, "not-a-partner", {"appSync": True}), 404)["type"].endswith("unknown-partner")


WSC_DEFAULT = "e6f777f8-e4c2-4a5b-be01-50b5c124bc7f"
WSC_SECOND = "c2b688fe-48c0-464b-a89c-67041aa8fcb2"


def test_windows_security_center_resolves_to_the_id_the_tenant_has(
    host: Host, graph: GraphSimulator, tenant_id: str
) -> None:
    seed(graph, tenant_id, {"id": WSC_SECOND})
    asked = {"windows": {"complianceEvaluation": True}}
    plan = put(host, "windows-security-center", asked, params={"dryRun": "true"})
    assert plan.status_code == 200, plan.get_body()
    assert body(plan)["action"] == "update" and body(plan)["connectorId"] == WSC_SECOND
    done = put(host, "windows-security-center", asked)
    assert done.status_code == 200, done.get_body()
    assert [w[:2] for w in writes(graph)] == [("PATCH", ITEM.format(WSC_SECOND))]
    assert graph.connector(WSC_DEFAULT) is None
    assert host.http("checks_run", "POST", "/api/checks/heartbeat").status_code == 200
    read = host.http(
        "connector_get",
        "GET",
        "/api/connectors/windows-security-center",
        route_params={"partner": "windows-security-center"},
    )
    assert read.status_code == 200, read.get_body()
    assert body(read)["id"] == WSC_SECOND

    seed(graph, tenant_id)  # neither id: created under the default, saying it is unconfirmed
    fresh = body(put(host, "windows-security-center", asked, params={"dryRun": "true"}))
    assert fresh["action"] == "create" and fresh["connectorId"] == WSC_DEFAULT
    assert any("unconfirmed" in n and WSC_SECOND in n for n in fresh["notes"])
