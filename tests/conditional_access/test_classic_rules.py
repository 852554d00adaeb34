"""Classic Conditional Access rules, pure: planned removals, the hygiene and audit-gap findings, and
the finding and alert of one classic change, field by field. End to end: test_drift.py."""

from __future__ import annotations

from dataclasses import replace
from datetime import UTC, datetime, timedelta
from typing import Any

import pytest

from shared.alerting.alerts import Alert
from shared.conditional_access.classic.changes import plan_change
from shared.conditional_access.classic.hygiene import plan_gap, plan_hygiene
from shared.conditional_access.classic.inventory import InvalidInventory
from shared.conditional_access.classic.matching import ClassicChange
from shared.conditional_access.classic.removals import parse_removal
from shared.conditional_access.classic.rows import (
    AuditCursor,
    ClassicPolicy,
    Drift,
    PlannedRemoval,
    PolicyState,
)
from shared.findings.model import FindingStatus, Severity
from tests.conftest import LOOKOUT

NOW = datetime(2026, 11, 20, 12, 0, tzinfo=UTC)
PID = "3f1c2a9e-7b0d-4c55-9e61-0a8b6c1d0001"


def classic(name: str = "Lookout MTD", state: PolicyState = PolicyState.ENABLED, **kw: Any) -> ClassicPolicy:
    fields: dict[str, Any] = {
        "tenant_id": "t",
        "key": PID,
        "policy_id": PID,
        "display_name": name,
        "state": state,
        "partner_id": LOOKOUT,
        "partner": "Lookout for Work",
        "content_hash": None,
        "source": "audit",
        "first_seen": NOW - timedelta(days=1),
        "updated_at": NOW - timedelta(days=1),
    }
    fields.update(kw)
    return ClassicPolicy(**fields)


def refused(body: Any) -> list[str]:
    with pytest.raises(InvalidInventory) as raised:
        parse_removal(body, tenant_id="t", who="ops", now=NOW)
    errors = [str(e) for e in raised.value.errors]
    assert str(raised.value) == "; ".join(errors)
    return errors


def test_an_announcement_is_read_with_its_window_and_names() -> None:
    removal = parse_removal(
        {
            "policyId": PID,
            "displayName": " Lookout MTD ",
            "partner": "lookout",
            "ticket": " CHG1 ",
            "note": "n",
            "expiresInDays": 90,
        },
        tenant_id="t",
        who="ops",
        now=NOW,
    )
    assert (removal.tenant_id, removal.announced_by, removal.announced_at, removal.expires_at) == (
        "t",
        "ops",
        NOW,
        NOW + timedelta(days=90),
    )
    assert (removal.policy_id, removal.display_name, removal.partner_id, removal.ticket, removal.note) == (
        PID,
        "Lookout MTD",
        LOOKOUT,
        "CHG1",
        "n",
    )
    assert len(removal.id) == 36
    assert removal.target == f"policy {PID}, 'Lookout MTD', every classic policy of Lookout for Work"
    default = parse_removal({"displayName": "x"}, tenant_id="t", who="ops", now=NOW)
    assert default.expires_at == NOW + timedelta(days=30) and default.target == "'x'"
    assert (default.policy_id, default.partner_id, default.ticket, default.note) == (None, None, None, None)
    assert parse_removal(
        {"displayName": "x", "expiresInDays": 1}, tenant_id="t", who="o", now=NOW
    ).expires_at == NOW + timedelta(days=1)


def test_every_problem_of_an_announcement_is_listed() -> None:
    assert refused([]) == ["/: the body must be a JSON object"]
    whole: Any
    for whole in ([], {}):  # the problem+json pointer of the whole body is "" (RFC 6901)
        with pytest.raises(InvalidInventory) as raised:
            parse_removal(whole, tenant_id="t", who="ops", now=NOW)
        assert [e.pointer for e in raised.value.errors] == [""]
    assert refused({}) == [
        "/: the body must name what will be removed: policyId, displayName or partner (at least one)"
    ]
    assert refused(
        {"x": 1, "policyId": "abc", "ticket": "", "note": 5, "partner": "nokia", "expiresInDays": 91}
    ) == [
        "/x: unknown field (allowed: displayName, expiresInDays, note, partner, policyId, ticket)",
        "/ticket: must be text of 1 to 128 characters",
        "/note: must be text of 1 to 1000 characters",
        "/policyId: must be the policy's object id (a GUID)",
        "/partner: not a known partner slug or connector id",
        "/expiresInDays: a whole number of days from 1 to 90",
    ]
    assert refused({"displayName": "x" * 257, "expiresInDays": True}) == [
        "/displayName: must be text of 1 to 256 characters",
        "/expiresInDays: a whole number of days from 1 to 90",
    ]
    assert refused({"policyId": "a" * 65}) == ["/policyId: must be text of 1 to 64 characters"]
    assert refused({"partner": 7, "expiresInDays": 0}) == [
        "/partner: not a known partner slug or connector id",
        "/expiresInDays: a whole number of days from 1 to 90",
    ]
    assert refused({"partner": "7d9a6c1e-0000-4000-8000-00000000beef"}) == [
        "/partner: not a known partner slug or connector id"
    ]
    assert (
        parse_removal({"displayName": "x" * 256, "ticket": "t" * 128}, tenant_id="t", who="o", now=NOW).ticket
        == "t" * 128
    )


def test_a_removal_covers_its_window_by_id_name_or_partner() -> None:
    window: dict[str, Any] = {
        "tenant_id": "t",
        "id": "r",
        "announced_by": "ops",
        "announced_at": NOW,
        "expires_at": NOW + timedelta(days=1),
    }
    policy = classic()
    assert PlannedRemoval(**window, policy_id=PID.upper()).covers(policy, NOW)
    assert PlannedRemoval(**window, display_name="LOOKOUT mtd").covers(policy, NOW + timedelta(days=1))
    assert PlannedRemoval(**window, partner_id=LOOKOUT).covers(policy, NOW)
    assert not PlannedRemoval(**window, partner_id=LOOKOUT).covers(classic(partner_id=None), NOW)
    assert not PlannedRemoval(**window, policy_id="other").covers(policy, NOW)
    assert not PlannedRemoval(**window, policy_id=PID).covers(classic(policy_id=None), NOW)
    assert not PlannedRemoval(**window, display_name="other").covers(policy, NOW)
    assert not PlannedRemoval(**window, display_name="other").covers(classic(partner_id=None), NOW)
    assert not PlannedRemoval(**window).covers(policy, NOW)
    assert not PlannedRemoval(**window, policy_id=PID).covers(policy, NOW - timedelta(seconds=1))
    assert not PlannedRemoval(**window, policy_id=PID).covers(policy, NOW + timedelta(days=1, seconds=1))


def hygiene(baseline: dict[str, ClassicPolicy], existing: Any = None):
    return plan_hygiene(baseline, existing, tenant_id="t", now=NOW, channels=["webhook"])


def test_the_hygiene_finding_lists_the_remaining_classic_policies_and_resolves_once() -> None:
    assert hygiene({}) == (None, None)
    baseline = {
        "a": classic("zeta policy"),
        "b": classic("Alpha", partner=None),
        "c": classic("gone", PolicyState.DELETED),
    }
    finding, alert = hygiene(baseline)
    assert finding is not None and alert is not None
    assert (finding.id, finding.kind, finding.resource_id, finding.resource_name, finding.severity) == (
        "classicPolicyHygiene.classic-policies",
        "classicPolicyHygiene",
        "classic-policies",
        "classic MTD Conditional Access policies",
        Severity.INFO,
    )
    assert finding.message == (
        "2 classic MTD Conditional Access policies still exist: 'Alpha'; 'zeta policy' (Lookout for Work)."
    )
    assert "2404" in finding.remediation and "delete, never disable" in finding.remediation
    assert (
        alert.title == "Classic CA policies still exist (obsolete since 2404)"
        and alert.severity is Severity.INFO
    )
    assert (finding.tenant_id, finding.first_seen, finding.last_seen, alert.detected_at) == (
        "t",
        NOW,
        NOW,
        NOW,
    )
    assert hygiene(baseline, finding) == (None, None)  # nothing new
    earlier = replace(finding, first_seen=NOW - timedelta(days=3))
    one, none = hygiene({"a": classic("zeta policy")}, earlier)
    assert none is None and one is not None
    assert (one.first_seen, one.last_seen) == (NOW - timedelta(days=3), NOW)  # the same finding, updated
    assert (
        one.message
        == "1 classic MTD Conditional Access policy still exists: 'zeta policy' (Lookout for Work)."
    )
    done, closing = hygiene({"c": classic("gone", PolicyState.DELETED)}, finding)
    assert done is not None and done.status is FindingStatus.RESOLVED
    assert done.message == "No classic MTD policy is known to remain."
    assert closing is not None and closing.title == "No classic CA policies remain"


def test_the_hygiene_finding_resolves_at_the_time_the_last_classic_policy_is_gone() -> None:
    finding, _ = hygiene({"a": classic("zeta policy")})
    assert finding is not None
    later = NOW + timedelta(hours=5)
    done, closing = plan_hygiene({}, finding, tenant_id="t", now=later, channels=["webhook"])
    assert done == replace(
        finding,
        status=FindingStatus.RESOLVED,
        message="No classic MTD policy is known to remain.",
        last_seen=later,
        resolved_at=later,
    )
    assert closing is not None and replace(closing, alert_id="") == Alert(
        alert_id="",
        tenant_id="t",
        kind="classicPolicyHygiene",
        finding_id="classicPolicyHygiene.classic-policies",
        severity=Severity.INFO,
        title="No classic CA policies remain",
        reason="No classic MTD policy is known to remain.",
        detected_at=later,
        details={"status": "resolved", "resourceId": "classic-policies"},
        deliveries=closing.deliveries,
        resolves=True,
        remediation=None,
    )


def test_the_audit_gap_is_a_warning_past_the_retention_only() -> None:
    def gap(position: datetime, existing: Any = None):
        cursor = AuditCursor("t", "directoryAudits", position, NOW)
        return plan_gap(cursor, existing, retention_days=30, tenant_id="t", now=NOW, channels=[])

    assert plan_gap(None, None, retention_days=30, tenant_id="t", now=NOW, channels=[]) == (None, None)
    assert gap(NOW - timedelta(days=30)) == (None, None)
    finding, alert = gap(NOW - timedelta(days=30, seconds=1))
    assert finding is not None and alert is not None
    assert (finding.id, finding.resource_name, finding.severity) == (
        "auditLogGap.directory-audit-log",
        "Entra directory audit log",
        Severity.WARNING,
    )
    assert finding.message == (
        "The directory audit log was last read up to 2026-10-21T11:59:59Z, but it keeps events for 30 days "
        "only: changes to classic CA policies between 2026-10-21T11:59:59Z and 2026-10-21T12:00:00Z may "
        "have been missed."
    )
    assert finding.remediation.startswith("Re-export the classic policy inventory from the Entra portal")
    assert alert.title == "Classic CA policy changes may have been missed"
    assert (finding.tenant_id, finding.first_seen, alert.detected_at) == ("t", NOW, NOW)
    again, none = gap(NOW - timedelta(days=40), replace(finding, first_seen=NOW - timedelta(days=2)))
    assert none is None and again is not None and again.last_seen == NOW
    assert again.first_seen == NOW - timedelta(days=2)


def change(drift: Drift, **kw: Any) -> ClassicChange:
    fields: dict[str, Any] = {
        "drift": drift,
        "policy_id": PID,
        "display_name": "Lookout MTD",
        "at": NOW - timedelta(hours=1),
        "source": "audit",
    }
    fields.update(kw)
    return ClassicChange(**fields)


def test_a_disabled_classic_policy_is_one_high_finding_with_evidence_and_one_alert() -> None:
    plan = plan_change(
        change(
            Drift.DISABLED,
            new_state=PolicyState.DISABLED,
            by="helpdesk@contoso.com",
            event_id="Directory_1",
            evidence="State Enabled -> Disabled",
        ),
        {PID: classic()},
        {},
        [],
        tenant_id="t",
        now=NOW,
        channels=["webhook"],
    )
    assert plan.policy.state is PolicyState.DISABLED
    assert plan.policy.last_change == "disabled by helpdesk@contoso.com (event Directory_1)"
    assert plan.replaces_key is None and plan.removal is None
    [finding] = plan.findings
    assert (finding.id, finding.severity, finding.resource_name) == (
        f"classicPolicyDrift.{PID}.disabled",
        Severity.HIGH,
        "Lookout MTD",
    )
    assert finding.message == (
        "Classic CA policy 'Lookout MTD' (Lookout for Work) was disabled on 2026-11-20T11:00:00Z by "
        "helpdesk@contoso.com. A disabled classic policy cannot be re-enabled. "
        "Evidence: State Enabled -> Disabled."
    )
    assert finding.remediation.startswith(
        "A disabled classic policy cannot be re-enabled. Delete it instead (announce the removal first with "
        "POST /api/ca/planned-removals). If this tenant still depends on it"
    )
    assert "delete and re-create the Lookout for Work connector in Intune" in finding.remediation
    [alert] = plan.alerts
    assert alert.title == "Classic CA policy 'Lookout MTD' was disabled"
    assert {
        k: alert.details[k]
        for k in (
            "policyId",
            "policyName",
            "partner",
            "drift",
            "planned",
            "ticket",
            "changedAt",
            "changedBy",
            "source",
            "auditEventId",
        )
    } == {
        "policyId": PID,
        "policyName": "Lookout MTD",
        "partner": "Lookout for Work",
        "drift": "disabled",
        "planned": False,
        "ticket": None,
        "changedAt": "2026-11-20T11:00:00Z",
        "changedBy": "helpdesk@contoso.com",
        "source": "audit",
        "auditEventId": "Directory_1",
    }
    again = plan_change(
        change(Drift.DISABLED),
        {PID: plan.policy},
        {finding.id: finding},
        [],
        tenant_id="t",
        now=NOW,
        channels=[],
    )
    assert again.alerts == []


def test_a_planned_deletion_is_info_and_records_its_use_on_the_removal() -> None:
    removal = PlannedRemoval(
        "t",
        "r",
        "ops@contoso.com",
        NOW - timedelta(days=1),
        NOW + timedelta(days=1),
        partner_id=LOOKOUT,
        ticket="CHG7",
    )
    plan = plan_change(
        change(Drift.DELETED, new_state=PolicyState.DELETED),
        {PID: classic()},
        {},
        [removal],
        tenant_id="t",
        now=NOW,
        channels=[],
    )
    assert plan.policy.state is PolicyState.DELETED
    [finding] = plan.findings
    assert finding.severity is Severity.INFO
    assert finding.message == (
        "Classic CA policy 'Lookout MTD' (Lookout for Work) was deleted on 2026-11-20T11:00:00Z "
        "(initiator not logged), as announced by ops@contoso.com on 2026-11-19T12:00:00Z, ticket CHG7: "
        "cleanup as Microsoft now recommends."
    )
    assert finding.remediation.startswith("Nothing to do: this is the cleanup Microsoft now recommends.")
    assert plan.alerts[0].title == "Classic CA policy 'Lookout MTD' deleted as planned"
    assert plan.alerts[0].details["planned"] is True and plan.alerts[0].details["ticket"] == "CHG7"
    assert plan.removal is not None and plan.removal.used_at == NOW and plan.removal.used_by == [PID]
    unplanned = plan_change(
        change(Drift.DELETED), {PID: classic()}, {}, [], tenant_id="t", now=NOW, channels=[]
    )
    assert unplanned.findings[0].severity is Severity.HIGH and unplanned.removal is None
    assert (
        unplanned.alerts[0].title == "Classic CA policy 'Lookout MTD' was deleted without a planned removal"
    )
