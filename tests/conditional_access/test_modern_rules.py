"""Modern Conditional Access rules, pure: reading a policy, watching enforcement, platform coverage
and the access finding. The end-to-end behaviour (simulator, Azurite) is in test_drift.py."""

from __future__ import annotations

from dataclasses import replace
from datetime import UTC, datetime, timedelta
from typing import Any

import pytest

from shared.alerting.alerts import Alert
from shared.conditional_access.modern import (
    ModernPolicy,
    enabled_platforms,
    plan_access,
    plan_coverage,
    plan_modern,
)
from shared.findings.model import Finding, FindingStatus, Severity
from shared.graph.conditional_access_policies import CaPolicy, MalformedPolicy, policy_from_graph
from shared.graph.connectors import reading_from_graph
from tests.conftest import DEFENDER, LOOKOUT
from tests.support.ca_payloads import ca_policy

NOW = datetime(2026, 11, 20, 12, 0, tzinfo=UTC)
BEFORE = NOW - timedelta(hours=6)
PID = "6A0F6F5E-1111-4C1D-8E00-00000000CA01"
KEY = PID.lower()
CHANNELS = ["webhook"]


def policy(**kw: Any) -> CaPolicy:
    return policy_from_graph(ca_policy(PID, "Require compliant device", **kw))


def baseline(**kw: Any) -> ModernPolicy:
    current = policy()
    fields: dict[str, Any] = {
        "tenant_id": "t",
        "policy_id": PID,
        "display_name": "Require compliant device",
        "state": "enabled",
        "compliant_device": True,
        "operator": "OR",
        "content_hash": current.content_hash,
        "first_seen": BEFORE,
        "updated_at": BEFORE,
        "watched": True,
        "modified_at": "now-3d",
    }
    fields.update(kw)
    return ModernPolicy(**fields)


def modern(policies: list[CaPolicy], base: dict[str, ModernPolicy], found: dict[str, Finding] | None = None):
    return plan_modern(policies, base, found or {}, tenant_id="t", now=NOW, channels=CHANNELS)


def no_id(alert: object) -> object:
    assert isinstance(alert, Alert) and len(alert.alert_id) == 36
    return replace(alert, alert_id="")


def test_a_policy_is_read_from_graph_with_only_what_enforcement_depends_on() -> None:
    item = ca_policy(PID, "Compliant iOS", platforms=("iOS",), exclude=("android",), operator="AND")
    item["conditions"]["platforms"]["includePlatforms"].append(7)  # not a string: ignored
    item["id"] = f"  {PID} "
    read = policy_from_graph(item)
    assert (read.id, read.display_name, read.state, read.controls, read.operator) == (
        PID,
        "Compliant iOS",
        "enabled",
        ("compliantDevice",),
        "AND",
    )
    assert (read.include_platforms, read.exclude_platforms, read.modified_at) == (
        ("iOS",),
        ("android",),
        "now-3d",
    )
    assert len(read.content_hash) == 16
    # The hash follows what enforcement depends on, not the modification stamp.
    assert policy_from_graph({**item, "modifiedDateTime": "x"}).content_hash == read.content_hash
    for changed in ("displayName", "state", "conditions", "grantControls", "sessionControls"):
        assert policy_from_graph({**item, changed: "other"}).content_hash != read.content_hash, changed
    odd = policy_from_graph(
        {"id": PID, "displayName": "", "state": 3, "grantControls": "x", "conditions": {"platforms": {}}}
    )
    assert (odd.display_name, odd.state, odd.controls, odd.operator, odd.modified_at) == (
        PID,
        None,
        (),
        None,
        None,
    )
    assert (odd.include_platforms, odd.exclude_platforms) == (None, ())
    bare = policy_from_graph({"id": PID, "grantControls": {"operator": 1, "builtInControls": "mfa"}})
    assert (bare.include_platforms, bare.exclude_platforms, bare.operator, bare.controls) == (
        None,
        (),
        None,
        (),
    )


@pytest.mark.parametrize(
    ("item", "words"), [([], "expected a JSON object, got list"), ({"id": " "}, "no id"), ({}, "no id")]
)
def test_an_entry_that_is_not_a_policy_is_refused(item: Any, words: str) -> None:
    with pytest.raises(MalformedPolicy, match=words):
        policy_from_graph(item)


def test_enforcing_and_requiring_a_compliant_device() -> None:
    assert policy().enforcing and policy().requires_compliant_device
    assert not policy(state="disabled").enforcing
    assert not policy(controls=("mfa",)).enforcing
    assert not policy(controls=("mfa",), operator="AND").requires_compliant_device
    assert not policy(controls=("compliantDevice", "mfa")).requires_compliant_device
    assert policy(controls=("compliantDevice", "mfa"), operator="and").requires_compliant_device


def test_coverage_by_include_and_exclude_lists_in_any_case() -> None:
    everywhere = policy()
    assert everywhere.include_platforms is None and everywhere.covers("macOS")
    ios = policy(platforms=("IOS",))
    assert ios.covers("iOS") and not ios.covers("android")
    assert policy(platforms=("All",)).covers("windows")
    assert not policy(platforms=("all",), exclude=("Windows",)).covers("windows")


def test_a_policy_first_seen_enforcing_is_baselined_and_watched_silently() -> None:
    plan = modern([policy(), policy_from_graph(ca_policy("mfa-only", "MFA", controls=("mfa",)))], {})
    row = baseline(first_seen=NOW, updated_at=NOW)
    assert plan.groups == [[row]] and plan.alerts == [] and plan.drifted == []


def test_a_policy_first_seen_report_only_is_baselined_but_not_watched() -> None:
    plan = modern([policy(state="enabledForReportingButNotEnforced")], {})
    row = baseline(
        state="enabledForReportingButNotEnforced",
        first_seen=NOW,
        updated_at=NOW,
        watched=False,
        content_hash=policy(state="enabledForReportingButNotEnforced").content_hash,
    )
    assert plan.groups == [[row]] and plan.alerts == [] and plan.drifted == []
    later = modern([policy(state="disabled")], {KEY: row})
    assert later.alerts == [] and later.drifted == []
    hashed = policy(state="disabled").content_hash
    assert later.groups == [[replace(row, state="disabled", updated_at=NOW, content_hash=hashed)]]


def test_an_unchanged_watched_policy_writes_nothing() -> None:
    assert modern([policy()], {KEY: baseline()}).groups == []


@pytest.mark.parametrize(
    ("change", "reason", "remedy_start"),
    [
        ({"state": "disabled"}, "was turned off", "Set the policy back to On"),
        (
            {"state": "enabledForReportingButNotEnforced"},
            "was switched to report-only (evaluated, not enforced)",
            "Set the policy back to On",
        ),
        ({"state": "paused"}, "is in state 'paused', which does not enforce", "Add 'Require device"),
        (
            {"controls": ("mfa", "domainJoinedDevice")},
            "no longer requires a compliant device (grant controls now: mfa, domainJoinedDevice)",
            "Add 'Require device",
        ),
        (
            {"controls": ()},
            "no longer requires a compliant device (grant controls now: none)",
            "Add 'Require",
        ),
        (None, "was deleted", "Restore it from Entra admin center"),
    ],
)
def test_a_watched_policy_that_stops_enforcing_is_one_high_finding_and_one_alert(
    change: dict[str, Any] | None, reason: str, remedy_start: str
) -> None:
    current = [] if change is None else [policy(**change)]
    plan = modern(current, {KEY: baseline()})
    assert plan.drifted == [PID]
    row, finding, alert = plan.groups[0]
    assert (
        isinstance(row, ModernPolicy) and row.watched and row.first_seen == BEFORE and row.updated_at == NOW
    )
    assert row.state == ("deleted" if change is None else change.get("state", "enabled"))
    assert isinstance(finding, Finding)
    assert (finding.id, finding.kind, finding.resource_id, finding.resource_name) == (
        f"caPolicyDrift.{KEY}",
        "caPolicyDrift",
        PID,
        "Require compliant device",
    )
    assert (finding.severity, finding.status, finding.first_seen) == (Severity.HIGH, FindingStatus.OPEN, NOW)
    assert finding.message == (
        f"Conditional Access policy 'Require compliant device' {reason}: it required a compliant device, "
        "so MTD enforcement through it has stopped and devices MTD marks at risk are no longer blocked by it."
    )
    assert finding.remediation.startswith(remedy_start)
    assert no_id(alert) == Alert(
        alert_id="",
        tenant_id="t",
        kind="caPolicyDrift",
        finding_id=f"caPolicyDrift.{KEY}",
        severity=Severity.HIGH,
        title=f"CA policy 'Require compliant device' {reason}: MTD enforcement stopped",
        reason=finding.message,
        detected_at=NOW,
        details={
            "status": "open",
            "resourceId": PID,
            "policyId": PID,
            "policyName": "Require compliant device",
            "state": row.state,
        },
        deliveries=plan.alerts[0].deliveries,
        resolves=False,
        remediation=finding.remediation,
    )
    assert list(plan.alerts[0].deliveries) == CHANNELS
    # Seen again still stopped: the finding moves on, no second alert, the row is not rewritten.
    again = modern(current, {KEY: row}, {finding.id: finding})
    assert again.alerts == [] and again.drifted == [PID]
    assert (
        again.groups == [[replace(finding, last_seen=NOW)]]
        if change is not None
        else again.groups[0][-1:] == [finding]
    )


def test_remedies_per_reason() -> None:
    deleted = modern([], {KEY: baseline()}).groups[0][1]
    assert isinstance(deleted, Finding) and "soft-deleted policies can be restored" in deleted.remediation
    assert "'Delete conditional access policy'" in deleted.remediation
    off = modern([policy(state="disabled")], {KEY: baseline()}).groups[0][1]
    assert isinstance(off, Finding) and off.remediation == (
        "Set the policy back to On in Entra admin center > Protection > Conditional Access, after checking "
        "with whoever changed it (audit log: 'Update conditional access policy'). If the change is "
        "intended, acknowledge this finding."
    )
    mfa = modern([policy(controls=("mfa",))], {KEY: baseline()}).groups[0][1]
    assert isinstance(mfa, Finding) and mfa.remediation == (
        "Add 'Require device to be marked as compliant' back to the policy's grant controls, or "
        "acknowledge this finding if another policy now enforces compliance."
    )


def test_enforcing_again_resolves_the_finding_with_one_info_alert() -> None:
    stopped = modern([policy(state="disabled")], {KEY: baseline()})
    row, finding, _ = stopped.groups[0]
    assert isinstance(row, ModernPolicy) and isinstance(finding, Finding)
    back = modern([policy()], {KEY: row}, {finding.id: finding})
    assert back.drifted == []
    new_row, done, alert = back.groups[0]
    assert new_row == replace(row, state="enabled", updated_at=NOW, content_hash=policy().content_hash)
    assert isinstance(done, Finding) and done.status is FindingStatus.RESOLVED
    assert (
        done.message
        == "Conditional Access policy 'Require compliant device' requires a compliant device again."
    )
    assert (
        isinstance(alert, Alert)
        and alert.title == "CA policy 'Require compliant device' enforces compliance again"
    )
    assert alert.severity is Severity.INFO and back.alerts == [alert]


def connectors(*toggles: tuple[str, dict[str, bool]]) -> dict[str, list[str]]:
    return enabled_platforms([reading_from_graph({"id": cid, **t}) for cid, t in toggles])


def test_enabled_platforms_name_the_partners_per_platform() -> None:
    assert connectors(
        (LOOKOUT, {"androidEnabled": True, "iosEnabled": True, "windowsEnabled": False}),
        (DEFENDER, {"iosEnabled": True, "windowsEnabled": True, "macEnabled": True}),
    ) == {
        "android": ["Lookout for Work"],
        "iOS": ["Lookout for Work", "Microsoft Defender for Endpoint"],
        "windows": ["Microsoft Defender for Endpoint"],
        "macOS": ["Microsoft Defender for Endpoint"],
    }


def coverage(
    platforms: dict[str, list[str]], policies: list[CaPolicy], found: dict[str, Finding] | None = None
):
    return plan_coverage(platforms, policies, found or {}, tenant_id="t", now=NOW, channels=CHANNELS)


def test_a_platform_with_a_connector_and_no_policy_requiring_compliance_is_one_warning() -> None:
    policies = [
        policy_from_graph(ca_policy("a", "Report only", state="enabledForReportingButNotEnforced")),
        policy_from_graph(ca_policy("b", "Off", state="disabled")),
        policy_from_graph(
            ca_policy("c", "Either", controls=("compliantDevice", "mfa", "approvedApplication"))
        ),
        policy_from_graph(ca_policy("d", "MFA", controls=("mfa",))),
        policy_from_graph(ca_policy("e", "iOS only", platforms=("iOS",))),
        policy_from_graph(ca_policy("f", "Paused", state="paused")),
    ]
    groups, alerts, covered = coverage(
        {"android": ["Zimperium", "Lookout for Work"], "iOS": ["Lookout for Work"]}, policies
    )
    assert covered == {"android": False, "iOS": True}
    [[finding, alert]] = groups
    assert isinstance(finding, Finding) and alerts == [alert]
    assert (finding.id, finding.resource_id, finding.resource_name, finding.severity) == (
        "caCoverage.android",
        "android",
        "Android",
        Severity.WARNING,
    )
    assert finding.message == (
        "Android: the MTD connector(s) of Lookout for Work, Zimperium evaluate compliance on Android, but "
        "no enabled Conditional Access policy requires a compliant device there, so devices MTD marks at "
        "risk keep their access. Close, but not enforcing: 'Report only' is report-only; 'Off' is off; "
        "'Either' also lets devices in with mfa or approvedApplication."
    )
    assert finding.remediation == (
        "Create (or fix) a Conditional Access policy for Android that grants access only with 'Require "
        "device to be marked as compliant' (alone, or combined with AND), set it to On, and make sure the "
        "platform's compliance policy uses the Device Threat Level rule."
    )
    assert no_id(alert) == Alert(
        alert_id="",
        tenant_id="t",
        kind="caCoverage",
        finding_id="caCoverage.android",
        severity=Severity.WARNING,
        title="Android: no Conditional Access policy enforces MTD",
        reason=finding.message,
        detected_at=NOW,
        details={
            "status": "open",
            "resourceId": "android",
            "platform": "android",
            "partners": ["Lookout for Work", "Zimperium"],
        },
        deliveries=alerts[0].deliveries,
        resolves=False,
        remediation=finding.remediation,
    )
    # Still uncovered next time: the finding moves on, no second alert.
    groups, alerts, _ = coverage({"android": ["Lookout for Work"]}, [], {finding.id: finding})
    assert alerts == [] and len(groups) == 1 and isinstance(groups[0][0], Finding)
    assert groups[0][0].message.endswith("keep their access.")


def test_coverage_returns_resolves_with_the_reason() -> None:
    gap = coverage({"windows": ["Microsoft Defender for Endpoint"]}, [])[0][0][0]
    assert isinstance(gap, Finding)
    groups, alerts, covered = coverage({"windows": ["x"]}, [policy()], {gap.id: gap})
    assert covered == {"windows": True}
    done, alert = groups[0]
    assert isinstance(done, Finding) and done.message == "Windows: a policy requires a compliant device."
    assert (
        isinstance(alert, Alert)
        and alert.title == "Windows: MTD enforcement covered again"
        and alerts == [alert]
    )
    groups, _, covered = coverage({}, [], {gap.id: gap})
    assert covered == {}
    assert (
        isinstance(groups[0][0], Finding)
        and groups[0][0].message == "Windows: no connector enables it any more."
    )
    assert coverage({}, [policy()]) == ([], [], {})


def access_finding(message: str, remediation: str, at: datetime) -> Finding:
    """The open warning that the Conditional Access policies cannot be read, first seen ``at``."""
    return Finding(
        id="graphAccess.ca-policies",
        tenant_id="t",
        kind="graphAccess",
        resource_id="ca-policies",
        resource_name="Conditional Access policies",
        severity=Severity.WARNING,
        status=FindingStatus.OPEN,
        message=message,
        remediation=remediation,
        first_seen=at,
        last_seen=at,
    )


def test_access_to_a_data_source_is_one_warning_opened_and_resolved_once() -> None:
    def access(problem: str | None, existing: Finding | None):
        return plan_access(
            problem,
            existing,
            resource="ca-policies",
            what="Conditional Access policies",
            tenant_id="t",
            now=NOW,
            channels=CHANNELS,
        )

    assert access(None, None) == (None, None)
    finding, alert = access("403 Forbidden", None)
    assert finding == access_finding(
        "403 Forbidden",
        "Fix the access problem named in the message; until then Conditional Access policies is not checked.",
        NOW,
    )
    assert alert is not None and alert.title == "Cannot read Conditional Access policies"
    assert access("403 Forbidden", finding)[1] is None
    done, restored = access(None, finding)
    assert done is not None and done.message == "Conditional Access policies can be read again."
    assert restored is not None and restored.title == "Conditional Access policies: access restored"
    assert access("again", done)[1] is not None


LATER = NOW + timedelta(hours=3)


def modern_later(policies: list[CaPolicy], base: dict[str, ModernPolicy], found: dict[str, Finding]):
    return plan_modern(policies, base, found, tenant_id="t", now=LATER, channels=CHANNELS)


def resolution_alert(kind: str, resource_id: str, title: str, reason: str, sent: Alert | None) -> Alert:
    """The info alert closing the finding ``<kind>.<resource id>`` at LATER, its id blanked."""
    assert sent is not None
    return Alert(
        alert_id="",
        tenant_id="t",
        kind=kind,
        finding_id=f"{kind}.{resource_id.lower()}",
        severity=Severity.INFO,
        title=title,
        reason=reason,
        detected_at=LATER,
        details={"status": "resolved", "resourceId": resource_id},
        deliveries=sent.deliveries,
        resolves=True,
        remediation=None,
    )


def test_a_deleted_policy_is_remedied_by_restoring_it_or_creating_another() -> None:
    deleted = modern([], {KEY: baseline()}).groups[0][1]
    assert isinstance(deleted, Finding) and deleted.remediation == (
        "Restore it from Entra admin center > Protection > Conditional Access > Deleted policies "
        "(soft-deleted policies can be restored for a limited time), or create a policy that requires a "
        "compliant device for the platforms your MTD connectors enable. Ask who deleted it: the Entra "
        "audit log lists 'Delete conditional access policy'."
    )


def test_a_policy_whose_state_graph_did_not_say_is_baselined_as_unknown() -> None:
    odd = policy_from_graph({**ca_policy(PID, "Require compliant device"), "state": 3})
    plan = modern([odd], {KEY: baseline()})
    assert plan.groups[0][0] == baseline(state="unknown", updated_at=NOW, content_hash=odd.content_hash)
    assert plan.drifted == [PID]


def test_a_drift_seen_again_later_keeps_its_first_sighting_and_resolves_at_that_later_time() -> None:
    row, finding, _ = modern([policy(state="disabled")], {KEY: baseline()}).groups[0]
    assert isinstance(row, ModernPolicy) and isinstance(finding, Finding)
    ongoing = replace(finding, first_seen=BEFORE)
    again = modern_later([policy(state="disabled")], {KEY: row}, {finding.id: ongoing})
    assert again.groups == [[replace(ongoing, last_seen=LATER)]] and again.alerts == []
    back = modern_later([policy()], {KEY: row}, {finding.id: ongoing})
    [[_, done, alert]] = back.groups
    message = "Conditional Access policy 'Require compliant device' requires a compliant device again."
    assert done == replace(
        ongoing, status=FindingStatus.RESOLVED, message=message, last_seen=LATER, resolved_at=LATER
    )
    assert no_id(alert) == resolution_alert(
        "caPolicyDrift", PID, "CA policy 'Require compliant device' enforces compliance again", message, alert
    )


def test_a_coverage_gap_seen_again_later_keeps_its_first_sighting_and_resolves_at_that_later_time() -> None:
    gap = coverage({"windows": ["Microsoft Defender for Endpoint"]}, [])[0][0][0]
    assert isinstance(gap, Finding)
    ongoing = replace(gap, first_seen=BEFORE)

    def later(platforms: dict[str, list[str]], policies: list[CaPolicy]):
        return plan_coverage(
            platforms, policies, {gap.id: ongoing}, tenant_id="t", now=LATER, channels=CHANNELS
        )

    assert later({"windows": ["Microsoft Defender for Endpoint"]}, []) == (
        [[replace(ongoing, last_seen=LATER)]],
        [],
        {"windows": False},
    )
    groups, alerts, _ = later({"windows": ["Microsoft Defender for Endpoint"]}, [policy()])
    done = replace(
        ongoing,
        status=FindingStatus.RESOLVED,
        message="Windows: a policy requires a compliant device.",
        last_seen=LATER,
        resolved_at=LATER,
    )
    assert groups == [[done, alerts[0]]]
    assert no_id(alerts[0]) == resolution_alert(
        "caCoverage",
        "windows",
        "Windows: MTD enforcement covered again",
        "Windows: a policy requires a compliant device.",
        alerts[0],
    )


def test_near_misses_are_named_wherever_they_stand_in_graphs_list() -> None:
    policies = [
        policy_from_graph(ca_policy("d", "MFA", controls=("mfa",))),
        policy_from_graph(ca_policy("e", "iOS only", platforms=("iOS",))),
        policy_from_graph(ca_policy("a", "Report only", state="enabledForReportingButNotEnforced")),
    ]
    [[finding, _]], _, _ = coverage({"android": ["Lookout for Work"]}, policies)
    assert isinstance(finding, Finding) and finding.message == (
        "Android: the MTD connector(s) of Lookout for Work evaluate compliance on Android, but no enabled "
        "Conditional Access policy requires a compliant device there, so devices MTD marks at risk keep "
        "their access. Close, but not enforcing: 'Report only' is report-only."
    )


def test_access_still_refused_later_keeps_its_first_sighting_and_resolves_at_that_later_time() -> None:
    def access(problem: str | None, existing: Finding | None, now: datetime):
        return plan_access(
            problem,
            existing,
            resource="ca-policies",
            what="Conditional Access policies",
            tenant_id="t",
            now=now,
            channels=CHANNELS,
        )

    opened, _ = access("403 Forbidden", None, BEFORE)
    assert opened is not None
    assert access("403 Forbidden again", opened, LATER) == (
        replace(opened, message="403 Forbidden again", last_seen=LATER),
        None,
    )
    done, alert = access(None, opened, LATER)
    assert done == replace(
        opened,
        status=FindingStatus.RESOLVED,
        message="Conditional Access policies can be read again.",
        last_seen=LATER,
        resolved_at=LATER,
    )
    assert no_id(alert) == resolution_alert(
        "graphAccess",
        "ca-policies",
        "Conditional Access policies: access restored",
        "Conditional Access policies can be read again.",
        alert,
    )


def test_graph_throttling_a_data_source_past_the_grace_points_to_service_health_when_seen() -> None:
    finding, alert = plan_access(
        "Microsoft Graph answered 503 for 2 hours",
        None,
        resource="ca-policies",
        what="Conditional Access policies",
        tenant_id="t",
        now=LATER,
        channels=CHANNELS,
        transient=True,
    )
    remediation = (
        "Microsoft Graph keeps throttling or failing transiently (429, 503, 504, timeouts): check Microsoft "
        "365 service health (admin center > Health > Service health) for Intune and Microsoft Graph, and "
        "whether another app of this tenant uses up Graph's throttling limits; MTD Guard retries every "
        "sweep and resolves this by itself when Graph answers; until then Conditional Access policies is "
        "not checked."
    )
    assert finding == access_finding("Microsoft Graph answered 503 for 2 hours", remediation, LATER)
    assert no_id(alert) == Alert(
        alert_id="",
        tenant_id="t",
        kind="graphAccess",
        finding_id="graphAccess.ca-policies",
        severity=Severity.WARNING,
        title="Cannot read Conditional Access policies",
        reason="Microsoft Graph answered 503 for 2 hours",
        detected_at=LATER,
        details={"status": "open", "resourceId": "ca-policies"},
        deliveries=alert.deliveries if alert else {},
        resolves=False,
        remediation=remediation,
    )
