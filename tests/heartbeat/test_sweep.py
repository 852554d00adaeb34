"""Heartbeat monitoring end to end: functions called as the host calls them, real Azurite, the
Graph simulator answering like Graph, a local webhook receiver taking the alerts."""

from __future__ import annotations

import asyncio
import hashlib
import hmac
from typing import Any

from pytest_mock import MockerFixture

from graphsim import Fault, GraphSimulator
from graphsim.faults import FaultKind
from tests.conftest import DEFENDER, LOOKOUT, ZIMPERIUM, Host, body
from tests.support.receiver import Receiver
from tests.support.scenarios import connector, load
from tests.support.stores import ActsAfterFirstRead

UNKNOWN_ID = "7d9a6c1e-0000-4000-8000-00000000beef"


def sweep(host: Host) -> dict[str, Any]:
    response = host.http("checks_run", "POST", "/api/checks/heartbeat")
    assert response.status_code == 200
    assert response.mimetype == "application/json"
    result: dict[str, Any] = body(response)
    return result


def by_partner(result: dict[str, Any]) -> dict[str, dict[str, Any]]:
    return {c["partner"]: c for c in result["connectors"]}


def graph_gets(graph: GraphSimulator) -> list[Any]:
    return [r for r in graph.requests if r.method == "GET" and "mobileThreatDefenseConnectors" in r.path]


def test_sweep_judges_each_connector_and_the_list_serves_the_stored_result(
    host: Host, graph: GraphSimulator, tenant_id: str
) -> None:
    load(
        graph,
        tenant_id,
        connector(DEFENDER, "now-20m"),
        connector(LOOKOUT, "now-8.2d", state="unresponsive"),
        connector(ZIMPERIUM, "now-40h", threshold=3),
        connector(UNKNOWN_ID, "now-1h", threshold=None),
    )
    result = sweep(host)
    assert result["ok"] and result["recorded"]
    health = {name: c["health"] for name, c in by_partner(result).items()}
    assert health == {
        "Microsoft Defender for Endpoint": "healthy",
        "Lookout for Work": "unresponsive",
        "Zimperium": "warning",
        f"unknown partner {UNKNOWN_ID}": "healthy",
    }

    graph.clear_requests()
    listed = host.http("connectors_list", "GET", "/api/connectors")
    assert listed.status_code == 200
    data = body(listed)
    assert graph_gets(graph) == []  # served from storage, not a live Graph call
    assert data["tenantId"] == tenant_id
    assert data["checkedAt"] == result["checkedAt"]
    lookout = next(c for c in data["connectors"] if c["id"] == LOOKOUT)
    assert {
        "id",
        "partner",
        "partnerState",
        "lastHeartbeatDateTime",
        "thresholdDays",
        "heartbeatAgeHours",
        "health",
        "reason",
    } <= set(lookout)
    assert lookout["thresholdDays"] == 7
    assert 196 <= lookout["heartbeatAgeHours"] <= 197  # 8.2 days
    assert lookout["reason"].startswith("last heartbeat 8.2 days ago; threshold 7 days")
    unknown = next(c for c in data["connectors"] if c["id"] == UNKNOWN_ID)
    assert unknown["thresholdSource"] == "default"


def test_connector_get_by_slug_or_id_includes_recent_history(
    host: Host, graph: GraphSimulator, tenant_id: str
) -> None:
    load(graph, tenant_id, connector(LOOKOUT, "now-2h"))
    host.timer("heartbeat_monitor")
    load(graph, tenant_id, connector(LOOKOUT, "now-30h"))
    host.timer("heartbeat_monitor")

    by_slug = host.http(
        "connector_get", "GET", "/api/connectors/lookout", route_params={"partner": "lookout"}
    )
    assert by_slug.status_code == 200
    data = body(by_slug)
    assert data["partner"] == "Lookout for Work"
    assert data["health"] == "warning"
    assert [h["health"] for h in data["history"]] == ["warning", "healthy"]  # newest first

    by_id = host.http(
        "connector_get",
        "GET",
        f"/api/connectors/{LOOKOUT.upper()}",
        route_params={"partner": LOOKOUT.upper()},
    )
    assert body(by_id)["id"] == LOOKOUT
    limited = host.http(
        "connector_get",
        "GET",
        "/api/connectors/lookout",
        route_params={"partner": "lookout"},
        params={"historyLimit": "1"},
    )
    assert len(body(limited)["history"]) == 1


def test_alerts_once_per_change_signed_and_again_on_recovery(
    host: Host, env: Any, graph: GraphSimulator, tenant_id: str, receiver: Receiver
) -> None:
    env(ALERT_WEBHOOK_URL=receiver.url, ALERT_WEBHOOK_SECRET="test-signing-key")
    load(graph, tenant_id, connector(DEFENDER, "now-5m"), connector(LOOKOUT, "now-8d"))

    sweep(host)
    assert len(receiver.received) == 1  # the healthy connector's first sighting is not news
    first = receiver.received[0]
    alert = first.json
    assert alert["connectorId"] == LOOKOUT and alert["partner"] == "Lookout for Work"
    assert alert["previousHealth"] is None and alert["health"] == "unresponsive"
    assert alert["severity"] == "high" and alert["tenantId"] == tenant_id
    assert {"alertId", "reason", "detectedAt"} <= set(alert)
    # HMAC-SHA256 of the exact body, hex, as a receiver computes it (not the product's own sign()).
    expected = "sha256=" + hmac.new(b"test-signing-key", first.body, hashlib.sha256).hexdigest()
    assert first.headers["x-mtdguard-signature"] == expected

    sweep(host)
    sweep(host)
    assert len(receiver.received) == 1  # same state: no alert per sweep

    load(graph, tenant_id, connector(DEFENDER, "now-5m"), connector(LOOKOUT, "now-1m"))
    result = sweep(host)
    assert len(receiver.received) == 2
    recovery = receiver.received[1].json
    assert (recovery["previousHealth"], recovery["health"], recovery["severity"]) == (
        "unresponsive",
        "healthy",
        "info",
    )
    assert recovery["alertId"] != alert["alertId"]
    assert result["alertsRaised"][0]["alertId"] == recovery["alertId"]


def test_failed_delivery_stays_pending_and_arrives_next_run_with_the_same_id(
    host: Host, env: Any, graph: GraphSimulator, tenant_id: str, receiver: Receiver
) -> None:
    env(ALERT_WEBHOOK_URL=receiver.url)
    load(graph, tenant_id, connector(LOOKOUT, "now-9d"))
    receiver.fail_with = 503
    first = sweep(host)
    assert first["delivery"]["failed"] == 1 and first["delivery"]["delivered"] == 0
    assert "HTTP 503" in first["delivery"]["errors"][0]
    assert receiver.url not in str(first)  # the URL may carry a token: never echoed
    raised_id = first["alertsRaised"][0]["alertId"]

    receiver.fail_with = None
    second = sweep(host)
    assert second["alertsRaised"] == []  # nothing new happened
    assert second["delivery"]["delivered"] == 1
    assert [p["alertId"] for p in receiver.payloads()] == [raised_id]

    sweep(host)
    assert len(receiver.received) == 1  # delivered alerts are not sent again


def test_a_429_with_retry_after_is_waited_out_by_the_sdk_middleware(
    host: Host, graph: GraphSimulator, tenant_id: str, mocker: MockerFixture
) -> None:
    load(graph, tenant_id, connector(LOOKOUT, "now-1h"))
    graph.add_fault(
        Fault(
            kind="status",
            status=429,
            retry_after=1,
            times=1,
            path="/deviceManagement/mobileThreatDefenseConnectors",
        )
    )
    waits = mocker.spy(asyncio, "sleep")  # what the SDK's retry middleware (kiota) waits for
    result = sweep(host)
    assert result["ok"], result["problems"]
    assert [c["health"] for c in result["connectors"]] == ["healthy"]
    statuses = [r.status for r in graph_gets(graph)]
    assert statuses == [429, 200]
    assert [c.args[0] for c in waits.call_args_list if c.args] == [1]  # Retry-After: 1, before the retry


def test_paging_is_followed_to_the_end(host: Host, graph: GraphSimulator, tenant_id: str) -> None:
    ids = [f"00000000-0000-4000-8000-{n:012d}" for n in range(5)]
    load(graph, tenant_id, *(connector(i, "now-1h") for i in ids), page_size=2)
    result = sweep(host)
    assert sorted(c["id"] for c in result["connectors"]) == ids
    assert len(graph_gets(graph)) == 3


def test_one_malformed_connector_does_not_abort_the_others(
    host: Host, graph: GraphSimulator, tenant_id: str
) -> None:
    load(
        graph,
        tenant_id,
        connector(DEFENDER, "now-1h"),
        # msgraph-sdk's own model parse raises on this timestamp and fails the whole list.
        connector(LOOKOUT, "not-a-date", state="bogusState", threshold="seven"),
        connector(ZIMPERIUM, "now-10d"),
    )
    result = sweep(host)
    health = {c["id"]: c["health"] for c in result["connectors"]}
    assert health == {DEFENDER: "healthy", LOOKOUT: "unknown", ZIMPERIUM: "unresponsive"}
    lookout = next(c for c in result["connectors"] if c["id"] == LOOKOUT)
    assert lookout["reason"].startswith("lastHeartbeatDateTime 'not-a-date' is not a timestamp")
    assert result["ok"] and result["recorded"]


def test_graph_403_becomes_one_finding_and_one_alert_then_resolves(
    host: Host, env: Any, graph: GraphSimulator, tenant_id: str, receiver: Receiver
) -> None:
    env(ALERT_WEBHOOK_URL=receiver.url)
    load(graph, tenant_id, connector(LOOKOUT, "now-1h"))
    graph.add_fault(
        Fault(
            kind="status",
            status=403,
            code="Forbidden",
            message="Application is not authorized",
            times=None,
        )
    )
    failed = sweep(host)
    assert not failed["ok"]
    problem = failed["problems"][0]
    assert problem.startswith("could not read connectors: 403 Forbidden")
    assert "grant the application permission DeviceManagementServiceConfig.Read.All" in problem
    assert [p["kind"] for p in receiver.payloads()] == ["graphAccess"]
    assert receiver.payloads()[0]["severity"] == "high"

    sweep(host)
    assert len(receiver.received) == 1  # still failing: no second alert

    graph.clear_faults()
    recovered = sweep(host)
    assert recovered["ok"]
    assert [(p["kind"], p["severity"]) for p in receiver.payloads()] == [
        ("graphAccess", "high"),
        ("graphAccess", "info"),
    ]


def test_transport_faults_become_readable_problems_not_crashes(
    host: Host, graph: GraphSimulator, tenant_id: str
) -> None:
    load(graph, tenant_id, connector(LOOKOUT, "now-1h"))
    expectations: dict[FaultKind, str] = {
        "malformed": "the response is not JSON",
        "drop": "ConnectionFailed",
    }
    for kind, expected in expectations.items():
        graph.clear_faults()
        graph.add_fault(Fault(kind=kind, times=None))
        result = sweep(host)
        assert not result["ok"]
        assert expected in result["problems"][0], result["problems"]
    graph.clear_faults()
    graph.add_fault(Fault(kind="status", status=503, retry_after=1, times=None))
    result = sweep(host)
    # Issue 10: a 503 is a service fault, transient: said as such, retried next sweep.
    assert result["problems"] == [
        "Microsoft Graph failed on the connector list (503 Service Unavailable) 4 times; retrying next sweep"
    ]
    assert len([r for r in graph_gets(graph) if r.status == 503]) == 4  # the SDK retried 3 times


def test_storage_outage_is_reported_and_the_change_is_caught_next_time(
    host: Host, env: Any, graph: GraphSimulator, tenant_id: str, receiver: Receiver, azurite: Any
) -> None:
    load(graph, tenant_id, connector(LOOKOUT, "now-9d"))
    env(
        ALERT_WEBHOOK_URL=receiver.url,
        AzureWebJobsStorage=azurite.connection_string.replace(str(azurite.port), "1"),
    )
    down = host.http("checks_run", "POST", "/api/checks/heartbeat")
    # Nothing recorded: 503 problem+json (a caller retries), saying why and leaking no key.
    assert down.status_code == 503
    assert "nothing was recorded: state storage unavailable" in body(down)["detail"]
    assert "AccountKey" not in down.get_body().decode()

    env(ALERT_WEBHOOK_URL=receiver.url)
    up = sweep(host)
    assert up["recorded"]
    assert [p["health"] for p in receiver.payloads()] == ["unresponsive"]


def test_a_failed_read_shows_in_the_list_until_a_sweep_succeeds(
    host: Host, graph: GraphSimulator, tenant_id: str
) -> None:
    load(graph, tenant_id, connector(LOOKOUT, "now-1h"))
    sweep(host)
    graph.add_fault(Fault(kind="status", status=403, times=1))
    sweep(host)
    listed = body(host.http("connectors_list", "GET", "/api/connectors"))
    assert listed["problems"][0].startswith("could not read connectors: 403 Forbidden")
    assert [c["health"] for c in listed["connectors"]] == ["healthy"]  # last known, with its own checkedAt
    sweep(host)
    assert body(host.http("connectors_list", "GET", "/api/connectors"))["problems"] == []


def test_history_keeps_every_observation_within_the_retention_only(
    host: Host, env: Any, graph: GraphSimulator, tenant_id: str, mocker: MockerFixture
) -> None:
    from datetime import datetime, timedelta

    from shared.alerting.stored import query_alerts
    from shared.clock import now_utc
    from shared.context import services
    from shared.heartbeat.plan import LegacyObservation
    from shared.heartbeat.sweep import history, run_heartbeat_sweep

    env(HISTORY_RETENTION_DAYS="30")
    s = services()
    now = now_utc()

    def iso(at: datetime) -> str:
        return at.strftime("%Y-%m-%dT%H:%M:%SZ")

    for days_ago in (45, 41, 20, 10):
        moment = now - timedelta(days=days_ago)
        # Each sweep sees a new heartbeat (an hour old), so each writes an observation (a sweep that
        # sees nothing new writes none); from 20 days ago Lookout's stays 25 days old: 5 days old
        # then (a warning, alerted), 15 days old 10 days ago (unresponsive, alerted).
        lookout = iso(now - timedelta(days=25)) if days_ago <= 20 else iso(moment - timedelta(hours=1))
        load(
            graph,
            tenant_id,
            connector(LOOKOUT, lookout),
            connector(DEFENDER, iso(moment - timedelta(hours=1))),
        )
        result = run_heartbeat_sweep(
            s.settings, s.graph, s.store, s.channels, tenant_id=tenant_id, now=moment
        )
        assert result.recorded
    # Rows of the layout before issue 15 (<connector>|<inverted ticks>) are read and pruned alike.
    old = [
        LegacyObservation(LOOKOUT, now - timedelta(days=d), "healthy", "enabled", None, 1.0, 7, "ok")
        for d in (44, 15)
    ]
    s.store.commit(tenant_id, [[o] for o in old])
    assert len(history(s.store, tenant_id, LOOKOUT)) == 6  # sweeps no longer prune
    # The daily prune, run 10 days ago, removed what was older than 30 days then, except each
    # connector's newest such row (what it was when the window opened: 41 days ago): the
    # observations from 45 and 44 days ago went; 20 and 15 days ago were still within 30 days.
    mocker.patch("shared.clock.system_now", return_value=now - timedelta(days=10))
    host.timer("prune_history")
    kept = [o.checked_at for o in history(s.store, tenant_id, LOOKOUT)]
    assert kept == [now - timedelta(days=d) for d in (10, 15, 20, 41)]
    assert [o.checked_at for o in history(s.store, tenant_id, DEFENDER)] == [
        now - timedelta(days=d) for d in (10, 20, 41)
    ]
    # Alerts with nothing left to deliver follow the same retention: the changes 20 and 10 days
    # ago are kept (the first sightings, healthy, said nothing).
    kept_alerts = sorted((a.detected_at, a.details["health"]) for a in query_alerts(s.store, tenant_id))
    assert kept_alerts == [(now - timedelta(days=20), "warning"), (now - timedelta(days=10), "unresponsive")]


def test_a_connector_unchanged_for_longer_than_the_retention_keeps_its_last_observation(
    host: Host, env: Any, graph: GraphSimulator, tenant_id: str, mocker: MockerFixture
) -> None:
    from datetime import timedelta

    from shared.clock import now_utc
    from shared.context import services
    from shared.heartbeat.sweep import history, run_heartbeat_sweep

    env(HISTORY_RETENTION_DAYS="30")
    s = services()
    now = now_utc()
    load(graph, tenant_id, connector(ZIMPERIUM, None, state="available"))  # never set up
    for days_ago in (40, 35, 1):  # the same every time: one observation, from the first sweep
        moment = now - timedelta(days=days_ago)
        assert run_heartbeat_sweep(
            s.settings, s.graph, s.store, s.channels, tenant_id=tenant_id, now=moment
        ).recorded
    host.timer("prune_history")
    assert [o.checked_at for o in history(s.store, tenant_id, ZIMPERIUM)] == [now - timedelta(days=40)]


def lookout_unresponsive_then_deleted(host: Host, graph: GraphSimulator, tenant_id: str) -> None:
    """Two sweeps: Lookout unresponsive beside a healthy Defender, then Lookout deleted in Intune."""
    load(graph, tenant_id, connector(DEFENDER, "now-5m"), connector(LOOKOUT, "now-9d"))
    sweep(host)
    load(graph, tenant_id, connector(DEFENDER, "now-5m"))
    sweep(host)


def test_a_connector_deleted_in_intune_is_said_once_and_leaves_the_list(
    host: Host, env: Any, graph: GraphSimulator, tenant_id: str, receiver: Receiver
) -> None:
    env(ALERT_WEBHOOK_URL=receiver.url)
    lookout_unresponsive_then_deleted(host, graph, tenant_id)
    sweep(host)
    removal = receiver.payloads()[-1]
    assert [p["health"] for p in receiver.payloads()] == ["unresponsive", "removed"]
    assert (removal["partner"], removal["previousHealth"], removal["severity"]) == (
        "Lookout for Work",
        "unresponsive",
        "warning",
    )
    assert "no longer exists in Intune" in removal["reason"]
    listed = body(host.http("connectors_list", "GET", "/api/connectors"))
    assert [c["id"] for c in listed["connectors"]] == [DEFENDER]


def test_an_acknowledgement_made_while_a_sweep_runs_is_not_undone(
    host: Host, env: Any, graph: GraphSimulator, tenant_id: str, receiver: Receiver
) -> None:
    from shared.context import services
    from shared.findings.model import FINDING_ROWS, FindingStatus, acknowledge, finding_id
    from shared.findings.stored import stored_findings
    from shared.heartbeat.sweep import run_heartbeat_sweep

    env(ALERT_WEBHOOK_URL=receiver.url)
    load(graph, tenant_id, connector(LOOKOUT, "now-9d"))
    sweep(host)  # Lookout unresponsive: finding open, one alert
    lookout_finding = finding_id("heartbeat", LOOKOUT)
    s = services()

    def person_acks() -> None:  # right after the sweep's first read
        mine = stored_findings(s.store, tenant_id)[lookout_finding]
        acked = acknowledge(mine, note="vendor ticket 4711", who="ops@contoso.com", now=mine.last_seen)
        s.store.commit(tenant_id, [[acked]])

    store = ActsAfterFirstRead(s.store._service, FINDING_ROWS, person_acks)
    load(graph, tenant_id, connector(LOOKOUT, "now-40h"))  # recovering: unresponsive -> warning
    result = run_heartbeat_sweep(s.settings, s.graph, store, s.channels, tenant_id=tenant_id)

    assert result.ok and result.recorded
    stored = stored_findings(s.store, tenant_id)[lookout_finding]
    assert stored.status is FindingStatus.ACKNOWLEDGED and stored.note == "vendor ticket 4711"
    assert "40.0 hours ago" in stored.message  # the sweep's news still landed, on the acknowledged finding
    assert [p["health"] for p in receiver.payloads()] == ["unresponsive"]  # acknowledged: no new alert


def test_an_acknowledged_problem_that_recovers_still_sends_the_recovery_alert(
    host: Host, env: Any, graph: GraphSimulator, tenant_id: str, receiver: Receiver
) -> None:
    # The recovery alert is what closes the ServiceNow/Jira ticket: an acknowledgement silences the
    # moves between unhealthy states, never the recovery.
    env(ALERT_WEBHOOK_URL=receiver.url)
    load(graph, tenant_id, connector(LOOKOUT, "now-9d"))
    sweep(host)
    fid = f"heartbeat.{LOOKOUT}"
    acked = host.http(
        "finding_acknowledge",
        "POST",
        f"/api/findings/{fid}/ack",
        route_params={"id": fid},
        body={"note": "vendor ticket 4711"},
    )
    assert acked.status_code == 200 and body(acked)["status"] == "acknowledged"

    load(graph, tenant_id, connector(LOOKOUT, "now-40h"))  # better, still not healthy
    sweep(host)
    assert [p["health"] for p in receiver.payloads()] == ["unresponsive"]

    load(graph, tenant_id, connector(LOOKOUT, "now-1m"))
    recovered = sweep(host)
    assert [(p["previousHealth"], p["health"], p["severity"]) for p in receiver.payloads()] == [
        (None, "unresponsive", "high"),
        ("warning", "healthy", "info"),
    ]
    assert recovered["alertsRaised"][0]["alertId"] == receiver.payloads()[-1]["alertId"]


def test_health_since_is_when_the_health_began_not_the_last_sweep(
    host: Host, graph: GraphSimulator, tenant_id: str
) -> None:
    from datetime import timedelta

    from shared.clock import now_utc
    from shared.context import services
    from shared.heartbeat.sweep import run_heartbeat_sweep

    s = services()
    now = now_utc().replace(microsecond=0)

    def sweep_at(hours_ago: int) -> None:
        at = now - timedelta(hours=hours_ago)
        assert run_heartbeat_sweep(
            s.settings, s.graph, s.store, s.channels, now=at, tenant_id=s.settings.tenant_id
        ).recorded

    def lookout() -> dict[str, Any]:
        response = host.http(
            "connector_get", "GET", "/api/connectors/lookout", route_params={"partner": "lookout"}
        )
        assert response.status_code == 200
        found: dict[str, Any] = body(response)
        return found

    load(graph, tenant_id, connector(LOOKOUT, "now-9d"))
    sweep_at(3)
    sweep_at(2)
    seen = lookout()
    assert seen["health"] == "unresponsive"
    assert seen["checkedAt"] == (now - timedelta(hours=2)).isoformat().replace("+00:00", "Z")
    assert seen["healthSince"] == (now - timedelta(hours=3)).isoformat().replace("+00:00", "Z")

    load(graph, tenant_id, connector(LOOKOUT, "now-5m"))
    sweep_at(1)
    assert lookout()["healthSince"] == (now - timedelta(hours=1)).isoformat().replace("+00:00", "Z")


def test_a_connector_deleted_and_re_created_healthy_is_not_announced_as_recovered(
    host: Host, env: Any, graph: GraphSimulator, tenant_id: str, receiver: Receiver
) -> None:
    env(ALERT_WEBHOOK_URL=receiver.url)
    lookout_unresponsive_then_deleted(host, graph, tenant_id)
    load(graph, tenant_id, connector(DEFENDER, "now-5m"), connector(LOOKOUT, "now-5m"))  # re-created
    again = sweep(host)
    # A new connector seen healthy is a first sighting, not the recovery of the deleted one.
    assert [p["health"] for p in receiver.payloads()] == ["unresponsive", "removed"]
    assert again["alertsRaised"] == []
    assert by_partner(again)["Lookout for Work"]["health"] == "healthy"


def test_a_status_storage_refuses_is_a_problem_the_record_holds_and_no_success(
    host: Host, graph: GraphSimulator, tenant_id: str
) -> None:
    # Storage refusing one connector's rows (StoreRejected) costs only that connector, and the
    # sweep's record, written after the others, says so and claims no success for the run.
    from shared.context import services
    from shared.heartbeat.plan import ConnectorStatus
    from shared.heartbeat.sweep import last_sweep, run_heartbeat_sweep
    from shared.job_runs import Job
    from shared.store.state import StateStore, StoreRejected

    class RefusesDefender(StateStore):
        def commit(self, tenant_id: str, groups: Any) -> None:
            groups = list(groups)
            rows = [row for group in groups for row in group]
            if any(isinstance(r, ConnectorStatus) and r.id == DEFENDER for r in rows):
                raise StoreRejected("state storage refused a row: a test refusal")
            super().commit(tenant_id, groups)

    load(graph, tenant_id, connector(LOOKOUT, "now-2h"), connector(DEFENDER, "now-2h"))
    s = services()
    store = RefusesDefender(s.store._service)
    result = run_heartbeat_sweep(
        s.settings, s.graph, store, s.channels, tenant_id=tenant_id, job=Job.HEARTBEAT
    )

    assert [st.id for st in result.statuses] == [LOOKOUT]
    assert result.problems == [
        f"not recorded: connector {DEFENDER}: state storage refused a row: a test refusal"
    ]
    assert not result.success_recorded
    record = last_sweep(s.store, tenant_id)
    assert record is not None and record.problems == result.problems and record.succeeded_at is None
