"""Whatever Graph sends for a compliance or app protection policy, the read models judge it or
reject only that entry (Malformed*), never crash; and the links judge any mix of them (generated)."""

from __future__ import annotations

from datetime import UTC, datetime
from typing import Any

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from shared.graph.app_protection_policies import MalformedAppProtectionPolicy, app_protection_from_graph
from shared.graph.compliance_policies import TYPES, MalformedCompliancePolicy, compliance_policy_from_graph
from shared.posture.chain import plan_chain
from shared.posture.links import ChainReads
from shared.posture.model import LinkName, LinkState

anything = st.recursive(
    st.none() | st.booleans() | st.integers() | st.text(max_size=10),
    lambda inner: st.lists(inner, max_size=3) | st.dictionaries(st.text(max_size=8), inner, max_size=3),
    max_leaves=8,
)
target = st.fixed_dictionaries(
    {
        "@odata.type": st.sampled_from(
            [
                "#microsoft.graph.allDevicesAssignmentTarget",
                "#microsoft.graph.groupAssignmentTarget",
                "#microsoft.graph.exclusionGroupAssignmentTarget",
                "#microsoft.graph.allLicensedUsersAssignmentTarget",
            ]
        )
        | anything,
        "groupId": st.text(max_size=6) | anything,
    }
)
assignments = st.lists(
    st.fixed_dictionaries({"id": st.text(max_size=4), "target": target | anything}), max_size=3
)


@st.composite
def compliance(draw: st.DrawFn) -> Any:
    entry = {
        "id": draw(st.sampled_from(["c1", "C1", "c2", "", None]) | anything),
        "@odata.type": draw(
            st.sampled_from([f"#microsoft.graph.{t}" for t in TYPES] + ["#microsoft.graph.x"]) | anything
        ),
        "displayName": draw(st.text(max_size=12) | anything),
        "deviceThreatProtectionEnabled": draw(st.booleans() | anything),
        "deviceThreatProtectionRequiredSecurityLevel": draw(
            st.sampled_from(["secured", "low", "medium", "high", "notSet", "unavailable"]) | anything
        ),
        "assignments": draw(assignments | anything),
    }
    return draw(st.just(entry) | anything)


@st.composite
def app(draw: st.DrawFn) -> Any:
    entry = {
        "id": draw(st.sampled_from(["a1", "a2"]) | anything),
        "displayName": draw(st.text(max_size=12) | anything),
        "maximumAllowedDeviceThreatLevel": draw(
            st.sampled_from(["notConfigured", "secured", "low", "medium", "high"]) | anything
        ),
        "mobileThreatDefenseRemediationAction": draw(st.sampled_from(["block", "wipe", "warn"]) | anything),
        "assignments": draw(assignments | anything),
    }
    return draw(st.just(entry) | anything)


def parsed(items: list[Any], parse: Any, malformed: type[Exception]) -> list[Any]:
    found = []
    for item in items:
        try:
            found.append(parse(item))
        except malformed:
            continue
    return found


@settings(max_examples=200, deadline=None)
@given(
    st.lists(compliance(), max_size=5),
    st.lists(app(), max_size=4),
    st.sampled_from(["v1.0", "beta"]),
)
def test_any_payload_is_judged_per_entry_and_every_platform_gets_a_posture(
    raw_compliance: list[Any], raw_apps: list[Any], version: str
) -> None:
    policies = parsed(
        raw_compliance, lambda i: compliance_policy_from_graph(i, version), MalformedCompliancePolicy
    )
    apps = parsed(raw_apps, lambda i: app_protection_from_graph(i, "iOS"), MalformedAppProtectionPolicy)
    for policy in policies:
        if policy.uses_threat_rule:
            assert policy.threat_protection is True and policy.required_level not in ("notSet", "unavailable")
    reads = ChainReads(
        connectors=[],
        statuses={},
        compliance=policies,
        ca=[],
        app_protection=apps,
    )
    plan = plan_chain(reads, {}, {}, tenant_id="t", now=datetime(2026, 11, 29, tzinfo=UTC), channels=[])
    assert [p.platform for p in plan.postures] == ["android", "iOS", "windows", "macOS"]
    for posture in plan.postures:  # no connector: nothing is needed, nothing is raised
        assert all(
            link.state is LinkState.NOT_NEEDED
            for link in posture.links
            if link.name is not LinkName.CONNECTOR
        )
        assert posture.weakest_link is None
    assert plan.alerts == []


@pytest.mark.parametrize(
    "item", [None, [], "x", {"id": "c1"}, {"@odata.type": "#microsoft.graph.iosCompliancePolicy"}]
)
def test_an_entry_that_is_no_compliance_policy_is_rejected_alone(item: Any) -> None:
    with pytest.raises(MalformedCompliancePolicy):
        compliance_policy_from_graph(item, "v1.0")
