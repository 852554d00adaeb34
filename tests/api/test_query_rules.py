"""One set of query rules on every route: times, empty, repeated and unknown parameters, enums,
continuation tokens bound to their filters, and every problem reported at once with an RFC 6901
pointer. Called as the Functions host calls the functions (tests/conftest.py)."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta
from typing import Any

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from graphsim import GraphSimulator
from tests.conftest import DEFENDER, LOOKOUT, ZIMPERIUM, Host, body
from tests.support.receiver import Receiver
from tests.support.scenarios import connector, load

LISTS = {"alerts_list": "/api/alerts", "audit_list": "/api/audit", "findings_list": "/api/findings"}


def problem(response: Any) -> dict[str, Any]:
    assert response.status_code == 400, response.get_body()
    assert response.mimetype == "application/problem+json"
    found: dict[str, Any] = body(response)
    assert found["title"] == "Invalid query parameter"
    return found


def pointers(response: Any) -> dict[str, str]:
    """pointer -> detail of each error of a 400 problem."""
    return {e["pointer"]: e["detail"] for e in problem(response)["errors"]}


@pytest.fixture
def alerted(host: Host, env: Any, receiver: Receiver, graph: GraphSimulator, tenant_id: str) -> None:
    """Three stale connectors swept once: three heartbeat alerts and findings."""
    env(ALERT_WEBHOOK_URL=receiver.url)
    load(graph, tenant_id, *(connector(cid, "now-9d") for cid in (LOOKOUT, ZIMPERIUM, DEFENDER)))
    assert host.http("checks_run", "POST", "/api/checks/heartbeat").status_code == 200


def rfc3339_lower(moment: datetime) -> str:
    return moment.astimezone(UTC).strftime("%Y-%m-%dt%H:%M:%Sz")  # RFC 3339 section 5.6 allows it


def test_a_lowercase_t_and_z_are_accepted_by_alerts_as_by_audit(host: Host, alerted: None) -> None:
    hour_ago, hour_ahead = datetime.now(UTC) - timedelta(hours=1), datetime.now(UTC) + timedelta(hours=1)
    for name, path in (("alerts_list", "/api/alerts"), ("audit_list", "/api/audit")):
        for since in ("2026-01-31T08:00:00z", "2026-01-31t08:00:00Z"):
            response = host.http(name, "GET", path, params={"since": since})
            assert response.status_code == 200, (name, since, response.get_body())

    def alerts(since: str) -> list[str]:
        found = body(host.http("alerts_list", "GET", "/api/alerts", params={"since": since}))["alerts"]
        return [a["alertId"] for a in found]

    # Normalised: the same moment in any spelling or offset selects the same alerts.
    everything = alerts(rfc3339_lower(hour_ago))
    assert len(everything) == 3
    assert alerts(hour_ago.astimezone(UTC).isoformat()) == everything
    assert alerts(hour_ago.astimezone(UTC).replace(tzinfo=None).isoformat()) == everything  # no offset: UTC
    assert alerts(hour_ago.astimezone(UTC).strftime("%Y-%m-%dT%H:%M:%S-05:00")) == []  # 5 h later
    assert alerts(rfc3339_lower(hour_ahead)) == []


@pytest.mark.parametrize(
    ("name", "path", "parameter"),
    [
        ("findings_list", "/api/findings", "limit"),
        ("alerts_list", "/api/alerts", "limit"),
        ("audit_list", "/api/audit", "limit"),
        ("audit_list", "/api/audit", "ticket"),
        ("findings_list", "/api/findings", "kind"),
    ],
)
def test_an_empty_parameter_is_refused_on_every_route(
    host: Host, name: str, path: str, parameter: str
) -> None:
    response = host.http(name, "GET", path, params={parameter: ""})
    assert problem(response)["errors"] == [
        {
            "pointer": f"/{parameter}",
            "parameter": parameter,
            "detail": f"{parameter} is empty: leave it out or give a value",
        }
    ]


@pytest.mark.parametrize("name", list(LISTS))
def test_every_query_problem_comes_back_at_once_each_with_its_pointer(host: Host, name: str) -> None:
    bad = {"severity": "critical", "since": "yesterday", "limit": "0", "continuationToken": "x!"}
    if name == "findings_list":
        bad = {"severity": "critical", "status": "gone", "limit": "0", "sinse": "2026-01-31"}
    if name == "audit_list":
        bad = {"result": "ok", "since": "yesterday", "until": "never", "limit": "0", "sinse": "2026-01-31"}
    found = pointers(host.http(name, "GET", LISTS[name], params=bad))
    assert set(found) == {f"/{p}" for p in bad}
    assert "between 1 and" in found["/limit"]
    if name == "alerts_list":
        assert found["/continuationToken"] == "continuationToken is not one this API returned"
    else:
        assert found["/sinse"].startswith("sinse is not a parameter of this route; it takes ")


def test_query_pointers_escape_as_rfc_6901_says(host: Host) -> None:
    response = host.http("connectors_list", "GET", "/api/connectors", params={"a/b~c": "1"})
    assert list(pointers(response)) == ["/a~1b~0c"]
    assert problem(response)["errors"][0]["parameter"] == "a/b~c"


def test_unknown_parameters_are_refused_on_routes_that_take_none_but_the_function_key_is_not(
    host: Host,
) -> None:
    found = pointers(host.http("connectors_list", "GET", "/api/connectors", params={"bogus": "1"}))
    assert found == {"/bogus": "bogus is not a parameter of this route; it takes no query parameters"}
    assert host.http("connectors_list", "GET", "/api/connectors", params={"code": "key"}).status_code == 200
    refused = host.http("checks_run", "POST", "/api/checks/heartbeat", params={"dryRun": "true"})
    assert list(pointers(refused)) == ["/dryRun"]


def test_a_parameter_given_twice_is_refused(host: Host) -> None:
    response = host.http("audit_list", "GET", "/api/audit?limit=1&limit=2", params={"limit": "2"})
    assert pointers(response) == {"/limit": "limit is given 2 times: give it once"}


def test_an_alerts_token_only_continues_the_filters_it_was_issued_for(host: Host, alerted: None) -> None:
    first = body(host.http("alerts_list", "GET", "/api/alerts", params={"limit": "1"}))
    token = first["continuationToken"]
    assert token
    same = host.http("alerts_list", "GET", "/api/alerts", params={"limit": "2", "continuationToken": token})
    assert same.status_code == 200 and len(body(same)["alerts"]) == 2  # the page size may change
    other = host.http(
        "alerts_list", "GET", "/api/alerts", params={"severity": "high", "continuationToken": token}
    )
    detail = pointers(other)["/continuationToken"]
    assert detail == "continuationToken belongs to other filters: keep the same filters when paging"


def test_a_token_of_one_route_is_refused_by_another(host: Host, alerted: None) -> None:
    first = body(host.http("findings_list", "GET", "/api/findings", params={"limit": "1"}))
    token = first["continuationToken"]
    assert token
    for name in ("alerts_list", "audit_list"):
        found = pointers(host.http(name, "GET", LISTS[name], params={"continuationToken": token}))
        detail = "continuationToken is not one this API returned for this route"
        assert found == {"/continuationToken": detail}


def test_body_problems_carry_rfc_6901_pointers(host: Host, alerted: None) -> None:
    finding_id = body(host.http("findings_list", "GET", "/api/findings"))["findings"][0]["id"]

    def ack(payload: bytes | dict[str, Any]) -> dict[str, Any]:
        path = f"/api/findings/{finding_id}/ack"
        response = host.http(
            "finding_acknowledge", "POST", path, route_params={"id": finding_id}, body=payload
        )
        assert response.status_code == 400 and response.mimetype == "application/problem+json"
        found: dict[str, Any] = body(response)
        return found

    assert {e["pointer"] for e in ack({"note": 5, "bogus/x": 1})["errors"]} == {"/note", "/bogus~1x"}
    not_json = ack(b"{not json")
    assert not_json["title"] == "Invalid JSON"
    assert [e["pointer"] for e in not_json["errors"]] == [""]  # "" points at the whole body


NAMES = st.sampled_from(["limit", "since", "until", "kind", "severity", "status", "result", "ticket", "x/y"])


@settings(max_examples=40, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture])
@given(name=st.sampled_from(list(LISTS)), query=st.dictionaries(NAMES, st.text(max_size=12), max_size=4))
def test_any_query_is_answered_200_or_one_400_listing_each_bad_parameter(
    host: Host, name: str, query: dict[str, str]
) -> None:
    response = host.http(name, "GET", LISTS[name], params=query)
    if response.status_code == 200:
        return
    errors = problem(response)["errors"]
    named = [e["parameter"] for e in errors]
    assert len(named) == len(set(named)) and set(named) <= set(query)
    for error in errors:
        assert error["pointer"] == "/" + error["parameter"].replace("~", "~0").replace("/", "~1")
        assert error["detail"].startswith(error["parameter"] + " ")


@pytest.mark.parametrize(
    ("name", "method", "path", "payload", "expected"),
    [
        (
            "planned_removal_create",
            "POST",
            "/api/ca/planned-removals",
            {"policyId": "not-a-guid", "bogus": 1},
            {"/bogus", "/policyId"},
        ),
        (
            "classic_baseline_import",
            "PUT",
            "/api/ca/classic-baseline",
            {"policies": [{"displayName": "x", "state": "on", "a/b": 1}], "exportedBy": 7},
            {"/policies/0/state", "/policies/0/a~1b", "/exportedBy"},
        ),
        (
            "connector_configure",
            "PUT",
            "/api/connectors/lookout",
            {"android": {"bogus": True}},
            {"/android/bogus"},
        ),
    ],
)
def test_every_body_validator_answers_rfc_6901_pointers(
    host: Host, name: str, method: str, path: str, payload: dict[str, Any], expected: set[str]
) -> None:
    route = {"partner": "lookout"} if name == "connector_configure" else {}
    response = host.http(name, method, path, route_params=route, body=payload)
    assert response.status_code == 400 and response.mimetype == "application/problem+json"
    found = body(response)
    assert {e["pointer"] for e in found["errors"]} == expected
    assert all(p in found["detail"] for p in expected)  # the detail says where, too


def test_a_bad_webhook_action_in_the_url_is_a_query_problem_that_still_names_the_ticket(host: Host) -> None:
    payload = {"issue": {"key": "OPS-5"}}
    response = host.http(
        "hook_receive",
        "POST",
        "/api/hooks/jira",
        route_params={"source": "jira"},
        params={"action": "reboot"},
        body=payload,
    )
    found = problem(response)
    assert found["errors"] == [
        {
            "pointer": "/action",
            "parameter": "action",
            "detail": "action 'reboot' is not like configure, check or acknowledge",
        }
    ]
    assert (found["ticket"], found["source"]) == ("OPS-5", "jira")


def test_a_ticket_reference_on_an_acknowledgement_is_checked_like_on_configure(host: Host) -> None:
    """An over-long or unprintable X-Ticket-Reference is a 400 naming the header, not text that
    lands in the audit trail as it came."""
    fid = "heartbeat.2c7790de-8b02-4814-85cf-e0c59380dee8"
    for bad in ("T" * 201, "OPS-1\x07"):
        response = host.http(
            "finding_acknowledge",
            "POST",
            f"/api/findings/{fid}/ack",
            route_params={"id": fid},
            headers={"X-Ticket-Reference": bad},
        )
        assert response.status_code == 400
        assert body(response)["title"] == "Invalid ticket reference"


def test_severity_and_status_lists_are_taken_by_alerts_as_by_findings(
    host: Host, env: Any, receiver: Receiver, graph: GraphSimulator, tenant_id: str
) -> None:
    """One rule for enums on every route: a comma-separated list selects any of its values."""
    env(ALERT_WEBHOOK_URL=receiver.url)
    load(graph, tenant_id, connector(LOOKOUT, "now-9d"), connector(ZIMPERIUM, "now-2d"))  # high, warning
    assert host.http("checks_run", "POST", "/api/checks/heartbeat").status_code == 200
    for name, path in (("alerts_list", "/api/alerts"), ("findings_list", "/api/findings")):
        response = host.http(name, "GET", path, params={"severity": "high,warning,info"})
        assert response.status_code == 200, (name, response.get_body())
    every = body(host.http("alerts_list", "GET", "/api/alerts"))["alerts"]
    severities = {a["severity"] for a in every}
    assert severities == {"high", "warning"}
    one, *_ = sorted(severities)
    only = body(host.http("alerts_list", "GET", "/api/alerts", params={"severity": one}))["alerts"]
    both = body(host.http("alerts_list", "GET", "/api/alerts", params={"severity": ",".join(severities)}))
    assert {a["severity"] for a in only} == {one}
    assert len(both["alerts"]) == len(every)
    pending = body(host.http("alerts_list", "GET", "/api/alerts", params={"status": "pending,delivered"}))
    assert len(pending["alerts"]) == len(every)  # each alert's deliveries are pending or delivered


def test_an_audit_window_that_ends_before_it_starts_is_refused(host: Host) -> None:
    response = host.http(
        "audit_list",
        "GET",
        "/api/audit",
        params={"since": "2026-02-01T00:00:00Z", "until": "2026-01-01T00:00:00Z"},
    )
    assert response.status_code == 400
    assert pointers(response) == {"/until": "until must be later than since"}
