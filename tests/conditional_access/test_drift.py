"""Conditional Access drift end to end: functions called as the host calls them, real Azurite, the
Graph simulator serving the directory audit log and CA policies, a local webhook taking alerts."""

from __future__ import annotations

import json
import threading
from collections import Counter
from datetime import UTC, datetime, timedelta
from typing import Any

import pytest
from pytest_mock import MockerFixture

from graphsim import Fault, GraphSimulator
from shared import context
from shared.conditional_access import drift
from shared.conditional_access.classic.rows import AUDIT_CURSOR, AuditCursor
from shared.conditional_access.stored import audit_cursor
from shared.store.state import StateStore, StoreError
from tests.conftest import DEFENDER, LOOKOUT, ZIMPERIUM, Host, body
from tests.support.ca_payloads import audit_event, ca_policy, detail, disabled_update, edited_update
from tests.support.receiver import Receiver

P_LOOKOUT = "3f1c2a9e-7b0d-4c55-9e61-0a8b6c1d0001"
P_ZIMPERIUM = "3f1c2a9e-7b0d-4c55-9e61-0a8b6c1d0002"
P_DEFENDER = "3f1c2a9e-7b0d-4c55-9e61-0a8b6c1d0003"
P_OTHER = "3f1c2a9e-7b0d-4c55-9e61-0a8b6c1d0004"
P_MODERN = "3f1c2a9e-7b0d-4c55-9e61-0a8b6c1d0005"  # a modern policy (object ids are unique)
CA_ALL = "6a0f6f5e-1111-4c1d-8e00-00000000ca01"
CA_IOS = "6a0f6f5e-1111-4c1d-8e00-00000000ca02"
CA_MFA = "6a0f6f5e-1111-4c1d-8e00-00000000ca03"
LOOKOUT_NAME = "Lookout for Work MTD policy"
ZIMPERIUM_NAME = "Zimperium device compliance"
DEFENDER_NAME = "Microsoft Defender ATP classic policy"


def ago(minutes: float) -> str:
    """An absolute Graph timestamp (fixed now, so reloading the tenant does not move it)."""
    moment = datetime.now(UTC) - timedelta(minutes=minutes)
    return moment.strftime("%Y-%m-%dT%H:%M:%S.%f") + "0Z"


class Tenant:
    """The simulated tenant: edit the lists, then push() (reloads the whole scenario)."""

    def __init__(self, graph: GraphSimulator, tenant_id: str) -> None:
        self.graph = graph
        self.tenant_id = tenant_id
        self.events: list[dict[str, Any]] = []
        self.policies: list[dict[str, Any]] = []
        self.connectors: list[dict[str, Any]] = []
        self.page_size: int | None = None

    def push(self) -> None:
        scenario: dict[str, Any] = {
            "tenantId": self.tenant_id,
            "connectors": self.connectors,
            "directoryAudits": self.events,
            "conditionalAccessPolicies": self.policies,
        }
        if self.page_size:
            scenario["pageSize"] = self.page_size
        self.graph.load_scenario(scenario)

    def policy(self, policy_id: str) -> dict[str, Any]:
        return next(p for p in self.policies if p["id"] == policy_id)


@pytest.fixture
def t(graph: GraphSimulator, tenant_id: str) -> Tenant:
    tenant = Tenant(graph, tenant_id)
    tenant.push()
    return tenant


@pytest.fixture
def alerts(env: Any, receiver: Receiver) -> Receiver:
    env(ALERT_WEBHOOK_URL=receiver.url)
    return receiver


def check(host: Host, headers: dict[str, str] | None = None) -> dict[str, Any]:
    response = host.http("checks_ca_drift", "POST", "/api/checks/ca-drift", headers=headers)
    assert response.status_code == 200, response.get_body()
    assert response.mimetype == "application/json"
    result: dict[str, Any] = body(response)
    return result


def findings(host: Host, **params: str) -> list[dict[str, Any]]:
    response = host.http("findings_list", "GET", "/api/findings", params=params)
    assert response.status_code == 200, response.get_body()
    found: list[dict[str, Any]] = body(response)["findings"]
    return found


def by_id(host: Host) -> dict[str, dict[str, Any]]:
    return {f["id"]: f for f in findings(host, limit="200")}


def sent(receiver: Receiver, kind: str | None = None) -> list[dict[str, Any]]:
    return [p for p in receiver.payloads() if kind is None or p["kind"] == kind]


def classic_id(policy_id: str, drift: str) -> str:
    return f"classicPolicyDrift.{policy_id}.{drift}"


def store() -> StateStore:
    return context.services().store


# -- classic policies from the audit log -------------------------------------------------------------


def test_each_classic_drift_kind_from_audit_events_with_its_severity(
    host: Host, t: Tenant, alerts: Receiver
) -> None:
    t.events = [
        audit_event(
            "Add policy", P_LOOKOUT, LOOKOUT_NAME, ago(50), modified=[("PolicyDetail", "[]", detail())]
        ),
        edited_update(P_LOOKOUT, LOOKOUT_NAME, ago(40)),
        disabled_update(P_ZIMPERIUM, ZIMPERIUM_NAME, ago(30), by="helpdesk@contoso.onmicrosoft.com"),
        audit_event("Delete policy", P_DEFENDER, DEFENDER_NAME, ago(20)),
        # not classic MTD policies: another directory policy, a failed attempt, a modern CA change
        audit_event("Update policy", P_OTHER, "Token lifetime policy", ago(19)),
        audit_event("Delete policy", P_LOOKOUT, LOOKOUT_NAME, ago(18), result="failure"),
        audit_event(
            "Delete conditional access policy", P_MODERN, LOOKOUT_NAME, ago(17), service="Conditional Access"
        ),
    ]
    t.push()
    result = check(host)
    assert result["ok"], result["problems"]
    audit = result["classic"]["auditLog"]
    assert (audit["events"], audit["matched"], audit["complete"]) == (6, 4, True)  # 1 filtered by Graph
    changes = [(c["drift"], c["policyId"]) for c in result["classic"]["changes"]]
    assert changes == [
        ("added", P_LOOKOUT),
        ("modified", P_LOOKOUT),
        ("disabled", P_ZIMPERIUM),
        ("deleted", P_DEFENDER),
    ]

    found = by_id(host)
    added = found[classic_id(P_LOOKOUT, "added")]
    assert added["severity"] == "info" and added["status"] == "open"
    edited = found[classic_id(P_LOOKOUT, "modified")]
    assert edited["severity"] == "high"
    assert "Lookout for Work" in edited["message"] and "admin@contoso.onmicrosoft.com" in edited["message"]
    assert "PolicyDetail" in edited["message"]
    assert "never to edit classic MTD policies" in edited["remediation"]
    disabled = found[classic_id(P_ZIMPERIUM, "disabled")]
    assert disabled["severity"] == "high"
    assert "helpdesk@contoso.onmicrosoft.com" in disabled["message"]
    assert "cannot be re-enabled" in disabled["message"]
    assert (
        "cannot be re-enabled" in disabled["remediation"]
        and "re-create the Zimperium connector" in (disabled["remediation"])
    )
    deleted = found[classic_id(P_DEFENDER, "deleted")]
    assert deleted["severity"] == "high"
    # Unannounced: the message says who deleted it and when, and claims no announcement.
    assert deleted["message"].startswith(
        f"Classic CA policy '{DEFENDER_NAME}' (Microsoft Defender for Endpoint) was deleted on "
    )
    assert "Z by admin@contoso.onmicrosoft.com. Evidence: audit event 'Delete policy'" in deleted["message"]
    assert "as announced" not in deleted["message"] and "cleanup" not in deleted["message"]
    assert "delete and re-create the Microsoft Defender for Endpoint connector" in deleted["remediation"]
    assert "POST /api/ca/planned-removals" in deleted["remediation"]
    assert classic_id(P_OTHER, "modified") not in found

    drift_alerts = sent(alerts, "classicPolicyDrift")
    assert sorted((a["drift"], a["severity"]) for a in drift_alerts) == [
        ("added", "info"),
        ("deleted", "high"),
        ("disabled", "high"),
        ("modified", "high"),
    ]
    deletion = next(a for a in drift_alerts if a["drift"] == "deleted")
    assert deletion["planned"] is False and deletion["partner"] == "Microsoft Defender for Endpoint"
    assert "re-create the Microsoft Defender for Endpoint connector" in deletion["remediation"]
    assert deletion["resolvesFinding"] is False and deletion["changedBy"] == "admin@contoso.onmicrosoft.com"
    assert deletion["title"] == f"Classic CA policy '{DEFENDER_NAME}' was deleted without a planned removal"

    check(host)
    assert len(sent(alerts, "classicPolicyDrift")) == 4  # the same events never alert twice


def test_hygiene_finding_while_classic_policies_exist_resolves_when_none_remain(
    host: Host, t: Tenant, alerts: Receiver
) -> None:
    t.events = [audit_event("Add policy", P_LOOKOUT, LOOKOUT_NAME, ago(30))]
    t.push()
    check(host)
    hygiene = by_id(host)["classicPolicyHygiene.classic-policies"]
    assert hygiene["severity"] == "info" and hygiene["status"] == "open"
    assert LOOKOUT_NAME in hygiene["message"] and "(Lookout for Work)" in hygiene["message"]
    remediation = hygiene["remediation"]
    assert "2404" in remediation and "2308" in remediation and "Defender for Endpoint" in remediation
    assert "never disable" in remediation and "planned-removals" in remediation
    assert [a["title"] for a in sent(alerts, "classicPolicyHygiene")] == [
        "Classic CA policies still exist (obsolete since 2404)"
    ]
    check(host)
    assert len(sent(alerts, "classicPolicyHygiene")) == 1

    t.events.append(audit_event("Delete policy", P_LOOKOUT, LOOKOUT_NAME, ago(1)))
    t.push()
    check(host)
    assert by_id(host)["classicPolicyHygiene.classic-policies"]["status"] == "resolved"
    closing = sent(alerts, "classicPolicyHygiene")[-1]
    assert (closing["status"], closing["severity"], closing["resolvesFinding"]) == ("resolved", "info", True)


# -- incremental reading -------------------------------------------------------------------------------


def test_paging_is_followed_and_later_runs_read_only_what_is_new(
    host: Host, t: Tenant, alerts: Receiver, graph: GraphSimulator
) -> None:
    t.page_size = 2
    t.events = [edited_update(P_LOOKOUT, LOOKOUT_NAME, ago(100 - n), event_id=f"e{n}") for n in range(5)]
    t.events += [disabled_update(P_ZIMPERIUM, ZIMPERIUM_NAME, ago(90))]
    t.push()
    first = check(host)
    audit_reads = [  # the classic read (the modern events are read apart, by their own service)
        r
        for r in graph.requests
        if r.path == "/auditLogs/directoryAudits" and "Conditional Access" not in str(r.query)
    ]
    assert len(audit_reads) == 3  # 6 events in pages of 2, every nextLink followed
    assert "$skiptoken" in audit_reads[-1].query
    assert first["classic"]["auditLog"]["matched"] == 6
    flt = audit_reads[0].query["$filter"][0]
    assert "activityDateTime ge" in flt and "activityDateTime le" in flt
    assert "loggedByService eq 'Core Directory'" in flt and "category eq 'Policy'" in flt
    assert len(sent(alerts, "classicPolicyDrift")) == 2  # one finding per policy and drift

    # A second run re-reads only the overlap window and skips what it already processed.
    graph.clear_requests()
    second = check(host)
    assert second["classic"]["auditLog"]["matched"] == 0
    assert second["classic"]["auditLog"]["alreadyProcessed"] == 0  # the window starts after them
    since = datetime.fromisoformat(second["classic"]["auditLog"]["since"])
    assert since > datetime.fromisoformat(first["checkedAt"]) - timedelta(minutes=61)

    # New events and one logged late (its time lies before the last run's end, inside the overlap).
    t.events.append(audit_event("Delete policy", P_ZIMPERIUM, ZIMPERIUM_NAME, ago(0.5), event_id="new"))
    t.events.append(audit_event("Add policy", P_DEFENDER, DEFENDER_NAME, ago(20), event_id="late"))
    t.push()
    third = check(host)
    assert sorted(c["auditEventId"] for c in third["classic"]["changes"]) == ["late", "new"]
    assert len(sent(alerts, "classicPolicyDrift")) == 4
    fourth = check(host)
    assert fourth["classic"]["changes"] == []
    assert fourth["classic"]["auditLog"]["alreadyProcessed"] == 2  # seen again in the overlap: skipped


def test_events_sharing_the_cursor_instant_are_each_processed_once(
    host: Host, t: Tenant, alerts: Receiver
) -> None:
    instant = ago(5)
    t.events = [edited_update(P_LOOKOUT, LOOKOUT_NAME, instant, event_id="same-1")]
    t.push()
    check(host)
    # Two more events with exactly the same timestamp show up after the run (logged late).
    t.events += [
        disabled_update(P_ZIMPERIUM, ZIMPERIUM_NAME, instant, event_id="same-2"),
        audit_event("Delete policy", P_DEFENDER, DEFENDER_NAME, instant, event_id="same-3"),
    ]
    t.push()
    second = check(host)
    assert sorted(c["auditEventId"] for c in second["classic"]["changes"]) == ["same-2", "same-3"]
    assert second["classic"]["auditLog"]["alreadyProcessed"] == 1
    check(host)
    assert Counter(a["auditEventId"] for a in sent(alerts, "classicPolicyDrift")) == Counter(
        {"same-1": 1, "same-2": 1, "same-3": 1}
    )


def test_a_run_that_fails_midway_resumes_without_skipping_or_repeating(
    host: Host, t: Tenant, alerts: Receiver, mocker: MockerFixture
) -> None:
    t.events = [
        edited_update(P_LOOKOUT, LOOKOUT_NAME, ago(40), event_id="a"),
        disabled_update(P_ZIMPERIUM, ZIMPERIUM_NAME, ago(30), event_id="b"),
        audit_event("Delete policy", P_DEFENDER, DEFENDER_NAME, ago(20), event_id="c"),
    ]
    t.push()
    real_commit = StateStore.commit
    calls = {"events": 0}

    def failing_commit(self: StateStore, tenant: str, groups: Any) -> None:
        groups = list(groups)
        if any(type(row).__name__ == "ProcessedEvent" for group in groups for row in group):
            calls["events"] += 1
            if calls["events"] == 2:  # storage goes away while the second event is recorded
                raise StoreError("state storage unavailable: injected outage")
        real_commit(self, tenant, groups)

    # A storage outage at a chosen moment cannot be had from Azurite on demand: stand in for it.
    outage = mocker.patch.object(StateStore, "commit", failing_commit)
    failed = check(host)
    assert not failed["ok"] and "injected outage" in failed["problems"][0]
    assert [c["auditEventId"] for c in failed["classic"]["changes"]] == ["a"]
    assert failed["classic"]["auditLog"]["complete"] is False
    cursor = audit_cursor(store(), t.tenant_id)
    assert cursor is not None  # moved only as far as what was committed: event a
    assert (
        abs((cursor.position - datetime.fromisoformat(t.events[0]["activityDateTime"])).total_seconds()) < 1
    )

    mocker.stop(outage)
    resumed = check(host)
    assert resumed["ok"]
    assert [c["auditEventId"] for c in resumed["classic"]["changes"]] == ["b", "c"]
    assert resumed["classic"]["auditLog"]["alreadyProcessed"] == 1
    assert Counter(a["auditEventId"] for a in sent(alerts, "classicPolicyDrift")) == Counter(
        {"a": 1, "b": 1, "c": 1}
    )


def test_graph_failure_keeps_the_cursor_and_the_next_run_catches_up(
    host: Host, t: Tenant, alerts: Receiver, graph: GraphSimulator
) -> None:
    t.events = [edited_update(P_LOOKOUT, LOOKOUT_NAME, ago(10), event_id="x")]
    t.push()
    graph.add_fault(
        Fault(kind="status", status=403, code="Authorization_RequestDenied", path="/auditLogs", times=None)
    )
    failed = check(host)
    problem = failed["problems"][0]
    assert problem.startswith("could not read the directory audit log: 403 Forbidden")
    assert "AuditLog.Read.All" in problem and "CA_CLASSIC_SOURCE=import" in problem
    access = by_id(host)["graphAccess.directory-audit-log"]
    assert access["severity"] == "warning" and access["status"] == "open"
    assert audit_cursor(store(), t.tenant_id) is None
    assert failed["modern"]["policies"] == 0  # the rest of the check still ran

    graph.clear_faults()
    recovered = check(host)
    assert [c["auditEventId"] for c in recovered["classic"]["changes"]] == ["x"]
    assert by_id(host)["graphAccess.directory-audit-log"]["status"] == "resolved"
    assert [a["status"] for a in sent(alerts, "graphAccess")] == ["open", "resolved"]


def test_two_checks_at_once_process_every_event_exactly_once(
    host: Host, t: Tenant, alerts: Receiver, graph: GraphSimulator
) -> None:
    ids = [f"3f1c2a9e-7b0d-4c55-9e61-0a8b6c1d{n:04d}" for n in range(100, 112)]
    t.events = [
        edited_update(pid, f"Lookout policy {n}", ago(60 - n), event_id=f"c{n}") for n, pid in enumerate(ids)
    ]
    t.push()
    graph.add_fault(Fault(kind="slow", delay_seconds=0.3, path="/auditLogs", times=2))
    results: list[dict[str, Any]] = []

    def run() -> None:
        results.append(check(host))

    threads = [threading.Thread(target=run) for _ in range(2)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()
    processed = [c["auditEventId"] for r in results for c in r["classic"]["changes"]]
    assert sorted(processed) == sorted(e["id"] for e in t.events)  # each by exactly one run
    assert Counter(a["auditEventId"] for a in sent(alerts, "classicPolicyDrift")) == Counter(
        {e["id"]: 1 for e in t.events}
    )


def test_retention_gap_says_events_may_be_missed_and_an_import_closes_it(
    host: Host, t: Tenant, alerts: Receiver
) -> None:
    check(host)  # builds services for this tenant
    old = datetime.now(UTC) - timedelta(days=45)
    store().commit(t.tenant_id, [[AuditCursor(t.tenant_id, AUDIT_CURSOR, old, old)]])
    result = check(host)
    gap = by_id(host)["auditLogGap.directory-audit-log"]
    assert gap["severity"] == "warning"
    assert "keeps events for 30 days only" in gap["message"] and "may have been missed" in gap["message"]
    assert "PUT /api/ca/classic-baseline" in gap["remediation"]
    since = datetime.fromisoformat(result["classic"]["auditLog"]["since"])
    assert since >= datetime.now(UTC) - timedelta(days=30, minutes=5)  # reads what Graph still keeps
    check(host)
    assert len(sent(alerts, "auditLogGap")) == 1

    imported = host.http("classic_baseline_import", "PUT", "/api/ca/classic-baseline", body={"policies": []})
    assert imported.status_code == 200
    assert "auditLogGap.directory-audit-log" in body(imported)["resolvedFindings"]
    assert by_id(host)["auditLogGap.directory-audit-log"]["status"] == "resolved"


def test_retention_is_a_setting(host: Host, t: Tenant, env: Any) -> None:
    env(AUDIT_LOG_RETENTION_DAYS="7")
    check(host)
    old = datetime.now(UTC) - timedelta(days=8)
    store().commit(t.tenant_id, [[AuditCursor(t.tenant_id, AUDIT_CURSOR, old, old)]])
    check(host)
    assert "for 7 days only" in by_id(host)["auditLogGap.directory-audit-log"]["message"]


# -- matching is configurable ---------------------------------------------------------------------------


def test_matching_follows_the_settings(host: Host, t: Tenant, env: Any) -> None:
    t.events = [
        audit_event("Remove classic policy", P_LOOKOUT, "Legacy device rule", ago(10), service="Intune"),
        audit_event(
            "Update policy",
            P_OTHER,
            "Unnamed",
            ago(9),
            modified=[("PolicyType", json.dumps(["18"]), json.dumps(["18"]))],
        ),
        audit_event("Delete policy", P_ZIMPERIUM, ZIMPERIUM_NAME, ago(8)),
    ]
    t.push()
    env(
        CA_AUDIT_SERVICES="Intune, Core Directory",
        CA_AUDIT_ACTIVITIES="Remove classic policy=deleted, Update policy=modified",
        CA_CLASSIC_NAME_PATTERNS="legacy device*",
        CA_CLASSIC_POLICY_TYPE="PolicyType=18",
    )
    result = check(host)
    assert [(c["drift"], c["policyId"]) for c in result["classic"]["changes"]] == [
        ("deleted", P_LOOKOUT),
        ("modified", P_OTHER),
    ]  # "Delete policy" is no longer an activity; "Zimperium" no longer a name pattern
    assert "policy type PolicyType=18" in result["classic"]["changes"][1]["evidence"]


def test_bad_matching_settings_are_refused_with_the_reason(host: Host, env: Any) -> None:
    env(CA_AUDIT_ACTIVITIES="Delete policy=gone", CA_CLASSIC_DISABLED_WHEN="State")
    response = host.http("checks_ca_drift", "POST", "/api/checks/ca-drift")
    assert response.status_code == 503
    detail_text = body(response)["detail"]
    assert "CA_AUDIT_ACTIVITIES entry 'Delete policy=gone'" in detail_text
    assert "CA_CLASSIC_DISABLED_WHEN 'State' is not 'Property=value'" in detail_text


def test_import_source_never_reads_the_audit_log(
    host: Host, t: Tenant, env: Any, graph: GraphSimulator
) -> None:
    env(CA_CLASSIC_SOURCE="import")
    t.events = [audit_event("Delete policy", P_LOOKOUT, LOOKOUT_NAME, ago(5))]
    t.push()
    result = check(host)
    assert result["classic"]["auditLog"] is None and result["classic"]["source"] == "import"
    assert not [r for r in graph.requests if r.path.startswith("/auditLogs")]


# -- import of an inventory ----------------------------------------------------------------------------

INVENTORY = {
    "exportedAt": "2026-01-10T09:00:00Z",
    "exportedBy": "admin@contoso.onmicrosoft.com",
    "policies": [
        {
            "id": P_LOOKOUT,
            "displayName": LOOKOUT_NAME,
            "state": "enabled",
            "partner": "lookout",
            "details": {"includedGroups": ["All users"], "cloudApps": ["Office 365"]},
        },
        {"id": P_ZIMPERIUM, "displayName": ZIMPERIUM_NAME, "state": "enabled"},
        {"displayName": "Check Point classic policy", "state": "enabled"},
        {"id": P_DEFENDER, "displayName": DEFENDER_NAME, "state": "enabled"},
    ],
}


def put_inventory(host: Host, inventory: dict[str, Any], **headers: str) -> dict[str, Any]:
    response = host.http(
        "classic_baseline_import", "PUT", "/api/ca/classic-baseline", body=inventory, headers=headers
    )
    assert response.status_code == 200, response.get_body()
    result: dict[str, Any] = body(response)
    return result


def test_first_import_sets_the_baseline_and_later_imports_are_compared(
    host: Host, t: Tenant, alerts: Receiver
) -> None:
    first = put_inventory(host, INVENTORY)
    assert first["firstImport"] is True and first["changes"] == []
    partners = {p["displayName"]: p["partner"] for p in first["policies"]}
    assert partners == {
        LOOKOUT_NAME: "Lookout for Work",
        ZIMPERIUM_NAME: "Zimperium",
        "Check Point classic policy": "Check Point Harmony Mobile",
        DEFENDER_NAME: "Microsoft Defender for Endpoint",
    }
    baseline = body(host.http("classic_baseline_get", "GET", "/api/ca/classic-baseline"))
    assert len(baseline["policies"]) == 4 and baseline["lastImport"]["policies"] == 4
    assert baseline["lastImport"]["exportedAt"] == "2026-01-10T09:00:00Z"
    assert all(p["contentHash"] for p in baseline["policies"])
    assert sent(alerts, "classicPolicyDrift") == []
    assert "4 classic MTD" in by_id(host)["classicPolicyHygiene.classic-policies"]["message"]

    host.http("planned_removal_create", "POST", "/api/ca/planned-removals", body={"partner": "checkpoint"})
    second_inventory = {
        "policies": [
            {
                "id": P_LOOKOUT,
                "displayName": LOOKOUT_NAME,
                "state": "enabled",
                "details": {"includedGroups": ["Pilot"], "cloudApps": ["Office 365"]},
            },
            {"id": P_ZIMPERIUM, "displayName": ZIMPERIUM_NAME, "state": "disabled"},
            {"id": P_OTHER, "displayName": "Sophos MTD", "state": "enabled"},
        ]
    }
    second = put_inventory(host, second_inventory)
    drift = {(c["drift"], c["displayName"]) for c in second["changes"]}
    assert drift == {
        ("modified", LOOKOUT_NAME),
        ("disabled", ZIMPERIUM_NAME),
        ("added", "Sophos MTD"),
        ("deleted", "Check Point classic policy"),
        ("deleted", DEFENDER_NAME),
    }
    severities = {
        a["policyName"]: (a["drift"], a["severity"], a["planned"]) for a in sent(alerts, "classicPolicyDrift")
    }
    assert severities == {
        LOOKOUT_NAME: ("modified", "high", False),
        ZIMPERIUM_NAME: ("disabled", "high", False),
        "Sophos MTD": ("added", "info", False),
        "Check Point classic policy": ("deleted", "info", True),  # announced before the import
        DEFENDER_NAME: ("deleted", "high", False),
    }
    remaining = by_id(host)["classicPolicyHygiene.classic-policies"]["message"]
    assert "3 classic MTD" in remaining and "Sophos MTD" in remaining

    # Importing the same inventory again changes nothing and accepts the drift: findings resolve.
    third = put_inventory(host, second_inventory)
    assert third["changes"] == []
    assert len(third["resolvedFindings"]) == 5
    assert all(f["status"] == "resolved" for f in findings(host, kind="classicPolicyDrift"))
    assert len(sent(alerts, "classicPolicyDrift")) == 10  # five opened, five resolved: once each


def test_audit_events_for_imported_policies_match_by_id_or_by_name(host: Host, t: Tenant) -> None:
    put_inventory(
        host,
        {"policies": [{"displayName": "Contoso legacy rule", "state": "enabled"}]},  # no pattern would match
    )
    t.events = [disabled_update(P_OTHER, "Contoso legacy rule", ago(3))]
    t.push()
    result = check(host)
    assert [c["drift"] for c in result["classic"]["changes"]] == ["disabled"]
    assert "recognised by its baseline entry" in result["classic"]["changes"][0]["evidence"]
    baseline = body(host.http("classic_baseline_get", "GET", "/api/ca/classic-baseline"))["policies"]
    assert [(p["key"], p["policyId"], p["state"]) for p in baseline] == [(P_OTHER, P_OTHER, "disabled")]


def test_invalid_inventories_are_refused_naming_each_field(host: Host) -> None:
    bad = {
        "policies": [
            {"displayName": "", "state": "on"},
            {"id": "not-a-guid", "displayName": "x", "state": "enabled", "partner": "nokia"},
            {"displayName": "dup", "state": "enabled"},
            {"displayName": "DUP", "state": "disabled"},
        ],
        "extra": 1,
        "exportedAt": "0019-08-21T11:57:20Z",
    }
    response = host.http("classic_baseline_import", "PUT", "/api/ca/classic-baseline", body=bad)
    assert response.status_code == 400 and response.mimetype == "application/problem+json"
    pointers = {e["pointer"] for e in body(response)["errors"]}
    assert pointers == {  # RFC 6901, as the Problem schema and configure's errors give them
        "/extra",
        "/exportedAt",
        "/policies/0/displayName",
        "/policies/0/state",
        "/policies/1/id",
        "/policies/1/partner",
        "/policies/3",
    }
    assert (
        host.http("classic_baseline_import", "PUT", "/api/ca/classic-baseline", body=b"{").status_code == 400
    )


# -- planned versus unplanned deletion -------------------------------------------------------------------


def test_deletion_announced_beforehand_is_info_and_unannounced_or_late_is_high(
    host: Host, t: Tenant, alerts: Receiver, env: Any, monkeypatch: pytest.MonkeyPatch
) -> None:
    # who announced: the Entra principal
    env(ALERT_WEBHOOK_URL=alerts.url, REQUIRE_ENTRA_ROLE="true", WEBSITE_AUTH_ENABLED="True")
    operator = principal("MtdGuard.Operator")
    t.events = [
        audit_event("Add policy", P_LOOKOUT, LOOKOUT_NAME, ago(300)),
        audit_event("Add policy", P_ZIMPERIUM, ZIMPERIUM_NAME, ago(300)),
        audit_event("Add policy", P_DEFENDER, DEFENDER_NAME, ago(300)),
        audit_event("Delete policy", P_DEFENDER, DEFENDER_NAME, ago(120)),  # before the announcement
    ]
    t.push()
    # The announcements are made 3 minutes ago (the clock is the one thing mocked), so the
    # deletions a minute ago come after them, with no waiting.
    announced_at = datetime.now(UTC) - timedelta(minutes=3)
    with monkeypatch.context() as clock:
        clock.setattr(drift, "now_utc", lambda: announced_at)
        response = host.http(
            "planned_removal_create",
            "POST",
            "/api/ca/planned-removals",
            body={"policyId": P_LOOKOUT, "ticket": "CHG0042", "note": "cleanup after 2404"},
            headers=operator,
        )
        assert response.status_code == 201
        announced = body(response)
        assert announced["ticket"] == "CHG0042" and announced["announcedBy"] == "ops@contoso.onmicrosoft.com"
        late = host.http(
            "planned_removal_create",
            "POST",
            "/api/ca/planned-removals",
            body={"policyId": P_DEFENDER},
            headers=operator,
        )
        assert late.status_code == 201
    t.events += [
        audit_event("Delete policy", P_LOOKOUT, LOOKOUT_NAME, ago(1)),
        audit_event("Delete policy", P_ZIMPERIUM, ZIMPERIUM_NAME, ago(1)),
    ]
    t.push()
    check(host, operator)
    deletions = {a["policyName"]: a for a in sent(alerts, "classicPolicyDrift") if a["drift"] == "deleted"}
    planned = deletions[LOOKOUT_NAME]
    assert (planned["severity"], planned["planned"], planned["ticket"]) == ("info", True, "CHG0042")
    assert planned["title"] == f"Classic CA policy '{LOOKOUT_NAME}' deleted as planned"
    assert "cleanup as Microsoft now recommends" in planned["reason"]
    assert "ops@contoso.onmicrosoft.com" in planned["reason"]
    assert deletions[ZIMPERIUM_NAME]["severity"] == "high"  # never announced
    assert deletions[DEFENDER_NAME]["severity"] == "high"  # announced only after the fact
    baseline = body(host.http("classic_baseline_get", "GET", "/api/ca/classic-baseline", headers=operator))
    used = next(r for r in baseline["plannedRemovals"] if r["policyId"] == P_LOOKOUT)
    assert used["usedAt"] is not None


def test_planned_removal_validation(host: Host) -> None:
    for payload, pointer in (
        ({}, ""),  # RFC 6901: "" is the whole body
        ({"policyId": "abc"}, "/policyId"),
        ({"partner": "nokia"}, "/partner"),
        ({"displayName": "x", "expiresInDays": 365}, "/expiresInDays"),
        ({"displayName": "x", "when": "now"}, "/when"),
    ):
        response = host.http("planned_removal_create", "POST", "/api/ca/planned-removals", body=payload)
        assert response.status_code == 400, payload
        assert pointer in [e["pointer"] for e in body(response)["errors"]]


# -- modern policies ---------------------------------------------------------------------------------------


def connectors(*spec: tuple[str, dict[str, bool]]) -> list[dict[str, Any]]:
    return [
        {"id": cid, "partnerState": "enabled", "lastHeartbeatDateTime": "now-1h", **toggles}
        for cid, toggles in spec
    ]


@pytest.mark.parametrize(
    ("change", "reason"),
    [
        ({"state": "disabled"}, "was turned off"),
        ({"state": "enabledForReportingButNotEnforced"}, "was switched to report-only"),
        ("delete", "was deleted"),
        ({"grantControls": {"operator": "OR", "builtInControls": ["mfa"]}}, "no longer requires a compliant"),
    ],
)
def test_modern_policy_that_stops_requiring_compliance_is_high_and_resolves_when_restored(
    host: Host, t: Tenant, alerts: Receiver, change: Any, reason: str
) -> None:
    t.connectors = connectors((LOOKOUT, {"iosEnabled": True}))
    t.policies = [ca_policy(CA_ALL, "Require compliant device"), ca_policy(CA_MFA, "MFA", controls=("mfa",))]
    t.push()
    first = check(host)
    assert first["modern"]["requiringCompliantDevice"] == [CA_ALL]
    assert first["modern"]["coverage"] == {"iOS": True}
    assert sent(alerts, "caPolicyDrift") == []

    original = t.policy(CA_ALL)
    if change == "delete":
        t.policies = [p for p in t.policies if p["id"] != CA_ALL]
    else:
        t.policies = [{**original, **change} if p["id"] == CA_ALL else p for p in t.policies]
    t.push()
    drifted = check(host)
    assert drifted["modern"]["drifted"] == [CA_ALL]
    finding = by_id(host)[f"caPolicyDrift.{CA_ALL}"]
    assert finding["severity"] == "high" and reason in finding["message"]
    assert "MTD enforcement through it has stopped" in finding["message"]
    assert drifted["modern"]["coverage"] == {"iOS": False}
    check(host)
    assert [(a["severity"], a["status"]) for a in sent(alerts, "caPolicyDrift")] == [("high", "open")]
    assert [a["platform"] for a in sent(alerts, "caCoverage")] == ["iOS"]

    t.policies = [original, ca_policy(CA_MFA, "MFA", controls=("mfa",))]
    t.push()
    check(host)
    assert by_id(host)[f"caPolicyDrift.{CA_ALL}"]["status"] == "resolved"
    assert [(a["severity"], a["status"]) for a in sent(alerts, "caPolicyDrift")] == [
        ("high", "open"),
        ("info", "resolved"),
    ]
    assert by_id(host)["caCoverage.ios"]["status"] == "resolved"


def test_coverage_warning_per_platform_with_an_enabled_connector(
    host: Host, t: Tenant, alerts: Receiver
) -> None:
    t.connectors = connectors(
        (LOOKOUT, {"androidEnabled": True, "iosEnabled": True}),
        (DEFENDER, {"windowsEnabled": True, "iosEnabled": True}),
        (ZIMPERIUM, {}),  # connected but no platform enabled: needs no policy
    )
    t.policies = [
        ca_policy(CA_IOS, "iOS compliant", platforms=("iOS",)),
        ca_policy(CA_ALL, "Compliant or MFA", controls=("compliantDevice", "mfa"), platforms=("android",)),
        ca_policy(
            CA_MFA, "Windows report-only", platforms=("windows",), state="enabledForReportingButNotEnforced"
        ),
    ]
    t.push()
    result = check(host)
    assert result["modern"]["coverage"] == {"android": False, "iOS": True, "windows": False}
    # Created report-only, never seen enforcing: nothing stopped enforcing, so no drift.
    assert result["modern"]["drifted"] == []
    found = by_id(host)
    assert f"caPolicyDrift.{CA_MFA}" not in found
    android = found["caCoverage.android"]
    assert android["severity"] == "warning"
    assert (
        "Lookout for Work" in android["message"]
        and "no enabled Conditional Access policy" in android["message"]
    )
    assert "'Compliant or MFA' also lets devices in with mfa" in android["message"]
    assert "'Windows report-only' is report-only" in found["caCoverage.windows"]["message"]
    assert "caCoverage.ios" not in found and "caCoverage.macos" not in found
    check(host)
    assert sorted(a["platform"] for a in sent(alerts, "caCoverage")) == ["android", "windows"]
    assert sent(alerts, "caPolicyDrift") == []

    t.policies[1] = ca_policy(
        CA_ALL,
        "Compliant and MFA",
        controls=("compliantDevice", "mfa"),
        operator="AND",
        platforms=("android",),
    )
    t.connectors = connectors((LOOKOUT, {"androidEnabled": True, "iosEnabled": True}))
    t.push()
    check(host)
    found = by_id(host)
    assert found["caCoverage.android"]["status"] == "resolved"
    assert found["caCoverage.windows"]["status"] == "resolved"
    assert "no connector enables it any more" in found["caCoverage.windows"]["message"]


def test_policy_read_403_names_policy_read_all(host: Host, t: Tenant, graph: GraphSimulator) -> None:
    graph.add_fault(Fault(kind="status", status=403, path="/identity/conditionalAccess", times=None))
    result = check(host)
    assert any("Policy.Read.All" in p for p in result["problems"])
    assert by_id(host)["graphAccess.conditional-access-policies"]["status"] == "open"
    assert result["modern"]["policies"] is None and result["modern"]["coverage"] == {}


# -- findings: list, acknowledge, resolve --------------------------------------------------------------------


def principal(*roles: str, name: str = "ops@contoso.onmicrosoft.com") -> dict[str, str]:
    import base64

    claims = [{"typ": "roles", "val": r} for r in roles] + [{"typ": "preferred_username", "val": name}]
    encoded = base64.b64encode(json.dumps({"claims": claims, "role_typ": "roles"}).encode()).decode()
    return {"X-MS-CLIENT-PRINCIPAL": encoded, "X-MS-CLIENT-PRINCIPAL-ID": "0000-principal"}


def test_acknowledged_findings_stop_alerting_and_still_resolve_once(
    host: Host, t: Tenant, alerts: Receiver, env: Any
) -> None:
    env(ALERT_WEBHOOK_URL=alerts.url, REQUIRE_ENTRA_ROLE="true", WEBSITE_AUTH_ENABLED="True")
    t.connectors = connectors((LOOKOUT, {"iosEnabled": True}))
    t.policies = [ca_policy(CA_ALL, "Require compliant device")]
    t.push()
    operator = principal("MtdGuard.Operator")
    assert host.http("checks_ca_drift", "POST", "/api/checks/ca-drift", headers=operator).status_code == 200
    t.policies = [{**t.policy(CA_ALL), "state": "disabled"}]
    t.push()
    host.http("checks_ca_drift", "POST", "/api/checks/ca-drift", headers=operator)
    fid = f"caPolicyDrift.{CA_ALL}"

    reader = principal("MtdGuard.Reader", name="auditor@contoso.onmicrosoft.com")
    refused = host.http(
        "finding_acknowledge", "POST", f"/api/findings/{fid}/ack", route_params={"id": fid}, headers=reader
    )
    assert refused.status_code == 403
    acked = host.http(
        "finding_acknowledge",
        "POST",
        f"/api/findings/{fid}/ack",
        route_params={"id": fid},
        body={"note": "planned maintenance, CHG0042"},
        headers=operator,
    )
    assert acked.status_code == 200
    view = body(acked)
    assert view["status"] == "acknowledged" and view["note"] == "planned maintenance, CHG0042"
    assert view["acknowledgedBy"] == "ops@contoso.onmicrosoft.com" and view["acknowledgedAt"]

    # Still broken, now deleted outright: no alert for an acknowledged finding.
    t.policies = []
    t.push()
    host.http("checks_ca_drift", "POST", "/api/checks/ca-drift", headers=operator)
    listed = findings_as(host, reader, kind="caPolicyDrift")
    assert listed[0]["status"] == "acknowledged" and "was deleted" in listed[0]["message"]
    assert [a["status"] for a in sent(alerts, "caPolicyDrift")] == ["open"]

    t.policies = [ca_policy(CA_ALL, "Require compliant device")]  # restored
    t.push()
    host.http("checks_ca_drift", "POST", "/api/checks/ca-drift", headers=operator)
    assert findings_as(host, reader, kind="caPolicyDrift")[0]["status"] == "resolved"
    assert [a["status"] for a in sent(alerts, "caPolicyDrift")] == ["open", "resolved"]

    closed = host.http(
        "finding_acknowledge", "POST", f"/api/findings/{fid}/ack", route_params={"id": fid}, headers=operator
    )
    assert closed.status_code == 409
    missing = host.http(
        "finding_acknowledge",
        "POST",
        "/api/findings/nope/ack",
        route_params={"id": "nope"},
        headers=operator,
    )
    assert missing.status_code == 404
    bad = host.http(
        "finding_acknowledge",
        "POST",
        f"/api/findings/{fid}/ack",
        route_params={"id": fid},
        body={"note": 5},
        headers=operator,
    )
    assert bad.status_code == 400


def findings_as(host: Host, headers: dict[str, str], **params: str) -> list[dict[str, Any]]:
    response = host.http("findings_list", "GET", "/api/findings", params=params, headers=headers)
    assert response.status_code == 200, response.get_body()
    found: list[dict[str, Any]] = body(response)["findings"]
    return found


def test_findings_list_filters_pages_and_includes_heartbeat_findings(host: Host, t: Tenant) -> None:
    t.connectors = connectors((LOOKOUT, {"androidEnabled": True, "iosEnabled": True, "windowsEnabled": True}))
    t.connectors[0]["lastHeartbeatDateTime"] = "now-9d"
    t.events = [
        edited_update(P_LOOKOUT, LOOKOUT_NAME, ago(5)),
        audit_event("Add policy", P_ZIMPERIUM, ZIMPERIUM_NAME, ago(4)),
    ]
    t.push()
    host.http("checks_run", "POST", "/api/checks/heartbeat")
    check(host)

    everything = findings(host)
    kinds = [f["kind"] for f in everything]
    assert {"heartbeat", "classicPolicyDrift", "classicPolicyHygiene", "caCoverage"} <= set(kinds)
    severities = [f["severity"] for f in everything]
    assert severities == sorted(severities, key=["high", "warning", "info"].index)  # worst first

    assert {f["kind"] for f in findings(host, kind="heartbeat")} == {"heartbeat"}
    assert {f["severity"] for f in findings(host, severity="info,warning")} == {"info", "warning"}
    assert findings(host, status="resolved") == []

    pages: list[str] = []
    token: str | None = None
    while True:
        params = {"limit": "2", **({"continuationToken": token} if token else {})}
        response = body(host.http("findings_list", "GET", "/api/findings", params=params))
        pages += [f["id"] for f in response["findings"]]
        token = response["continuationToken"]
        if token is None:
            break
    assert pages == [f["id"] for f in everything]  # same order, nothing repeated or skipped

    first_page = body(host.http("findings_list", "GET", "/api/findings", params={"limit": "1"}))
    other_filters = host.http(
        "findings_list",
        "GET",
        "/api/findings",
        params={"kind": "heartbeat", "continuationToken": first_page["continuationToken"]},
    )
    assert other_filters.status_code == 400
    for params in (
        {"kind": "bogus"},
        {"severity": "critical"},
        {"continuationToken": "garbage"},
        {"limit": "0"},
    ):
        assert host.http("findings_list", "GET", "/api/findings", params=params).status_code == 400


def test_the_timer_runs_the_same_check(host: Host, t: Tenant, functions: dict[str, Any]) -> None:
    trigger = json.loads(functions["ca_drift_monitor"].get_function_json())["bindings"][0]
    assert trigger["schedule"] == "%CA_DRIFT_SCHEDULE%" and trigger["type"] == "timerTrigger"
    t.events = [edited_update(P_LOOKOUT, LOOKOUT_NAME, ago(2))]
    t.push()
    host.timer("ca_drift_monitor")
    assert classic_id(P_LOOKOUT, "modified") in by_id(host)
