"""Conditional Access semantics as a table (issue 13): a policy enforces MTD for a platform only if
EVERY way to satisfy its grant requires a compliant device, for someone and something, switched
On. Each row: a change to a policy that requires a compliant device everywhere, the platform judged,
and the verdict (enforces, or only seems to with the reason in plain words, or not about MTD there)."""

from __future__ import annotations

import copy
from typing import Any

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from shared.conditional_access.enforcement import enforces, judge
from shared.graph.conditional_access_policies import policy_from_graph
from tests.support.ca_payloads import ca_policy

PID = "6a0f6f5e-1111-4c1d-8e00-0000000c0021"
STRENGTH = {"id": "00000000-0000-0000-0000-000000000004", "displayName": "Phishing-resistant MFA"}


def payload(**edits: Any) -> dict[str, Any]:
    """The base policy (On, all users, all apps, all clients, any platform, compliantDevice alone)
    with ``edits``: grant_<key> / users_<key> / apps_<key> / conditions_<key> / top-level keys."""
    entry = copy.deepcopy(ca_policy(PID, "CA021 - MTD - Require compliant device (mobile)"))
    for key, value in edits.items():
        where, _, name = key.partition("_")
        if where == "grant":
            entry["grantControls"][name] = value
        elif where == "users":
            entry["conditions"]["users"][name] = value
        elif where == "apps":
            entry["conditions"]["applications"][name] = value
        elif where == "conditions":
            entry["conditions"][name] = value
        else:
            entry[key] = value
    return entry


ENFORCES = "enforces"
NOT_MTD = None
CASES: list[tuple[str, dict[str, Any], str, str | None, str]] = [
    # (case, edits, platform, verdict, reason or scope it names)
    ("compliant device alone", {}, "android", ENFORCES, ""),
    ("OR mfa", {"grant_builtInControls": ["compliantDevice", "mfa"]}, "iOS", "seems", "with mfa"),
    (
        "AND mfa",
        {"grant_builtInControls": ["compliantDevice", "mfa"], "grant_operator": "AND"},
        "iOS",
        ENFORCES,
        "",
    ),
    (
        "OR hybrid join",
        {"grant_builtInControls": ["compliantDevice", "domainJoinedDevice"]},
        "windows",
        "seems",
        "with domainJoinedDevice",
    ),
    ("OR terms of use", {"grant_termsOfUse": ["tou-1"]}, "android", "seems", "with terms of use tou-1"),
    ("AND terms of use", {"grant_termsOfUse": ["tou-1"], "grant_operator": "AND"}, "android", ENFORCES, ""),
    (
        "OR custom control",
        {"grant_customAuthenticationFactors": ["Duo"]},
        "iOS",
        "seems",
        "with custom control Duo",
    ),
    (
        "OR authentication strength",
        {"grant_authenticationStrength": STRENGTH},
        "iOS",
        "seems",
        "with authentication strength 'Phishing-resistant MFA'",
    ),
    (
        "AND authentication strength",
        {"grant_authenticationStrength": STRENGTH, "grant_operator": "AND"},
        "iOS",
        ENFORCES,
        "",
    ),
    (
        "no operator, two controls",
        {"grant_builtInControls": ["compliantDevice", "mfa"], "grant_operator": None},
        "iOS",
        "seems",
        "with mfa",
    ),
    ("no operator, compliant device alone", {"grant_operator": None}, "iOS", ENFORCES, ""),
    ("report-only", {"state": "enabledForReportingButNotEnforced"}, "android", "seems", "is report-only"),
    ("off", {"state": "disabled"}, "android", "seems", "is off"),
    (
        "report-only OR mfa",
        {"state": "enabledForReportingButNotEnforced", "grant_builtInControls": ["compliantDevice", "mfa"]},
        "android",
        "seems",
        "is report-only; also lets devices in with mfa",
    ),
    (
        "platform not included",
        {"conditions_platforms": {"includePlatforms": ["iOS"], "excludePlatforms": []}},
        "android",
        NOT_MTD,
        "",
    ),
    (
        "platform included",
        {"conditions_platforms": {"includePlatforms": ["iOS"], "excludePlatforms": []}},
        "iOS",
        ENFORCES,
        "",
    ),
    (
        "all but excluded",
        {"conditions_platforms": {"includePlatforms": ["all"], "excludePlatforms": ["android"]}},
        "android",
        NOT_MTD,
        "",
    ),
    (
        "all, another excluded",
        {"conditions_platforms": {"includePlatforms": ["all"], "excludePlatforms": ["android"]}},
        "macOS",
        ENFORCES,
        "",
    ),
    (
        "every platform excluded",
        {"conditions_platforms": {"includePlatforms": ["all"], "excludePlatforms": ["all"]}},
        "windows",
        NOT_MTD,
        "",
    ),
    (
        "browser only",
        {"conditions_clientAppTypes": ["browser"]},
        "android",
        "seems",
        "does not apply to mobile apps and desktop clients",
    ),
    (
        "apps and clients only",
        {"conditions_clientAppTypes": ["mobileAppsAndDesktopClients"]},
        "iOS",
        "seems",
        "does not apply to browsers",
    ),
    (
        "legacy clients only",
        {"conditions_clientAppTypes": ["exchangeActiveSync", "other"]},
        "iOS",
        "seems",
        "does not apply to browsers or mobile apps and desktop clients",
    ),
    (
        "browser and apps",
        {"conditions_clientAppTypes": ["browser", "mobileAppsAndDesktopClients"]},
        "iOS",
        ENFORCES,
        "",
    ),
    ("no users", {"users_includeUsers": ["None"]}, "android", "seems", "is assigned to no users"),
    (
        "some groups",
        {"users_includeUsers": [], "users_includeGroups": ["g-1"]},
        "android",
        ENFORCES,
        "for selected users, groups or roles only",
    ),
    (
        "all users but exclusions",
        {"users_excludeGroups": ["break-glass"], "users_excludeUsers": ["u-1"]},
        "android",
        ENFORCES,
        "2 user, group or role exclusion(s)",
    ),
    ("no apps", {"apps_includeApplications": ["None"]}, "iOS", "seems", "targets no cloud apps"),
    (
        "user action only",
        {"apps_includeApplications": [], "apps_includeUserActions": ["urn:user:registersecurityinfo"]},
        "iOS",
        "seems",
        "targets user actions (urn:user:registersecurityinfo), not access to apps",
    ),
    (
        "selected apps",
        {"apps_includeApplications": ["00000002-0000-0ff1-ce00-000000000000"]},
        "iOS",
        ENFORCES,
        "for selected cloud apps only",
    ),
    (
        "all apps but one",
        {"apps_excludeApplications": ["app-1"]},
        "iOS",
        ENFORCES,
        "1 cloud app exclusion(s)",
    ),
    (
        "device filter",
        {"conditions_devices": {"deviceFilter": {"mode": "exclude", "rule": 'device.model -eq "Kiosk"'}}},
        "android",
        ENFORCES,
        'device filter (exclude: device.model -eq "Kiosk")',
    ),
    ("no compliant device at all", {"grant_builtInControls": ["mfa"]}, "iOS", NOT_MTD, ""),
    ("block", {"grant_builtInControls": ["block"]}, "iOS", NOT_MTD, ""),
]


@pytest.mark.parametrize(
    ("edits", "platform", "verdict", "words"), [c[1:] for c in CASES], ids=[c[0] for c in CASES]
)
def test_verdict(edits: dict[str, Any], platform: str, verdict: str | None, words: str) -> None:
    policy = policy_from_graph(payload(**edits))
    found = judge(policy, platform)
    if verdict is NOT_MTD:
        assert found is None
        return
    assert found is not None
    assert found.enforces is (verdict == ENFORCES)
    assert enforces(policy) is found.enforces
    said = "; ".join(found.scope if found.enforces else found.reasons)
    assert words in said
    if verdict == ENFORCES and not words:
        assert found.scope == () and found.summary.endswith("enforces")
    if verdict != ENFORCES:
        assert found.summary == f"'{policy.display_name}' " + said


# -- generated payloads: whatever Graph sends, a verdict, never a crash, always consistent ------------

anything = st.recursive(
    st.none() | st.booleans() | st.integers() | st.text(max_size=8),
    lambda inner: st.lists(inner, max_size=3) | st.dictionaries(st.text(max_size=8), inner, max_size=3),
    max_leaves=6,
)
names = st.lists(st.sampled_from(["All", "None", "g-1", "u-1", "all", "Office365"]), max_size=3)


@st.composite
def generated(draw: st.DrawFn) -> dict[str, Any]:
    grant: dict[str, Any] = {
        "operator": draw(st.sampled_from(["AND", "OR", "and", None, "XOR"]) | anything),
        "builtInControls": draw(
            st.lists(st.sampled_from(["compliantDevice", "mfa", "block", "domainJoinedDevice"]), max_size=3)
            | anything
        ),
        "termsOfUse": draw(st.lists(st.text(max_size=4), max_size=2) | anything),
        "customAuthenticationFactors": draw(st.lists(st.text(max_size=4), max_size=2)),
        "authenticationStrength": draw(st.none() | st.just(STRENGTH) | anything),
    }
    conditions = {
        "users": {"includeUsers": draw(names), "excludeUsers": draw(names), "includeGroups": draw(names)},
        "applications": draw(
            st.fixed_dictionaries({"includeApplications": names, "excludeApplications": names}) | anything
        ),
        "clientAppTypes": draw(
            st.lists(st.sampled_from(["all", "browser", "mobileAppsAndDesktopClients", "other"]), max_size=3)
            | anything
        ),
        "platforms": draw(
            st.none()
            | st.fixed_dictionaries(
                {
                    "includePlatforms": st.lists(st.sampled_from(["all", "android", "iOS", "windows"])),
                    "excludePlatforms": st.lists(st.sampled_from(["all", "android", "iOS", "macOS"])),
                }
            )
        ),
        "devices": draw(anything),
    }
    entry = payload(
        state=draw(st.sampled_from(["enabled", "disabled", "enabledForReportingButNotEnforced"]) | anything)
    )
    entry["grantControls"] = draw(st.just(grant) | anything)
    entry["conditions"] = draw(st.just(conditions) | anything)
    return entry


@settings(max_examples=300, deadline=None)
@given(generated(), st.sampled_from(["android", "iOS", "windows", "macOS"]))
def test_any_payload_gets_a_consistent_verdict(entry: dict[str, Any], platform: str) -> None:
    policy = policy_from_graph(entry)
    found = judge(policy, platform)
    if found is None:
        assert not (policy.has_compliant_device and policy.covers(platform))
        return
    assert found.enforces is enforces(policy)
    if found.enforces:
        assert policy.state == "enabled" and policy.requires_compliant_device and not found.reasons
        assert not policy.users.no_one
    else:
        assert found.reasons and found.scope == ()
    assert isinstance(found.summary, str) and found.display_name in found.summary
