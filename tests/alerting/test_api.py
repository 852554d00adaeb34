"""GET /api/alerts and POST /api/alerts/{id}/redeliver, called as the Functions host calls them."""

from __future__ import annotations

import base64
import json
import re
from collections.abc import Callable
from datetime import UTC, datetime, timedelta
from typing import Any

from graphsim import GraphSimulator
from tests.conftest import DEFENDER, LOOKOUT, ZIMPERIUM, Host, body
from tests.support.alerting import outbox, servicenow_settings, sweep, teams_settings
from tests.support.fakeapi import FakeServiceNow, FakeTeamsWorkflow
from tests.support.scenarios import connector, load

Channels = Callable[..., None]


def listed(host: Host, **params: str) -> dict[str, Any]:
    response = host.http("alerts_list", "GET", "/api/alerts", params=params)
    assert response.status_code == 200, response.get_body()
    assert response.mimetype == "application/json"
    data: dict[str, Any] = body(response)
    return data


def test_alerts_are_listed_per_channel_with_filters_counts_and_paging(
    channels: Channels,
    host: Host,
    graph: GraphSimulator,
    tenant_id: str,
    teams: FakeTeamsWorkflow,
    servicenow: FakeServiceNow,
) -> None:
    channels(**teams_settings(teams), **servicenow_settings(servicenow), TEAMS_QUIET_HOURS="22:00-07:00")
    servicenow.fail_with = 503
    load(graph, tenant_id, connector(LOOKOUT, "now-9d"), connector(ZIMPERIUM, "now-40h", threshold=3))
    t0 = datetime.now(UTC)
    sweep(now=t0)
    load(
        graph,
        tenant_id,
        connector(LOOKOUT, "now-9d"),
        connector(ZIMPERIUM, "now-40h", threshold=3),
        connector(DEFENDER, "now-10d"),
    )
    sweep(now=t0 + timedelta(minutes=1))

    everything = listed(host)
    assert everything["tenantId"] == tenant_id
    assert [c["name"] for c in everything["channels"]] == ["teams", "servicenow"]
    assert everything["channels"][0] == {
        "name": "teams",
        "minSeverity": "info",
        "kinds": "*",
        "quietHours": "22:00-07:00 UTC",
        "tickets": False,
        "maxAttempts": 10,
    }
    assert everything["channels"][1]["tickets"] is True
    assert everything["counts"] == {"teams": {"delivered": 3}, "servicenow": {"pending": 3}}
    alerts = everything["alerts"]
    assert len(alerts) == 3 and alerts[0]["partner"] == "Microsoft Defender for Endpoint"  # newest first
    pending = alerts[0]["deliveries"]["servicenow"]
    assert pending["status"] == "pending" and pending["attempts"] == 1
    assert pending["lastError"].startswith("servicenow 127.0.0.1: look up the alert id: HTTP 503")
    assert pending["nextAttemptAt"] is not None and pending["ticket"] is None
    assert alerts[0]["deliveries"]["teams"]["deliveredAt"] is not None
    assert everything["continuationToken"] is None

    first = listed(host, limit="2")
    assert len(first["alerts"]) == 2 and first["continuationToken"]
    rest = listed(host, limit="2", continuationToken=first["continuationToken"])
    assert rest["continuationToken"] is None
    assert [a["alertId"] for a in first["alerts"] + rest["alerts"]] == [a["alertId"] for a in alerts]

    assert [a["severity"] for a in listed(host, severity="warning")["alerts"]] == ["warning"]
    assert (
        len(listed(host, kind="heartbeat")["alerts"]) == 3
        and listed(host, kind="graphAccess")["alerts"] == []
    )
    zimperium = next(a for a in alerts if a["partner"] == "Zimperium")
    assert [a["alertId"] for a in listed(host, findingId=zimperium["findingId"])["alerts"]] == [
        zimperium["alertId"]
    ]
    assert len(listed(host, status="pending", channel="servicenow")["alerts"]) == 3
    assert listed(host, status="pending", channel="teams")["alerts"] == []
    assert listed(host, channel="jira")["alerts"] == []
    assert len(listed(host, since=(t0 + timedelta(seconds=30)).isoformat())["alerts"]) == 1

    servicenow.fail_with = None
    outbox(t0 + timedelta(minutes=10))  # past every backoff
    assert listed(host)["counts"]["servicenow"] == {"delivered": 3}
    tickets = sorted(a["deliveries"]["servicenow"]["ticket"] for a in listed(host)["alerts"])
    assert tickets == ["INC0010001", "INC0010002", "INC0010003"]


def test_bad_query_parameters_are_400_naming_the_parameter(host: Host) -> None:
    token = base64.urlsafe_b64encode(b"not json").decode()
    for params, needle in (
        ({"status": "lost"}, "status must be one of pending, held, delivered, skipped, digested, dead"),
        ({"severity": "critical"}, "severity must be one of high, warning, info"),
        ({"since": "yesterday"}, "since must be an ISO 8601 time"),
        ({"limit": "0"}, "limit must be between 1 and 200"),
        ({"continuationToken": token}, "continuationToken is not one this API returned"),
        ({"kind": "heart beat"}, "kind 'heart beat' is not like heartbeat"),
        ({"status": ""}, "status is empty"),
    ):
        response = host.http("alerts_list", "GET", "/api/alerts", params=params)
        assert response.status_code == 400, params
        assert response.mimetype == "application/problem+json"
        assert needle in body(response)["detail"], (params, body(response))


def test_redelivery_names_what_it_cannot_do(
    channels: Channels, host: Host, graph: GraphSimulator, tenant_id: str, teams: FakeTeamsWorkflow
) -> None:
    channels(**teams_settings(teams))
    load(graph, tenant_id, connector(LOOKOUT, "now-9d"))
    alert_id = sweep().alerts[0].alert_id

    def redeliver(target: str, **params: str) -> tuple[int, dict[str, Any]]:
        response = host.http(
            "alert_redeliver",
            "POST",
            f"/api/alerts/{target}/redeliver",
            route_params={"alertId": target},
            params=params,
        )
        return response.status_code, json.loads(response.get_body())

    status, problem = redeliver("00000000-0000-0000-0000-000000000000")
    assert status == 404 and "GET /api/alerts lists them" in problem["detail"]
    assert redeliver("not|an|id")[0] == 404
    status, problem = redeliver(alert_id, channel="jira")
    assert status == 404 and "its channels are teams" in problem["detail"]
    status, problem = redeliver(alert_id)
    assert status == 409 and problem["title"] == "Nothing to redeliver"

    status, answer = redeliver(alert_id, channel="teams")  # delivered, sent again on purpose
    assert status == 202 and answer["queued"] == ["teams"]
    delivery = answer["alert"]["deliveries"]["teams"]
    assert (delivery["status"], delivery["attempts"]) == ("pending", 0)
    assert delivery["note"] == "redelivery requested by the API"
    outbox(datetime.now(UTC))
    cards = teams.cards()
    assert len(cards) == 2 and re.search(alert_id, json.dumps(cards[1]))  # same alert id again
