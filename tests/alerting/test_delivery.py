"""The outbox across runs: one channel's outage delays only that channel, nothing is lost when a run
dies, failures back off and end as dead letters that raise a finding, routing and quiet hours.

Time is injected (``now``) into the real sweep and outbox; Graph, storage and every receiver are
real local servers.
"""

from __future__ import annotations

from collections.abc import Callable
from datetime import UTC, datetime, timedelta
from typing import Any

import pytest

from graphsim import GraphSimulator
from shared import context
from shared.alerting.alerts import DIGEST_KIND, DeliveryStatus
from shared.alerting.channels.teams import TeamsChannel
from shared.findings.model import FindingStatus
from shared.findings.stored import stored_findings
from shared.heartbeat import sweep as monitor
from tests.conftest import DEFENDER, LOOKOUT, ZIMPERIUM, Host, body
from tests.support.alerting import (
    alerts_of,
    jira_settings,
    outbox,
    servicenow_settings,
    stored,
    sweep,
    teams_settings,
)
from tests.support.fakeapi import FakeJira, FakeServiceNow, FakeTeamsWorkflow
from tests.support.receiver import Receiver
from tests.support.scenarios import connector, load

Channels = Callable[..., None]


def statuses(alert_id: str) -> dict[str, str]:
    return {name: d.status.value for name, d in stored(alert_id).deliveries.items()}


def test_an_outage_of_one_channel_delays_only_that_channel(
    channels: Channels,
    graph: GraphSimulator,
    tenant_id: str,
    teams: FakeTeamsWorkflow,
    servicenow: FakeServiceNow,
    jira: FakeJira,
    receiver: Receiver,
) -> None:
    channels(
        ALERT_WEBHOOK_URL=receiver.url,
        **teams_settings(teams),
        **servicenow_settings(servicenow),
        **jira_settings(jira),
    )
    servicenow.fail_with = 503
    load(graph, tenant_id, connector(LOOKOUT, "now-40h", threshold=3))  # warning
    first = sweep()
    problem = first.alerts[0].alert_id
    assert statuses(problem) == {
        "webhook": "delivered",
        "teams": "delivered",
        "servicenow": "pending",
        "jira": "delivered",
    }
    assert first.delivery.errors == [
        f"alert {problem}: servicenow 127.0.0.1: look up the alert id: HTTP 503 (injected failure)"
    ]

    # The problem grows while ServiceNow is down: the other channels hear of it at once; the later
    # alert waits on ServiceNow behind the first, so its incident is opened before it is noted.
    t1 = first.checked_at + timedelta(minutes=30)
    load(graph, tenant_id, connector(LOOKOUT, "now-4d", threshold=3), connector(ZIMPERIUM, "now-9d"))
    second = sweep(now=t1)
    worse = next(a.alert_id for a in second.alerts if a.details["partner"] == "Lookout for Work")
    other = next(a.alert_id for a in second.alerts if a.details["partner"] == "Zimperium")
    assert len(receiver.received) == 3 and len(teams.cards()) == 3 and len(jira.issues) == 2
    assert statuses(worse)["servicenow"] == "pending" and stored(worse).deliveries["servicenow"].attempts == 0
    assert stored(problem).deliveries["servicenow"].attempts == 2

    servicenow.fail_with = None
    # Zimperium's alert failed once: retried on the next run. Lookout's first alert failed twice:
    # it waits ALERT_RETRY_BASE_MINUTES (5), and the later one on the same finding waits behind it.
    outbox(t1 + timedelta(minutes=4))
    assert [i["correlation_id"] for i in servicenow.incident_list()] == [other]
    outbox(t1 + timedelta(minutes=5))
    incidents = servicenow.incident_list()
    assert [i["correlation_id"] for i in incidents] == [other, problem]
    assert len(incidents[1]["work_notes"]) == 1  # the later alert, after its incident was opened
    assert {statuses(a)["servicenow"] for a in (problem, worse, other)} == {"delivered"}
    assert len(teams.cards()) == 3 and len(receiver.received) == 3  # nobody else heard anything twice


def test_nothing_is_lost_when_a_run_dies_between_recording_and_delivering(
    channels: Channels,
    graph: GraphSimulator,
    tenant_id: str,
    teams: FakeTeamsWorkflow,
    servicenow: FakeServiceNow,
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    channels(**teams_settings(teams), **servicenow_settings(servicenow))
    load(graph, tenant_id, connector(LOOKOUT, "now-9d"))

    def crash(*args: Any, **kwargs: Any) -> None:
        raise RuntimeError("the worker was recycled")

    with monkeypatch.context() as patch:  # the sweep records, then the process dies
        patch.setattr(monitor, "deliver_after_run", crash)
        with pytest.raises(RuntimeError):
            sweep()
    [recorded] = alerts_of()
    assert statuses(recorded.alert_id) == {"teams": "pending", "servicenow": "pending"}
    assert teams.calls == [] and servicenow.calls == []

    # The next run dies once more, this time after claiming the Teams delivery but before sending.
    original = TeamsChannel.send

    def dies(self: TeamsChannel, *args: Any) -> None:
        raise KeyboardInterrupt  # not an error a channel reports: the process goes away

    with monkeypatch.context() as patch:
        patch.setattr(TeamsChannel, "send", dies)
        with pytest.raises(KeyboardInterrupt):
            outbox(datetime.now(UTC))
    claimed = stored(recorded.alert_id).deliveries["teams"]
    assert (claimed.status, claimed.attempts) == (DeliveryStatus.PENDING, 1)
    assert TeamsChannel.send is original

    assert claimed.next_attempt_at is not None
    result = sweep(now=claimed.next_attempt_at)  # the next scheduled sweep, once the claim expired
    assert result.alerts == []  # nothing new happened
    assert statuses(recorded.alert_id) == {"teams": "delivered", "servicenow": "delivered"}
    assert len(teams.cards()) == 1 and len(servicenow.incident_list()) == 1
    assert teams.calls[0].headers["x-mtdguard-alert-id"] == recorded.alert_id
    assert servicenow.incident_list()[0]["correlation_id"] == recorded.alert_id
    sweep()
    assert len(teams.cards()) == 1 and len(servicenow.writes()) == 1


def test_failures_back_off_then_dead_letter_into_a_finding_and_redelivery(
    channels: Channels,
    host: Host,
    graph: GraphSimulator,
    tenant_id: str,
    teams: FakeTeamsWorkflow,
    receiver: Receiver,
) -> None:
    channels(
        ALERT_WEBHOOK_URL=receiver.url,
        **teams_settings(teams),
        ALERT_MAX_ATTEMPTS="4",
        ALERT_RETRY_BASE_MINUTES="10",
    )
    teams.fail_with = 429
    teams.retry_after = "30"
    load(graph, tenant_id, connector(LOOKOUT, "now-9d"))
    t0 = datetime.now(UTC)
    alert_id = sweep(now=t0).alerts[0].alert_id

    def attempt_times() -> list[datetime]:
        delivery = stored(alert_id).deliveries["teams"]
        assert delivery.next_attempt_at is not None
        return [delivery.next_attempt_at]

    # attempt 1 failed at t0: retried on the next run (Retry-After: 30 s is honoured)
    assert attempt_times() == [t0 + timedelta(seconds=30)]
    outbox(t0 + timedelta(seconds=10))
    assert len(teams.calls) == 1  # not before it is due
    t1 = t0 + timedelta(minutes=5)
    outbox(t1)  # attempt 2: then wait the base, 10 minutes
    assert attempt_times() == [t1 + timedelta(minutes=10)]
    t2 = t1 + timedelta(minutes=10)
    outbox(t2)  # attempt 3: then 20 minutes
    assert attempt_times() == [t2 + timedelta(minutes=20)]
    assert (
        stored(alert_id).deliveries["teams"].last_error
        == "teams 127.0.0.1: post card: HTTP 429 (injected failure)"
    )
    t3 = t2 + timedelta(minutes=20)
    report = outbox(t3)  # attempt 4 = ALERT_MAX_ATTEMPTS: dead
    assert (report.failed, report.dead) == (1, 1)
    dead = stored(alert_id).deliveries["teams"]
    assert (dead.status, dead.attempts, dead.next_attempt_at) == (DeliveryStatus.DEAD, 4, None)
    assert len(teams.calls) == 4

    findings = body(host.http("alerts_list", "GET", "/api/alerts", params={"status": "dead"}))
    assert [a["alertId"] for a in findings["alerts"]] == [alert_id]
    s = context.services()
    finding = stored_findings(s.store, tenant_id)["alertDelivery.teams"]
    assert (finding.kind, finding.status, finding.severity) == ("alertDelivery", FindingStatus.OPEN, "high")
    assert f"Alert {alert_id}" in finding.message and "after 4 attempts: teams 127.0.0.1" in finding.message
    assert "POST /api/alerts/{alertId}/redeliver?channel=teams" in finding.remediation
    told = receiver.payloads()[-1]  # the other channels hear of it at once; Teams itself does not
    assert (told["kind"], told["channel"], told["deadAlertId"]) == ("alertDelivery", "teams", alert_id)
    [failing] = alerts_of("alertDelivery")
    assert failing.deliveries["teams"].status is DeliveryStatus.SKIPPED

    outbox(t3 + timedelta(hours=6))
    assert len(teams.calls) == 4  # dead stays dead

    teams.fail_with = None
    queued = host.http(
        "alert_redeliver", "POST", f"/api/alerts/{alert_id}/redeliver", route_params={"alertId": alert_id}
    )
    assert queued.status_code == 202 and body(queued)["queued"] == ["teams"]
    report = outbox(t3 + timedelta(hours=7))
    assert statuses(alert_id)["teams"] == "delivered"
    assert [facts_alert_id(c) for c in teams.cards()] == [alert_id]
    assert stored_findings(s.store, tenant_id)["alertDelivery.teams"].status is FindingStatus.RESOLVED
    assert receiver.payloads()[-1]["title"] == "Alerts to teams are delivered again"
    assert receiver.payloads()[-1]["resolvesFinding"] is True


def facts_alert_id(card: dict[str, Any]) -> str:
    fact_set = next(e for e in card["body"] if e["type"] == "FactSet")
    return str(next(f["value"] for f in fact_set["facts"] if f["title"] == "Alert id"))


def test_routing_by_severity_and_kind_and_recoveries_follow_the_problem(
    channels: Channels,
    graph: GraphSimulator,
    tenant_id: str,
    teams: FakeTeamsWorkflow,
    servicenow: FakeServiceNow,
    receiver: Receiver,
) -> None:
    channels(
        ALERT_WEBHOOK_URL=receiver.url,
        ALERT_WEBHOOK_KINDS="graphAccess",
        **teams_settings(teams),
        TEAMS_MIN_SEVERITY="high",
        **servicenow_settings(servicenow),
        SERVICENOW_MIN_SEVERITY="high",
        SERVICENOW_KINDS="heartbeat",
    )
    load(graph, tenant_id, connector(LOOKOUT, "now-9d"), connector(ZIMPERIUM, "now-40h", threshold=3))
    first = sweep()
    by_partner = {a.details["partner"]: a.alert_id for a in first.alerts}
    lookout, zimperium = by_partner["Lookout for Work"], by_partner["Zimperium"]  # high, warning
    assert statuses(lookout) == {"webhook": "skipped", "teams": "delivered", "servicenow": "delivered"}
    assert statuses(zimperium) == {"webhook": "skipped", "teams": "skipped", "servicenow": "skipped"}
    assert (
        stored(zimperium).deliveries["teams"].note == "severity warning is below this channel's minimum high"
    )
    assert stored(lookout).deliveries["webhook"].note == (
        "kind heartbeat is not among this channel's kinds (graphAccess)"
    )

    # Zimperium keeps its threshold: a changed setting would be connector drift, another alert
    load(graph, tenant_id, connector(LOOKOUT, "now-1m"), connector(ZIMPERIUM, "now-1m", threshold=3))
    second = sweep()
    by_partner = {a.details["partner"]: a.alert_id for a in second.alerts}
    # Lookout's recovery (info) reaches where its problem went; Zimperium's problem went nowhere.
    assert statuses(by_partner["Lookout for Work"]) == {
        "webhook": "skipped",
        "teams": "delivered",
        "servicenow": "delivered",
    }
    assert statuses(by_partner["Zimperium"]) == {
        "webhook": "skipped",
        "teams": "skipped",
        "servicenow": "skipped",
    }
    assert stored(by_partner["Zimperium"]).deliveries["servicenow"].note == (
        "no open ticket for this finding: nothing to resolve"
    )
    assert [i["state"] for i in servicenow.incident_list()] == ["6"]
    assert receiver.received == []


def test_info_alerts_in_quiet_hours_go_out_as_one_digest_after_them(
    channels: Channels,
    host: Host,
    graph: GraphSimulator,
    tenant_id: str,
    teams: FakeTeamsWorkflow,
    receiver: Receiver,
) -> None:
    # Quiet hours from an hour ago to three hours from now, in Tokyo (UTC+9 all year, no DST).
    night = datetime.now(UTC).replace(second=0, microsecond=0)
    tokyo = night + timedelta(hours=9)
    window = f"{tokyo - timedelta(hours=1):%H:%M}-{tokyo + timedelta(hours=3):%H:%M}"
    channels(
        ALERT_WEBHOOK_URL=receiver.url,
        **teams_settings(teams),
        TEAMS_QUIET_HOURS=window,
        ALERT_TIMEZONE="Asia/Tokyo",
    )
    load(
        graph,
        tenant_id,
        connector(LOOKOUT, "now-9d"),
        connector(DEFENDER, "now-9d"),
        connector(ZIMPERIUM, "now-9d", threshold=3),  # the same threshold throughout: no drift
    )
    sweep(now=night)
    assert len(teams.cards()) == 3  # high alerts are never held

    load(
        graph,
        tenant_id,
        connector(LOOKOUT, "now-1m"),
        connector(DEFENDER, "now-1m"),
        connector(ZIMPERIUM, "now-9d", threshold=3),
    )
    recoveries = sweep(now=night + timedelta(hours=1)).alerts
    assert len(recoveries) == 2 and {a.severity for a in recoveries} == {"info"}
    assert len(teams.cards()) == 3 and len(receiver.received) == 5  # held on Teams only
    held = stored(recoveries[0].alert_id).deliveries["teams"]
    morning = night + timedelta(hours=3)
    assert (held.status, held.next_attempt_at) == (DeliveryStatus.HELD, morning)
    assert held.note == f"quiet hours {window} Asia/Tokyo: sent in the digest after them"

    load(
        graph,
        tenant_id,
        connector(LOOKOUT, "now-1m"),
        connector(DEFENDER, "now-1m"),
        connector(ZIMPERIUM, "now-40h", threshold=3),
    )
    warning = sweep(now=night + timedelta(hours=2)).alerts[0]
    assert warning.severity == "warning" and statuses(warning.alert_id)["teams"] == "delivered"

    outbox(morning - timedelta(minutes=1))
    assert len(teams.cards()) == 4  # still quiet

    report = outbox(morning)
    assert report.digests == 1
    digest = teams.cards()[-1]
    assert digest["body"][0]["items"][1]["text"] == "2 info alerts held during quiet hours"
    listed = " ".join(str(item) for item in digest["body"])
    assert all(a.alert_id in listed for a in recoveries)
    [made] = alerts_of(DIGEST_KIND)
    oldest_first = sorted(recoveries, key=lambda a: (a.detected_at, a.alert_id))
    assert [a["alertId"] for a in made.details["alerts"]] == [a.alert_id for a in oldest_first]
    for recovery in recoveries:
        member = stored(recovery.alert_id).deliveries["teams"]
        assert (member.status, member.digest_id) == (DeliveryStatus.DIGESTED, made.alert_id)
    assert statuses(made.alert_id) == {"teams": "delivered"}

    outbox(morning + timedelta(minutes=5))
    outbox(morning + timedelta(hours=5))
    assert len(teams.cards()) == 5 and len(alerts_of(DIGEST_KIND)) == 1  # sent once, made once

    listed_api = body(
        host.http("alerts_list", "GET", "/api/alerts", params={"status": "digested", "channel": "teams"})
    )
    assert sorted(a["alertId"] for a in listed_api["alerts"]) == sorted(a.alert_id for a in recoveries)
    assert {a["deliveries"]["teams"]["digestId"] for a in listed_api["alerts"]} == {made.alert_id}
