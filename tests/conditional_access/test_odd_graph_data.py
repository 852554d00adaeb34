"""What Graph sends can never silence the Conditional Access drift job (issue 10): entries that are
not policies or events, repeats and case twins, repeating nextLinks, and throttling. Through the
real functions, Azurite and the simulator serving raw pages."""

from __future__ import annotations

from datetime import timedelta
from typing import Any

from pytest_mock import MockerFixture

from graphsim import Fault, GraphSimulator, RawPages
from tests.conditional_access.test_drift import (
    CA_ALL,
    CA_IOS,
    LOOKOUT_NAME,
    P_LOOKOUT,
    P_ZIMPERIUM,
    ZIMPERIUM_NAME,
    Tenant,
    ago,
    alerts,
    by_id,
    check,
    findings,
    sent,
    store,
    t,
)
from tests.conftest import Host, body
from tests.heartbeat.test_odd_graph_data import fast_backoff
from tests.support.ca_payloads import ca_policy, disabled_update, edited_update
from tests.support.receiver import Receiver

POLICIES = "/identity/conditionalAccess/policies"
AUDITS = "/auditLogs/directoryAudits"
ODD = "graphData.tenant-{}.conditional-access"
__all__ = ["alerts", "t"]  # the drift tests' fixtures, used here by name


def odd(host: Host, tenant_id: str) -> dict[str, Any]:
    found: dict[str, Any] = by_id(host)[ODD.format(tenant_id)]
    return found


def test_odd_policy_entries_are_named_once_and_every_real_policy_is_still_judged(
    host: Host, t: Tenant, graph: GraphSimulator, alerts: Receiver
) -> None:
    enforcing = ca_policy(CA_ALL, "Require compliant device")
    graph.serve_raw_pages(RawPages(POLICIES, [[enforcing, {"displayName": "no id"}, "text"]]))
    first = check(host)
    assert any("policy entry 2 of page 1: policy entry has no id" in p for p in first["problems"])
    assert first["modern"]["requiringCompliantDevice"] == [CA_ALL]
    found = odd(host, t.tenant_id)
    assert (found["severity"], found["status"]) == ("warning", "open")
    assert found["message"].startswith(
        "Graph returned a Conditional Access policy or directory audit event MTD Guard cannot judge: "
    )

    off = ca_policy(CA_ALL, "Require compliant device", state="disabled")
    twin = ca_policy(CA_ALL.upper(), "twin")
    graph.serve_raw_pages(RawPages(POLICIES, [[off, {"id": None}], [twin, off]]))
    second = check(host)
    assert any("listed 3 times" in p and "letter case" in p for p in second["problems"])
    assert second["modern"]["drifted"] == [CA_ALL]  # the real policy's drift is not silenced
    assert sorted(a["kind"] for a in sent(alerts)) == ["caPolicyDrift", "graphData"]  # one each

    graph.clear_raw_pages()
    t.policies = [ca_policy(CA_ALL, "Require compliant device")]
    t.push()
    assert check(host)["ok"]
    assert odd(host, t.tenant_id)["status"] == "resolved"


def test_audit_events_repeated_across_pages_are_processed_once_and_odd_ones_named(
    host: Host, t: Tenant, graph: GraphSimulator, alerts: Receiver
) -> None:
    edit = edited_update(P_LOOKOUT, LOOKOUT_NAME, ago(20), event_id="e1")
    off = disabled_update(P_ZIMPERIUM, ZIMPERIUM_NAME, ago(10), event_id="e2")
    nameless = {**edit, "id": ""}
    graph.serve_raw_pages(RawPages(AUDITS, [[edit, nameless, 7], [edit, off]]))
    result = check(host)
    assert [c["auditEventId"] for c in result["classic"]["changes"]] == ["e1", "e2"]
    assert any("audit event e1 listed 2 times" in p for p in result["problems"])
    assert any("audit event entry 3 of page 1: expected a JSON object" in p for p in result["problems"])
    kinds = sorted(a["kind"] for a in sent(alerts))
    assert kinds == ["classicPolicyDrift"] * 2 + ["classicPolicyHygiene", "graphData"]
    check(host)
    assert len(sent(alerts)) == 4  # nothing twice


def test_a_cycling_policy_list_reports_no_unread_policy_as_deleted_and_skips_coverage(
    host: Host, t: Tenant, graph: GraphSimulator, alerts: Receiver
) -> None:
    t.policies = [ca_policy(CA_ALL, "All platforms"), ca_policy(CA_IOS, "iOS", platforms=("iOS",))]
    t.push()
    assert check(host)["ok"]
    graph.serve_raw_pages(RawPages(POLICIES, [[t.policy(CA_ALL)], [t.policy(CA_ALL)]], links=[1, 0]))
    result = check(host)
    assert len([r for r in graph.requests if POLICIES in r.path]) <= 4  # stopped at once, not 1,000
    assert any("nextLink" in p for p in result["problems"])
    assert result["modern"]["drifted"] == []  # CA_IOS sat on a page never read: not "deleted"
    assert "platform coverage not checked: the policy list may be incomplete" in result["problems"]
    assert [a["kind"] for a in sent(alerts)] == ["graphData"]
    assert "nextLink" in odd(host, t.tenant_id)["message"]


def test_a_repeating_audit_next_link_keeps_the_cursor_so_unread_events_are_read_later(
    host: Host, t: Tenant, graph: GraphSimulator
) -> None:
    from shared.conditional_access.stored import audit_cursor

    edit = edited_update(P_LOOKOUT, LOOKOUT_NAME, ago(20), event_id="e1")
    off = disabled_update(P_ZIMPERIUM, ZIMPERIUM_NAME, ago(10), event_id="e2")
    graph.serve_raw_pages(RawPages(AUDITS, [[edit], [edit], [off]], links=[1, 1, None]))
    cut = check(host)
    assert [c["auditEventId"] for c in cut["classic"]["changes"]] == ["e1"]
    assert cut["classic"]["auditLog"]["complete"] is False
    cursor = audit_cursor(store(), t.tenant_id)
    assert cursor is not None and cursor.position < cursor.updated_at  # not moved to now

    graph.clear_raw_pages()
    t.events = [edit, off]
    t.push()
    later = check(host)
    assert [c["auditEventId"] for c in later["classic"]["changes"]] == ["e2"]
    assert odd(host, t.tenant_id)["status"] == "resolved"


def test_the_heartbeat_reading_cleanly_does_not_resolve_the_drift_jobs_finding(
    host: Host, t: Tenant, graph: GraphSimulator
) -> None:
    graph.serve_raw_pages(RawPages(POLICIES, [[{"state": "enabled"}]]))
    check(host)
    response = host.http("checks_run", "POST", "/api/checks/heartbeat")
    assert body(response)["ok"]
    assert odd(host, t.tenant_id)["status"] == "open"


def test_throttled_reads_raise_nothing_within_the_grace_then_one_warning_about_throttling(
    host: Host, t: Tenant, graph: GraphSimulator, alerts: Receiver, env: Any, mocker: MockerFixture
) -> None:
    from shared.clock import now_utc

    env(ALERT_WEBHOOK_URL=alerts.url, GRAPH_TRANSIENT_GRACE_MINUTES="60")
    fast_backoff(mocker)
    graph.add_fault(Fault(kind="status", status=429, path=POLICIES, times=None))
    graph.add_fault(Fault(kind="status", status=503, path=AUDITS, times=None))
    start = now_utc()
    clock = mocker.patch("shared.clock.system_now", return_value=start)
    first = check(host)
    assert "Microsoft Graph throttled Conditional Access policies (429, no Retry-After)" in " ".join(
        first["problems"]
    )
    clock.return_value = start + timedelta(minutes=30)
    check(host)
    assert sent(alerts) == [] and findings(host, kind="graphAccess") == []

    clock.return_value = start + timedelta(minutes=61)
    check(host)
    assert sorted((a["kind"], a["severity"]) for a in sent(alerts)) == [("graphAccess", "warning")] * 2
    for found in findings(host, kind="graphAccess"):
        assert "service health" in found["remediation"] and "access problem" not in found["remediation"]
    check(host)
    assert len(sent(alerts)) == 2  # still throttled: no second alert

    graph.clear_faults()
    clock.return_value = start + timedelta(minutes=90)
    assert check(host)["ok"]
    assert {f["status"] for f in findings(host, kind="graphAccess")} == {"resolved"}


def test_a_throttled_run_between_clean_ones_raises_nothing_and_a_403_still_raises_at_once(
    host: Host, t: Tenant, graph: GraphSimulator, alerts: Receiver, mocker: MockerFixture
) -> None:
    fast_backoff(mocker)
    graph.add_fault(Fault(kind="status", status=504, path=AUDITS, times=4))
    assert not check(host)["ok"]
    assert check(host)["ok"]
    assert sent(alerts) == []  # no "cannot read", no "access restored"
    graph.add_fault(Fault(kind="status", status=403, path=AUDITS, times=None))
    check(host)
    assert [(a["kind"], a["severity"]) for a in sent(alerts)] == [("graphAccess", "warning")]
