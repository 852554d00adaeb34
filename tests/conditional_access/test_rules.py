"""The pure Conditional Access rules on their own: reading audit events, matching, drift planning,
modern-policy coverage and the findings list order. Fast; the end-to-end behaviour is in
tests/conditional_access/test_drift.py."""

from __future__ import annotations

import json
from datetime import UTC, datetime, timedelta

import pytest

from shared.catalog import partner_of
from shared.conditional_access.classic.changes import plan_change
from shared.conditional_access.classic.matching import (
    AuditMatching,
    ClassicChange,
    PropertyRule,
    changes_from_event,
    parse_activities,
)
from shared.conditional_access.classic.removals import parse_removal
from shared.conditional_access.classic.rows import ClassicPolicy, Drift, PolicyState
from shared.conditional_access.settings import load
from shared.findings import query as finding_query
from shared.findings.model import Finding, FindingStatus, Severity
from shared.graph.conditional_access_policies import policy_from_graph
from shared.graph.directory_audits import decode_value, event_from_graph
from shared.setting_spec import Reader
from tests.support.ca_payloads import audit_event, ca_policy, detail, disabled_update

NOW = datetime(2026, 11, 20, 12, 0, tzinfo=UTC)
PID = "3f1c2a9e-7b0d-4c55-9e61-0a8b6c1d0001"
DEFAULT_MATCHING = load(Reader.defaults()).matching


def test_modified_property_values_are_decoded_through_every_layer_of_json_text() -> None:
    assert decode_value(detail("Disabled")) == [{"Version": 0, "State": "Disabled"}]
    assert decode_value("not json") == "not json"
    assert decode_value(None) is None
    assert PropertyRule.parse("X", "State=Disabled|Off").found_in([("PolicyDetail", detail("Off"))])
    assert not PropertyRule.parse("X", "State=Disabled").found_in([("PolicyDetail", detail("Enabled"))])
    assert PropertyRule.parse("X", "PolicyType=18").found_in([("PolicyType", json.dumps(["18"]))])


def test_an_update_is_a_disable_only_when_the_state_changes_to_disabled() -> None:
    event = event_from_graph(disabled_update(PID, "Lookout MTD", "2026-11-20T10:00:00Z"))
    assert [c.drift for c in changes_from_event(event, DEFAULT_MATCHING, {})] == [Drift.DISABLED]
    still_off = audit_event(
        "Update policy",
        PID,
        "Lookout MTD",
        "2026-11-20T10:00:00Z",
        modified=[("PolicyDetail", detail("Disabled"), detail("Disabled", Note="x"))],
    )
    changes = changes_from_event(event_from_graph(still_off), DEFAULT_MATCHING, {})
    assert [c.drift for c in changes] == [Drift.MODIFIED]


@pytest.mark.parametrize(
    ("name", "partner"),
    [
        ("Lookout for Work MTD policy", "Lookout for Work"),
        ("[Intune] Wandera device check", "Jamf Trust (formerly Wandera)"),
        ("Windows Defender ATP classic", "Microsoft Defender for Endpoint"),
        ("CylancePROTECT Mobile", "BlackBerry Protect Mobile"),
        ("Token lifetime policy", None),
    ],
)
def test_partner_is_recognised_from_the_policy_name(name: str, partner: str | None) -> None:
    found = partner_of(name)
    assert (found.name if found else None) == partner


def test_settings_text_is_parsed_or_refused_with_the_setting_named() -> None:
    matching = AuditMatching.parse(
        services="Core Directory, Intune",
        categories="*",
        activities="Hard delete policy=deleted",
        name_patterns="@partners, contoso legacy*",
        policy_type=None,
        disabled_when=None,
    )
    assert matching.server_filter == {}  # two services, any category: Graph filters the time only
    assert "contoso legacy*" in matching.name_patterns and "*lookout*" in matching.name_patterns
    assert DEFAULT_MATCHING.server_filter == {"loggedByService": "Core Directory", "category": "Policy"}
    with pytest.raises(ValueError, match="CA_AUDIT_ACTIVITIES entry 'Delete policy'"):
        parse_activities("Delete policy")
    with pytest.raises(ValueError, match="CA_CLASSIC_POLICY_TYPE"):
        PropertyRule.parse("CA_CLASSIC_POLICY_TYPE", "=18")


def test_an_edit_logged_after_the_deletion_does_not_bring_the_policy_back() -> None:
    deleted = ClassicPolicy(
        tenant_id="t",
        key=PID,
        policy_id=PID,
        display_name="Lookout MTD",
        state=PolicyState.DELETED,
        partner_id=None,
        partner=None,
        content_hash=None,
        source="audit",
        first_seen=NOW,
        updated_at=NOW,
    )
    late = ClassicChange(Drift.MODIFIED, PID, "Lookout MTD", NOW - timedelta(hours=1), "audit")
    plan = plan_change(late, {PID: deleted}, {}, [], tenant_id="t", now=NOW, channels=[])
    assert plan.policy.state is PolicyState.DELETED
    assert plan.findings[0].severity is Severity.HIGH


def test_a_planned_removal_covers_only_deletions_inside_its_window() -> None:
    removal = parse_removal({"partner": "lookout"}, tenant_id="t", who="ops", now=NOW)
    policy = ClassicPolicy(
        "t", PID, PID, "Lookout MTD", PolicyState.ENABLED, removal.partner_id, None, None, "audit", NOW, NOW
    )
    assert removal.covers(policy, NOW + timedelta(days=1))
    assert not removal.covers(policy, NOW - timedelta(seconds=1))  # announced after the fact
    assert not removal.covers(policy, NOW + timedelta(days=31))  # expired (30 days by default)


def test_modern_policy_requirement_and_platform_coverage() -> None:
    either = policy_from_graph(ca_policy("a", "A", controls=("compliantDevice", "mfa"), operator="OR"))
    both = policy_from_graph(ca_policy("b", "B", controls=("compliantDevice", "mfa"), operator="AND"))
    ios_only = policy_from_graph(ca_policy("c", "C", platforms=("iOS",)))
    not_windows = policy_from_graph(ca_policy("d", "D", platforms=("all",), exclude=("windows",)))
    assert either.has_compliant_device and not either.requires_compliant_device
    assert both.requires_compliant_device
    assert ios_only.covers("iOS") and not ios_only.covers("android")
    assert not_windows.covers("android") and not not_windows.covers("windows")


@pytest.mark.parametrize("platform", ["android", "iOS", "windows", "macOS"])
def test_a_policy_that_excludes_every_platform_covers_none(platform: str) -> None:
    for include in (("all",), (platform,)):
        nowhere = policy_from_graph(ca_policy("e", "Excludes all", platforms=include, exclude=("all",)))
        assert not nowhere.covers(platform)


def _finding(fid: str, severity: Severity, status: FindingStatus, minutes: int) -> Finding:
    seen = NOW - timedelta(minutes=minutes)
    return Finding(fid, "t", "heartbeat", fid, fid, severity, status, "m", "r", seen, seen)


def test_findings_are_listed_worst_first_and_tokens_survive_changes_between_pages() -> None:
    found = [
        _finding("a", Severity.INFO, FindingStatus.OPEN, 1),
        _finding("b", Severity.HIGH, FindingStatus.RESOLVED, 1),
        _finding("c", Severity.HIGH, FindingStatus.OPEN, 5),
        _finding("d", Severity.HIGH, FindingStatus.OPEN, 1),
        _finding("e", Severity.WARNING, FindingStatus.ACKNOWLEDGED, 1),
    ]
    query = finding_query.FindingQuery()
    first, after = finding_query.page(found, query, limit=2)
    assert [f.id for f in first] == ["d", "c"]
    # A new high finding opens before the next page is asked for: it sorts before the position.
    found.append(_finding("z", Severity.HIGH, FindingStatus.OPEN, 0))
    rest, last = finding_query.page(found, query, limit=10, after=after)
    assert [f.id for f in rest] == ["a", "e", "b"] and last is None
    # The position survives the JSON trip of a continuation token; a token used with other filters
    # is refused by the route (tests/api/test_query_rules.py).
    assert after is not None and finding_query.as_sort_key(json.loads(json.dumps(after))) == after
