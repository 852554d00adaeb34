"""Which directory audit events count as classic-policy changes, branch by branch, pure: the settings'
text (services and categories with '*' and any case, activities, name patterns, the policy type
rule, disabled_when), the change each event yields and how a policy is found in the baseline.
With realistic Graph payloads: test_rules.py; end to end: test_drift.py."""

from __future__ import annotations

import hashlib
import json
from datetime import UTC, datetime
from typing import Any

import pytest

from shared.conditional_access.classic.matching import (
    AuditMatching,
    ClassicChange,
    PropertyRule,
    changes_from_event,
    find_policy,
    parse_activities,
    parse_name_patterns,
    policy_key,
)
from shared.conditional_access.classic.rows import ClassicPolicy, Drift, PolicyState
from shared.graph.directory_audits import AuditEvent, AuditTarget, ModifiedProperty

NOW = datetime(2026, 11, 20, 12, 0, tzinfo=UTC)
AT = datetime(2026, 11, 20, 10, 0, tzinfo=UTC)
PID = "3f1c2a9e-7b0d-4c55-9e61-0a8b6c1d0001"
ACTIVITIES = "CA_AUDIT_ACTIVITIES entry {!r} is not 'Activity name=change' with change one of " + (
    "added, modified, disabled, deleted"
)


def matching(**kw: Any) -> AuditMatching:
    text: dict[str, Any] = {
        "services": "Core Directory",
        "categories": "Policy",
        "activities": "Add policy=added, Update policy=modified, Delete policy=deleted",
        "name_patterns": "*lookout*",
        "policy_type": None,
        "disabled_when": "State=Disabled",
    }
    text.update(kw)
    return AuditMatching.parse(**text)


def target(
    name: str | None = "Lookout MTD",
    *modified: tuple[str, str | None, str | None],
    policy_id: str | None = PID,
    kind: str | None = "Policy",
) -> AuditTarget:
    return AuditTarget(policy_id, name, kind, tuple(ModifiedProperty(n, o, v) for n, o, v in modified))


def event(activity: str = "Update policy", *targets: AuditTarget, **kw: Any) -> AuditEvent:
    fields: dict[str, Any] = {
        "id": "Directory_1",
        "activity_at": AT,
        "activity": activity,
        "category": "Policy",
        "service": "Core Directory",
        "operation_type": "Update",
        "result": "success",
        "initiated_by": "admin@contoso.com",
        "targets": targets or (target(),),
    }
    fields.update(kw)
    return AuditEvent(**fields)


def state(value: str) -> str:
    """A PolicyDetail value as the directory logs it: a JSON array of JSON text."""
    return json.dumps([json.dumps({"Version": 0, "State": value})])


def known(name: str = "Lookout MTD", policy_id: str | None = PID, **kw: Any) -> ClassicPolicy:
    fields: dict[str, Any] = {
        "tenant_id": "t",
        "key": policy_id or "name-x",
        "policy_id": policy_id,
        "display_name": name,
        "state": PolicyState.ENABLED,
        "partner_id": None,
        "partner": None,
        "content_hash": None,
        "source": "import",
        "first_seen": NOW,
        "updated_at": NOW,
    }
    fields.update(kw)
    return ClassicPolicy(**fields)


def test_a_property_rule_is_read_from_its_setting_text() -> None:
    rule = PropertyRule.parse("CA_CLASSIC_DISABLED_WHEN", " State = Disabled | OFF |")
    assert rule == PropertyRule("State", frozenset({"disabled", "off"}))
    assert str(rule) == "State=disabled|off"
    for text in ("State", "=Disabled", " =Disabled", "State=", "State= | "):
        with pytest.raises(ValueError) as refused:
            PropertyRule.parse("CA_CLASSIC_DISABLED_WHEN", text)
        assert str(refused.value) == (
            f"CA_CLASSIC_DISABLED_WHEN {text!r} is not 'Property=value' (alternatives with '|')"
        )


def test_a_property_rule_finds_its_value_by_property_name_or_inside_the_json() -> None:
    rule = PropertyRule.parse("X", "PolicyType=18|true")
    assert rule.found_in([("policytype", "18")])  # the property itself, named in any case
    assert rule.found_in([("PolicyType", json.dumps(["17", "18"]))])
    assert rule.found_in([("PolicyType", json.dumps([[18]]))])  # numbers compare as text
    assert rule.found_in([("PolicyDetail", json.dumps({"policyTYPE": 18}))])
    assert rule.found_in([("PolicyDetail", json.dumps({"PolicyType": True}))])  # true reads "true"
    assert rule.found_in([("Other", "x"), ("PolicyDetail", json.dumps({"PolicyType": "18"}))])
    assert not rule.found_in([("PolicyDetail", json.dumps({"PolicyType": 17}))])
    assert not rule.found_in([("PolicyDetail", json.dumps({"PolicyType": {"18": 18}}))])
    assert not rule.found_in([("PolicyDetail", json.dumps({"Other": 18}))])  # the value, another key
    assert not rule.found_in([("PolicyType", None), ("PolicyType", json.dumps(None))])
    assert not rule.found_in([])


def test_settings_are_parsed_with_empty_parts_dropped_and_the_rules_optional() -> None:
    parsed = AuditMatching.parse(
        services=" Core Directory ,, Intune ",
        categories="Policy,",
        activities="Add policy=added, Hard delete policy = Deleted",
        name_patterns="@Partners, , Contoso Legacy*",
        policy_type="PolicyType=18",
        disabled_when="",
    )
    assert parsed.services == ("Core Directory", "Intune")
    assert parsed.categories == ("Policy",)
    assert parsed.activities == {"add policy": Drift.ADDED, "hard delete policy": Drift.DELETED}
    assert parsed.name_patterns[-1] == "contoso legacy*" and "*lookout*" in parsed.name_patterns
    assert parsed.policy_type == PropertyRule("PolicyType", frozenset({"18"}))
    assert parsed.disabled_when is None
    assert matching(policy_type="").policy_type is None
    assert matching().disabled_when == PropertyRule("State", frozenset({"disabled"}))
    with pytest.raises(ValueError, match=r"^CA_CLASSIC_POLICY_TYPE 'PolicyType' is not"):
        matching(policy_type="PolicyType")
    with pytest.raises(ValueError, match=r"^CA_CLASSIC_DISABLED_WHEN 'State' is not"):
        matching(disabled_when="State")
    # Only the first '=' separates the property from its values.
    assert PropertyRule.parse("X", "Note=a=b") == PropertyRule("Note", frozenset({"a=b"}))


def test_graph_filters_on_a_service_or_category_only_when_exactly_one_is_configured() -> None:
    assert matching().server_filter == {"loggedByService": "Core Directory", "category": "Policy"}
    assert matching(services="*", categories="Policy").server_filter == {"category": "Policy"}
    assert matching(services="A, B", categories="*").server_filter == {}
    assert matching(services="Core Directory", categories="Policy, Other").server_filter == {
        "loggedByService": "Core Directory"
    }


def test_activities_are_read_or_refused_naming_the_entry() -> None:
    assert parse_activities("Set x=y=modified, UPDATE Policy=MODIFIED") == {
        "set x=y": Drift.MODIFIED,
        "update policy": Drift.MODIFIED,
    }
    for entry in ("Delete policy", "=deleted", " =deleted", "Delete policy=gone", "Delete policy="):
        with pytest.raises(ValueError) as refused:
            parse_activities(f"Add policy=added, {entry}")
        assert str(refused.value) == ACTIVITIES.format(entry.strip())
    for empty in ("", " , "):
        with pytest.raises(ValueError) as refused:
            parse_activities(empty)
        assert str(refused.value) == "CA_AUDIT_ACTIVITIES names no activity"


def test_name_patterns_expand_partners_and_fold_case() -> None:
    assert parse_name_patterns("Contoso*, ,X?") == ("contoso*", "x?")
    partners = parse_name_patterns("@PARTNERS")
    assert {"*lookout*", "*zimperium*", "*mtd*", "*wandera*"} <= set(partners)
    assert "@partners" not in partners


def changes(ev: AuditEvent, rules: AuditMatching | None = None, baseline: Any = None) -> list[ClassicChange]:
    return changes_from_event(ev, rules or matching(), baseline or {})


def test_a_recognised_update_is_one_change_with_its_evidence() -> None:
    ev = event(
        "Update policy",
        target(
            "Lookout MTD",
            ("PolicyDetail", state("Enabled"), state("Enabled")),
            ("Name", None, None),
            ("", None, None),
            ("Name", None, None),
        ),
    )
    assert changes(ev) == [
        ClassicChange(
            drift=Drift.MODIFIED,
            policy_id=PID,
            display_name="Lookout MTD",
            at=AT,
            source="audit",
            by="admin@contoso.com",
            event_id="Directory_1",
            evidence="audit event 'Update policy' (Directory_1), recognised by display name pattern; "
            "modified properties: Name, PolicyDetail",
            new_state=None,
        )
    ]


@pytest.mark.parametrize(
    ("activity", "drift", "new_state"),
    [
        ("Add policy", Drift.ADDED, None),
        ("DELETE POLICY", Drift.DELETED, PolicyState.DELETED),
        ("Update policy", Drift.MODIFIED, None),
    ],
)
def test_each_configured_activity_gives_its_change(activity: str, drift: Drift, new_state: Any) -> None:
    [found] = changes(event(activity, target("Lookout MTD", policy_id=None, kind=None)))
    assert (found.drift, found.new_state, found.policy_id) == (drift, new_state, None)
    assert found.evidence == (
        f"audit event '{activity}' ({'Directory_1'}), recognised by display name pattern; "
        "modified properties: nothing listed"
    )


def test_an_update_to_the_disabled_state_is_a_disable() -> None:
    off = event("Update policy", target("Lookout MTD", ("PolicyDetail", state("Enabled"), state("Disabled"))))
    [found] = changes(off)
    assert (found.drift, found.new_state) == (Drift.DISABLED, PolicyState.DISABLED)
    still_off = event(
        "Update policy", target("Lookout MTD", ("PolicyDetail", state("Disabled"), state("Disabled")))
    )
    assert [c.drift for c in changes(still_off)] == [Drift.MODIFIED]
    # Without the rule, or for another activity, the state is not looked at.
    assert [c.drift for c in changes(off, matching(disabled_when=None))] == [Drift.MODIFIED]
    deleted = event(
        "Delete policy", target("Lookout MTD", ("PolicyDetail", state("Enabled"), state("Disabled")))
    )
    assert [c.drift for c in changes(deleted)] == [Drift.DELETED]


def test_only_successful_events_of_the_configured_services_categories_and_activities_count() -> None:
    assert changes(event(result="failure")) == []
    assert len(changes(event(result=None))) == 1
    assert len(changes(event(result=""))) == 1
    assert changes(event(service="Intune")) == []
    assert changes(event(category="Other")) == []
    assert changes(event(service=None)) == []
    assert changes(event(category=None)) == []
    assert changes(event("Hard delete policy")) == []
    assert len(changes(event(service="core DIRECTORY", category="POLICY"))) == 1
    anything = matching(services="*", categories="*")
    assert len(changes(event(service=None, category=None), anything)) == 1
    assert len(changes(event(service="Intune", category="Other"), anything)) == 1
    two = matching(services="Intune, Core Directory", categories="Other, Policy")
    assert len(changes(event(), two)) == 1


def test_only_policy_targets_recognised_by_baseline_name_or_type_count() -> None:
    assert changes(event("Update policy", target(kind="User"))) == []
    assert len(changes(event("Update policy", target(kind="POLICY")))) == 1
    stranger = target("Token lifetime", policy_id="other-id")
    assert changes(event("Update policy", stranger)) == []
    [by_baseline] = changes(
        event("Update policy", stranger), baseline={"other-id": known("Token lifetime", "other-id")}
    )
    assert "recognised by its baseline entry;" in by_baseline.evidence
    typed = target("Token lifetime", ("PolicyType", "18", "18"), policy_id="other-id")
    [by_type] = changes(event("Update policy", typed), matching(policy_type="PolicyType=18"))
    assert "recognised by policy type PolicyType=18;" in by_type.evidence
    assert (
        changes(
            event("Update policy", target("Token lifetime", ("PolicyType", "17", "17"))),
            matching(policy_type="PolicyType=18"),
        )
        == []
    )
    old_type = target("Token lifetime", ("PolicyType", "18", None))
    assert len(changes(event("Update policy", old_type), matching(policy_type="PolicyType=18"))) == 1
    assert changes(event("Update policy", target(None)), matching(policy_type=None)) == []
    # A target without a name matches no name pattern, not even '*'.
    assert changes(event("Update policy", target(None)), matching(name_patterns="*")) == []
    # A name pattern matches the whole name, case-insensitively.
    assert (
        len(
            changes(
                event("Update policy", target("CONTOSO LEGACY 1")), matching(name_patterns="contoso legacy*")
            )
        )
        == 1
    )
    assert (
        changes(
            event("Update policy", target("Old contoso legacy")), matching(name_patterns="contoso legacy*")
        )
        == []
    )


def test_a_change_is_named_from_the_target_then_the_baseline_then_the_id() -> None:
    base = {PID: known("Lookout MTD (baseline)")}
    [from_baseline] = changes(event("Update policy", target(None)), baseline=base)
    assert (from_baseline.display_name, from_baseline.policy_id) == ("Lookout MTD (baseline)", PID)
    typed = matching(policy_type="PolicyType=18")
    [from_id] = changes(event("Update policy", target(None, ("PolicyType", None, "18"))), typed)
    assert from_id.display_name == PID
    [unnamed] = changes(
        event("Update policy", target(None, ("PolicyType", None, "18"), policy_id=None)), typed
    )
    assert (unnamed.display_name, unnamed.policy_id) == ("?", None)
    by_name = {"name-x": known("Lookout MTD", None)}
    [no_id] = changes(
        event("Update policy", target("lookout mtd", policy_id=None)), matching(name_patterns="x"), by_name
    )
    assert (no_id.display_name, no_id.policy_id) == ("lookout mtd", None)
    assert "recognised by its baseline entry;" in no_id.evidence


def test_every_matching_target_of_an_event_is_a_change() -> None:
    ev = event(
        "Delete policy",
        target("Lookout user", policy_id="u", kind="User"),
        target("Lookout A", policy_id="a"),
        target("Token lifetime", policy_id="b"),
        target("Lookout B", policy_id="c"),
    )
    assert [(c.policy_id, c.display_name) for c in changes(ev)] == [("a", "Lookout A"), ("c", "Lookout B")]


def test_a_policy_key_is_its_lower_case_id_or_a_hash_of_its_folded_name() -> None:
    assert policy_key(f" {PID.upper()} ", "x") == PID
    expected = "name-" + hashlib.sha256(b"lookout mtd").hexdigest()[:16]
    assert policy_key(None, " Lookout MTD ") == expected
    assert policy_key("", "LOOKOUT mtd") == expected


def test_a_policy_is_found_by_id_first_then_by_name_among_policies_without_id() -> None:
    with_id = known("Lookout MTD", PID)
    by_name = known("Zimperium MTD", None, key="name-z")
    baseline = {PID: with_id, "name-z": by_name}
    assert find_policy(baseline, PID.upper(), "anything") is with_id
    assert find_policy(baseline, "other", "ZIMPERIUM mtd") is by_name
    assert find_policy(baseline, None, "zimperium MTD") is by_name
    assert find_policy(baseline, None, "Lookout MTD") is None  # it has an id: never matched by name
    assert find_policy(baseline, None, None) is None
    assert find_policy(baseline, "", "") is None
    assert find_policy({}, PID, "Lookout MTD") is None
