"""Each alert channel against a local receiver that checks requests like the real API: the real
heartbeat sweep against the Graph simulator raises the alerts, real Azurite keeps the outbox."""

from __future__ import annotations

from collections.abc import Callable
from datetime import timedelta
from typing import Any

from graphsim import GraphSimulator
from shared import context
from shared.alerting import stored as stored_alerts
from shared.alerting.alerts import DeliveryStatus
from tests.conftest import DEFENDER, LOOKOUT, ZIMPERIUM
from tests.support.alerting import (
    jira_settings,
    outbox,
    servicenow_settings,
    stored,
    sweep,
    teams_settings,
)
from tests.support.fakeapi import FakeJira, FakeServiceNow, FakeTeamsWorkflow, adf_text
from tests.support.scenarios import connector, load

Channels = Callable[..., None]

# The admin-center addresses as Microsoft publishes them (Intune docs' link to Tenant administration >
# Connectors and tokens; the Defender for Endpoint connector's own blade), written out here rather
# than taken from the product, so a wrong constant in the product fails these tests.
CONNECTORS_BLADE = (
    "https://intune.microsoft.com/#view/Microsoft_Intune_DeviceSettings/TenantAdminMenu/~/connectorsAndTokens"
)
DEFENDER_BLADE = "https://intune.microsoft.com/#view/Microsoft_Intune_DeviceSettings/TenantAdminConnectorsMenu/~/windowsDefenderATP"


def facts(card: dict[str, Any]) -> dict[str, str]:
    fact_sets = [e for e in card["body"] if e["type"] == "FactSet"]
    return {f["title"]: f["value"] for f in fact_sets[0]["facts"]}


def banner(card: dict[str, Any]) -> tuple[str, str, str]:
    container = card["body"][0]
    return container["style"], container["items"][0]["color"], container["items"][1]["text"]


# -- Teams --------------------------------------------------------------------------------------


def test_teams_gets_an_adaptive_card_with_what_a_person_needs_to_act(
    channels: Channels, graph: GraphSimulator, tenant_id: str, teams: FakeTeamsWorkflow
) -> None:
    channels(**teams_settings(teams))
    load(graph, tenant_id, connector(LOOKOUT, "now-9d"), connector(DEFENDER, "now-40h", threshold=3))
    result = sweep()
    assert result.delivery.delivered == 2 and not result.delivery.errors

    cards = {facts(c)["Partner"]: c for c in teams.cards()}
    titles = {a.details["partner"]: a.title for a in result.alerts}
    lookout = cards["Lookout for Work"]
    assert banner(lookout) == ("attention", "Attention", titles["Lookout for Work"])  # high: red
    shown = facts(lookout)
    assert shown["Partner"] == "Lookout for Work"
    assert shown["Tenant"] == tenant_id
    assert shown["What changed"] == "not seen before -> unresponsive"
    assert shown["Since"].endswith("UTC") and shown["Last heartbeat"].endswith("UTC")
    assert shown["Remediation"].startswith("Restore the partner's connection")
    assert shown["Alert id"] == next(a.alert_id for a in result.alerts if "Lookout" in a.title)
    assert lookout["actions"] == [
        {
            "type": "Action.OpenUrl",
            "title": "Open Connectors and tokens in the Intune admin center (then Mobile Threat Defense)",
            "url": CONNECTORS_BLADE,
        }
    ]
    defender = cards["Microsoft Defender for Endpoint"]
    assert banner(defender) == ("warning", "Warning", titles["Microsoft Defender for Endpoint"])
    assert defender["actions"][0]["url"] == DEFENDER_BLADE  # its own blade

    load(graph, tenant_id, connector(LOOKOUT, "now-1m"), connector(DEFENDER, "now-40h", threshold=3))
    recovery = sweep().alerts[0]
    recovered = teams.cards()[-1]
    assert banner(recovered) == ("good", "Good", recovery.title)
    assert facts(recovered)["What changed"] == "unresponsive -> healthy"
    assert "Remediation" not in facts(recovered)
    request = teams.calls[-1]
    assert request.headers["content-type"] == "application/json"
    assert request.headers["x-mtdguard-alert-id"] == facts(recovered)["Alert id"]


def test_a_refused_teams_url_never_shows_its_signature(
    channels: Channels, graph: GraphSimulator, tenant_id: str, teams: FakeTeamsWorkflow
) -> None:
    channels(TEAMS_WEBHOOK_URL=teams.url.replace(teams.signature, "wrong-signature"))
    load(graph, tenant_id, connector(LOOKOUT, "now-9d"))
    result = sweep()
    error = result.delivery.errors[0]
    assert "teams 127.0.0.1: post card: HTTP 401 (The request must be authenticated.)" in error
    delivery = stored(result.alerts[0].alert_id).deliveries["teams"]
    assert delivery.status is DeliveryStatus.PENDING and delivery.attempts == 1
    assert "wrong-signature" not in str(result) and "sig=" not in (delivery.last_error or "")
    assert "wrong-signature" not in repr(context.services().settings)


# -- ServiceNow -----------------------------------------------------------------------------------


def test_servicenow_opens_one_incident_notes_changes_and_resolves_on_recovery(
    channels: Channels, graph: GraphSimulator, tenant_id: str, servicenow: FakeServiceNow
) -> None:
    channels(**servicenow_settings(servicenow), SERVICENOW_ASSIGNMENT_GROUP="Endpoint Security")
    load(graph, tenant_id, connector(LOOKOUT, "now-40h", threshold=3))  # warning
    first = sweep()
    assert [i["number"] for i in servicenow.incident_list()] == ["INC0010001"]
    incident = servicenow.incident_list()[0]
    assert incident["short_description"] == f"MTD Guard: {first.alerts[0].title}"
    assert incident["correlation_id"] == first.alerts[0].alert_id
    assert (incident["urgency"], incident["impact"], incident["assignment_group"]) == (
        "2",
        "2",
        "Endpoint Security",
    )
    assert "Remediation: Check the partner's console" in incident["description"]
    assert CONNECTORS_BLADE in incident["description"]
    create = next(c for c in servicenow.calls if c.method == "POST")
    assert create.path == "/api/now/table/incident"
    assert create.headers["authorization"].startswith("Basic ")
    assert create.headers["content-type"] == "application/json"

    s = context.services()
    thread = stored_alerts.thread(s.store, tenant_id, "servicenow", first.alerts[0].finding_id)
    assert thread is not None and thread.open
    assert (thread.ticket_id, thread.ticket_key) == (incident["sys_id"], "INC0010001")
    assert stored(first.alerts[0].alert_id).deliveries["servicenow"].ticket == "INC0010001"

    sweep()  # nothing changed: nothing sent
    load(graph, tenant_id, connector(LOOKOUT, "now-4d", threshold=3))  # warning -> unresponsive
    sweep()
    assert len(servicenow.incident_list()) == 1  # the same incident, a work note on it
    assert len(incident["work_notes"]) == 1
    assert "warning -> unresponsive" in incident["work_notes"][0]

    load(graph, tenant_id, connector(LOOKOUT, "now-5m", threshold=3))
    recovery = sweep()
    assert recovery.alerts[0].severity == "info"  # below SERVICENOW_MIN_SEVERITY, follows anyway
    assert (incident["state"], incident["close_code"]) == ("6", "Solution provided")
    assert "Resolved by MTD Guard" in incident["close_notes"]
    assert len(servicenow.incident_list()) == 1
    closed = stored_alerts.thread(s.store, tenant_id, "servicenow", first.alerts[0].finding_id)
    assert closed is not None and not closed.open

    load(graph, tenant_id, connector(LOOKOUT, "now-9d", threshold=3))  # a new problem: a new incident
    sweep()
    assert [i["number"] for i in servicenow.incident_list()] == ["INC0010001", "INC0010002"]


def test_servicenow_with_oauth_client_credentials(
    channels: Channels, graph: GraphSimulator, tenant_id: str, servicenow: FakeServiceNow
) -> None:
    channels(**servicenow_settings(servicenow, oauth=True))
    load(graph, tenant_id, connector(LOOKOUT, "now-9d"), connector(ZIMPERIUM, "now-9d"))
    sweep()
    token_calls = [c for c in servicenow.calls if c.path == "/oauth_token.do"]
    assert len(token_calls) == 1  # kept until it expires
    assert token_calls[0].headers["content-type"] == "application/x-www-form-urlencoded"
    table_calls = [c for c in servicenow.calls if c.path.startswith("/api/now/table")]
    assert table_calls and all(c.headers["authorization"].startswith("Bearer ") for c in table_calls)
    assert len(servicenow.incident_list()) == 2

    channels(**{**servicenow_settings(servicenow, oauth=True), "SERVICENOW_CLIENT_SECRET": "not-the-secret"})
    load(graph, tenant_id, connector(LOOKOUT, "now-1m"), connector(ZIMPERIUM, "now-9d"))
    result = sweep()
    refused = "servicenow 127.0.0.1: get an OAuth token: HTTP 401 (access_denied)"
    assert result.delivery.errors == [f"alert {result.alerts[0].alert_id}: {refused}"]
    assert "not-the-secret" not in str(result)


def test_a_lost_servicenow_answer_does_not_open_a_second_incident(
    channels: Channels, graph: GraphSimulator, tenant_id: str, servicenow: FakeServiceNow
) -> None:
    channels(**servicenow_settings(servicenow))
    load(graph, tenant_id, connector(LOOKOUT, "now-9d"))
    servicenow.lose_answers = 1  # the incident is created, the answer never arrives
    first = sweep()
    assert first.delivery.failed == 1 and "RemoteProtocolError" in first.delivery.errors[0]
    assert len(servicenow.incident_list()) == 1

    sweep()  # the retry finds it by correlation_id = alert id
    assert len(servicenow.incident_list()) == 1
    assert stored(first.alerts[0].alert_id).deliveries["servicenow"].ticket == "INC0010001"
    lookups = [c for c in servicenow.calls if c.method == "GET" and "sysparm_query" in c.query]
    assert [c.query["sysparm_query"] for c in lookups] == [f"correlation_id={first.alerts[0].alert_id}"] * 2


def test_an_incident_closed_by_a_person_is_not_reused_for_the_next_change(
    channels: Channels, graph: GraphSimulator, tenant_id: str, servicenow: FakeServiceNow
) -> None:
    channels(**servicenow_settings(servicenow))
    load(graph, tenant_id, connector(LOOKOUT, "now-40h", threshold=3))
    sweep()
    servicenow.incident_list()[0]["state"] = "7"  # closed in ServiceNow by a person
    load(graph, tenant_id, connector(LOOKOUT, "now-4d", threshold=3))
    sweep()
    assert [(i["number"], i["state"]) for i in servicenow.incident_list()] == [
        ("INC0010001", "7"),
        ("INC0010002", "1"),
    ]
    load(graph, tenant_id, connector(LOOKOUT, "now-1m", threshold=3))
    sweep()
    assert [i["state"] for i in servicenow.incident_list()] == ["7", "6"]  # the open one is resolved


def test_a_wrong_close_code_is_named_and_retried_after_the_fix(
    channels: Channels, graph: GraphSimulator, tenant_id: str, servicenow: FakeServiceNow
) -> None:
    channels(**servicenow_settings(servicenow), SERVICENOW_CLOSE_CODE="Solved (Permanently)")
    load(graph, tenant_id, connector(LOOKOUT, "now-9d"))
    sweep()
    load(graph, tenant_id, connector(LOOKOUT, "now-1m"))
    failed = sweep()
    assert (
        "resolve the incident: HTTP 403 (Invalid choice for Resolution code: Solved (Permanently))"
        in (failed.delivery.errors[0])
    )
    channels(**servicenow_settings(servicenow))  # the operator fixes SERVICENOW_CLOSE_CODE
    sweep()
    assert servicenow.incident_list()[0]["state"] == "6"


# -- Jira ----------------------------------------------------------------------------------------


def test_jira_creates_one_issue_comments_on_change_and_transitions_on_recovery(
    channels: Channels, graph: GraphSimulator, tenant_id: str, jira: FakeJira
) -> None:
    channels(**jira_settings(jira))
    load(graph, tenant_id, connector(LOOKOUT, "now-40h", threshold=3))
    first = sweep()
    alert_id = first.alerts[0].alert_id
    issue = jira.issues["SEC-1"]
    assert issue["summary"] == f"MTD Guard: {first.alerts[0].title}"
    assert issue["labels"] == ["mtd-guard", f"mtdguard-{alert_id}"]
    text = adf_text(issue["description"])
    assert "Partner: Lookout for Work" in text and f"Alert id: {alert_id}" in text
    create = next(c for c in jira.calls if c.method == "POST")
    assert create.path == "/rest/api/3/issue" and create.headers["authorization"].startswith("Basic ")

    load(graph, tenant_id, connector(LOOKOUT, "now-4d", threshold=3))
    sweep()
    assert len(jira.issues) == 1 and len(issue["comments"]) == 1
    assert "warning -> unresponsive" in adf_text(issue["comments"][0])

    load(graph, tenant_id, connector(LOOKOUT, "now-1m", threshold=3))
    sweep()
    assert issue["status"] == "Done"
    assert "the finding is over" in adf_text(issue["comments"][-1])
    transition = next(c for c in jira.calls if c.path.endswith("/transitions") and c.method == "POST")
    assert transition.json == {"transition": {"id": "31"}}  # looked up by name, not hard-coded
    s = context.services()
    thread = stored_alerts.thread(s.store, tenant_id, "jira", first.alerts[0].finding_id)
    assert thread is not None and (thread.ticket_key, thread.open) == ("SEC-1", False)


def test_a_lost_jira_answer_does_not_create_a_second_issue(
    channels: Channels, graph: GraphSimulator, tenant_id: str, jira: FakeJira
) -> None:
    channels(**jira_settings(jira))
    load(graph, tenant_id, connector(LOOKOUT, "now-9d"))
    jira.lose_answers = 1
    first = sweep()
    assert first.delivery.failed == 1
    sweep()
    assert list(jira.issues) == ["SEC-1"]
    assert stored(first.alerts[0].alert_id).deliveries["jira"].ticket == "SEC-1"


def test_a_missing_jira_transition_names_the_ones_there_are(
    channels: Channels, graph: GraphSimulator, tenant_id: str, jira: FakeJira
) -> None:
    channels(**jira_settings(jira), JIRA_DONE_TRANSITION="Close issue")
    load(graph, tenant_id, connector(LOOKOUT, "now-9d"))
    sweep()
    load(graph, tenant_id, connector(LOOKOUT, "now-1m"))
    result = sweep()
    assert result.delivery.errors[0].endswith(
        "jira: SEC-1 has no transition named 'Close issue' from status 'To Do' "
        "(available: Start progress, Done); set JIRA_DONE_TRANSITION"
    )
    jira.issues["SEC-1"]["status"] = "Done"  # closed by hand meanwhile: nothing left to transition
    retry_at = stored(result.alerts[0].alert_id).deliveries["jira"].next_attempt_at
    assert retry_at is not None and retry_at - result.checked_at == timedelta(0)  # first retry: next run
    sweep()
    assert stored(result.alerts[0].alert_id).deliveries["jira"].status is DeliveryStatus.DELIVERED


# -- ticketing channels that real instances accept (issue 11) ------------------------------------


def test_a_jira_done_screen_that_requires_a_resolution_gets_one(
    channels: Channels, graph: GraphSimulator, tenant_id: str, jira: FakeJira
) -> None:
    jira.resolution_required = True  # Jira Service Management: "Field Resolution is required."
    channels(**jira_settings(jira))
    load(graph, tenant_id, connector(LOOKOUT, "now-9d"))
    sweep()
    load(graph, tenant_id, connector(LOOKOUT, "now-1m"))
    recovery = sweep()
    assert not recovery.delivery.errors
    issue = jira.issues["SEC-1"]
    assert (issue["status"], issue["resolution"]) == ("Done", "Done")
    transition = next(c for c in jira.calls if c.path.endswith("/transitions") and c.method == "POST")
    assert transition.json == {"transition": {"id": "31"}, "fields": {"resolution": {"name": "Done"}}}
    assert any("the finding is over" in adf_text(c) for c in issue["comments"])


def test_no_resolution_is_sent_when_the_screen_asks_for_none(
    channels: Channels, graph: GraphSimulator, tenant_id: str, jira: FakeJira
) -> None:
    channels(**jira_settings(jira), JIRA_RESOLUTION="Won't Do")
    load(graph, tenant_id, connector(LOOKOUT, "now-9d"))
    sweep()
    load(graph, tenant_id, connector(LOOKOUT, "now-1m"))
    sweep()
    transition = next(c for c in jira.calls if c.path.endswith("/transitions") and c.method == "POST")
    assert transition.json == {"transition": {"id": "31"}}


def test_a_resolution_the_screen_does_not_offer_is_named_and_the_comment_still_posted_once(
    channels: Channels, graph: GraphSimulator, tenant_id: str, jira: FakeJira
) -> None:
    jira.resolution_required = True
    channels(**jira_settings(jira), JIRA_RESOLUTION="Fixed")
    load(graph, tenant_id, connector(LOOKOUT, "now-9d"))
    sweep()
    load(graph, tenant_id, connector(LOOKOUT, "now-1m"))
    result = sweep()
    assert result.delivery.errors[0].endswith(
        "jira: SEC-1: the transition 'Done' asks for a resolution and 'Fixed' is not one "
        "(allowed: Done, Won't Do, Duplicate); set JIRA_RESOLUTION"
    )
    issue = jira.issues["SEC-1"]
    assert issue["status"] == "To Do"
    over = [c for c in issue["comments"] if "the finding is over" in adf_text(c)]
    assert len(over) == 1  # people know it is over although the workflow refused the transition

    channels(**jira_settings(jira), JIRA_RESOLUTION="won't do")  # fixed: the retry goes through
    sweep()
    assert (issue["status"], issue["resolution"]) == ("Done", "Won't Do")
    assert len([c for c in issue["comments"] if "the finding is over" in adf_text(c)]) == 1  # not twice
    assert stored(result.alerts[0].alert_id).deliveries["jira"].status is DeliveryStatus.DELIVERED


def test_servicenow_extra_fields_fill_what_the_instance_makes_mandatory(
    channels: Channels, graph: GraphSimulator, tenant_id: str, servicenow: FakeServiceNow
) -> None:
    servicenow.mandatory = ("caller_id", "category")
    channels(**servicenow_settings(servicenow))
    load(graph, tenant_id, connector(LOOKOUT, "now-9d"))
    refused = sweep()
    assert "mandatory: caller_id, category" in refused.delivery.errors[0]

    extra = '{"caller_id": "mtd.guard", "category": "security", "u_priority_score": 3}'
    channels(**servicenow_settings(servicenow), SERVICENOW_EXTRA_FIELDS=extra)
    outbox(refused.checked_at + timedelta(hours=1))
    [incident] = servicenow.incident_list()
    assert (incident["caller_id"], incident["category"], incident["u_priority_score"]) == (
        "mtd.guard",
        "security",
        3,
    )
    assert incident["short_description"].startswith("MTD Guard: ")  # ours, whatever the setting


def test_servicenow_extra_fields_that_are_not_a_flat_json_object_are_a_settings_problem() -> None:
    from shared import settings

    base = {"TENANT_ID": "contoso.onmicrosoft.com", "AzureWebJobsStorage": "UseDevelopmentStorage=true"}
    for value, words in (
        ("caller_id=mtd", "is not a JSON object"),
        ('{"caller_id": {"value": "x"}}', "values are text, numbers or true/false"),
        ('{"correlation_id": "x"}', "may not set correlation_id"),
    ):
        found = settings.problems({**base, "SERVICENOW_EXTRA_FIELDS": value})
        assert len(found) == 1 and found[0].startswith("SERVICENOW_EXTRA_FIELDS") and words in found[0], found
