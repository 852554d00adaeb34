"""The whole enforcement chain per platform, end to end (issue 13): the real functions (the
Conditional Access check writes the posture, GET /api/posture reads it), Azurite, the simulator
serving connectors, compliance policies, app protection policies and CA policies."""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

import pytest

from graphsim import Fault, GraphSimulator
from tests.conditional_access.test_drift import by_id, check, sent
from tests.conftest import DEFENDER, Host, body
from tests.support.ca_payloads import ca_policy
from tests.support.chain_payloads import ALL_DEVICES, app_protection, compliance_policy, excluded, group
from tests.support.receiver import Receiver

JAMF = "1f58d6d2-02cc-4c80-b008-1bfe7396a10a"
CA = "6a0f6f5e-1111-4c1d-8e00-0000000c0041"
TYPES = {
    "android": "androidWorkProfileCompliancePolicy",
    "iOS": "iosCompliancePolicy",
    "windows": "windows10CompliancePolicy",
    "macOS": "macOSCompliancePolicy",
}
LABELS = {"android": "Android", "iOS": "iOS/iPadOS", "windows": "Windows", "macOS": "macOS"}


def connector(cid: str, **toggles: bool) -> dict[str, Any]:
    return {"id": cid, "partnerState": "enabled", "lastHeartbeatDateTime": "now-1h", **toggles}


class Chain:
    """A tenant with every link whole on every platform; edit, then push()."""

    def __init__(self, graph: GraphSimulator, tenant_id: str) -> None:
        self.graph = graph
        self.tenant_id = tenant_id
        self.connectors = [
            connector(
                DEFENDER,
                androidEnabled=True,
                iosEnabled=True,
                windowsEnabled=True,
                androidMobileApplicationManagementEnabled=True,
                iosMobileApplicationManagementEnabled=True,
            ),
            connector(JAMF, macEnabled=True),
        ]
        self.compliance = {
            p: compliance_policy(f"c-{p.lower()}", t, f"{LABELS[p]} MTD") for p, t in TYPES.items()
        }
        self.apps = {
            "iOS": app_protection("a-ios", "iOS MAM"),
            "android": app_protection("a-android", "Android MAM"),
        }
        self.ca = [ca_policy(CA, "Require compliant device (all platforms)")]

    def push(self) -> None:
        self.graph.load_scenario(
            {
                "tenantId": self.tenant_id,
                "connectors": self.connectors,
                "deviceCompliancePolicies": list(self.compliance.values()),
                "iosManagedAppProtections": [a for p, a in self.apps.items() if p == "iOS"],
                "androidManagedAppProtections": [a for p, a in self.apps.items() if p == "android"],
                "conditionalAccessPolicies": self.ca,
            }
        )


@pytest.fixture
def chain(graph: GraphSimulator, tenant_id: str, env: Callable[..., None], receiver: Receiver) -> Chain:
    env(GRAPH_API_VERSION="beta", ALERT_WEBHOOK_URL=receiver.url)
    c = Chain(graph, tenant_id)
    c.push()
    return c


def posture(host: Host) -> dict[str, dict[str, Any]]:
    response = host.http("posture_get", "GET", "/api/posture")
    assert response.status_code == 200, response.get_body()
    return {p["platform"]: p for p in body(response)["platforms"]}


def links(platform: dict[str, Any]) -> dict[str, str]:
    return {link["name"]: link["state"] for link in platform["links"]}


def run(host: Host) -> dict[str, dict[str, Any]]:
    assert host.http("checks_run", "POST", "/api/checks/heartbeat").status_code == 200
    check(host)
    return posture(host)


def test_before_any_check_the_posture_is_empty(host: Host) -> None:
    response = host.http("posture_get", "GET", "/api/posture")
    assert response.status_code == 200
    assert body(response)["platforms"] == [] and body(response)["checkedAt"] is None


def test_every_link_whole_on_every_platform(host: Host, chain: Chain) -> None:
    found = run(host)
    assert list(found) == ["android", "iOS", "windows", "macOS"]
    for platform, state in found.items():
        assert state["weakestLink"] is None, state["weakestReason"]
        assert "every link of the chain is in place" in state["weakestReason"]
        expected_app = "ok" if platform in ("android", "iOS") else "notNeeded"
        assert links(state) == {
            "connector": "ok",
            "compliance": "ok",
            "conditionalAccess": "ok",
            "appProtection": expected_app,
        }
    ios = found["iOS"]
    assert ios["compliancePolicies"][0] | {"id": "x"} == {
        "id": "x",
        "displayName": "iOS/iPadOS MTD",
        "policyType": "iOS/iPadOS",
        "deviceThreatLevelRule": True,
        "requiredLevel": "low",
        "assigned": True,
    }
    assert ios["connectors"][0]["partner"] == "Microsoft Defender for Endpoint"
    assert ios["connectors"][0]["health"] == "healthy"
    assert ios["conditionalAccessPolicies"][0]["enforces"] is True
    assert ios["appProtectionPolicies"][0]["maximumAllowedDeviceThreatLevel"] == "low"
    assert [
        f for f in by_id(host) if f.startswith(("complianceThreatLevel", "appProtectionThreatLevel"))
    ] == []


BREAKS: dict[str, Callable[[dict[str, Any]], dict[str, Any] | None]] = {
    "rule turned off": lambda p: {**p, "deviceThreatProtectionEnabled": False},
    "level not set": lambda p: {**p, "deviceThreatProtectionRequiredSecurityLevel": "notSet"},
    "unassigned": lambda p: {**p, "assignments": []},
    "only an exclusion": lambda p: {**p, "assignments": [{"id": "x", "target": excluded("g-9")}]},
    "deleted": lambda p: None,
}
AFTER = {
    "rule turned off": "'{label} MTD' (assigned, rule off)",
    "level not set": "'{label} MTD' (assigned, rule off)",
    "unassigned": "'{label} MTD' (not assigned, rule on at low)",
    "only an exclusion": "'{label} MTD' (not assigned, rule on at low)",
    "deleted": "no {label} compliance policy",
}


@pytest.mark.parametrize("platform", list(TYPES))
def test_each_compliance_break_is_a_change_of_one_finding_then_repaired(
    host: Host, chain: Chain, receiver: Receiver, platform: str
) -> None:
    label = LABELS[platform]
    whole = chain.compliance[platform]
    run(host)
    fid = f"complianceThreatLevel.{platform.lower()}"
    partner = "Jamf Trust (formerly Wandera)" if platform == "macOS" else "Microsoft Defender for Endpoint"
    for name, breaking in BREAKS.items():
        broken = breaking(whole)
        if broken is None:
            del chain.compliance[platform]
        else:
            chain.compliance[platform] = broken
        chain.push()
        state = run(host)[platform]
        assert state["weakestLink"] == "compliance", name
        assert state["weakestReason"].startswith(
            f"{label}: {partner} evaluates compliance, but no assigned {label} compliance policy uses the "
            f"Device Threat Level rule: its risk verdicts change nothing."
        ), name
        finding = by_id(host)[fid]
        assert (finding["status"], finding["severity"]) == ("open", "warning"), name
        before = f"'{label} MTD' (assigned, rule on at low)"
        assert f"Before: {before}. Now: {AFTER[name].format(label=label)}." in finding["message"], name
        assert "Device Threat Level" in finding["remediation"]
        opened = [a for a in sent(receiver, "complianceThreatLevel") if a["resourceId"] == platform][-1]
        assert opened["before"] == before and opened["status"] == "open", name

        chain.compliance[platform] = whole  # repaired
        chain.push()
        assert run(host)[platform]["weakestLink"] is None, name
        assert by_id(host)[fid]["status"] == "resolved", name
    statuses = [a["status"] for a in sent(receiver, "complianceThreatLevel") if a["resourceId"] == platform]
    assert statuses == ["open", "resolved"] * len(BREAKS)
    # the other platforms never moved
    others = [f for f in by_id(host) if f.startswith("complianceThreatLevel.") and f != fid]
    assert others == []


def test_a_relaxed_level_is_an_info_change_accepted_by_acknowledging(host: Host, chain: Chain) -> None:
    run(host)
    chain.compliance["iOS"] = {
        **chain.compliance["iOS"],
        "deviceThreatProtectionRequiredSecurityLevel": "high",
    }
    chain.push()
    assert run(host)["iOS"]["weakestLink"] is None  # still whole
    finding = by_id(host)["complianceThreatLevel.ios"]
    assert (finding["status"], finding["severity"]) == ("open", "info")
    assert "relaxed from low to high" in finding["message"]
    assert (
        "Before: 'iOS/iPadOS MTD' (assigned, rule on at low). "
        "Now: 'iOS/iPadOS MTD' (assigned, rule on at high)." in finding["message"]
    )
    fid = finding["id"]
    acked = host.http("finding_acknowledge", "POST", f"/api/findings/{fid}/ack", route_params={"id": fid})
    assert acked.status_code == 200
    run(host)
    accepted = by_id(host)[fid]
    assert accepted["status"] == "resolved" and "relaxed level (high) was accepted" in accepted["message"]
    run(host)  # the accepted level is the new baseline: nothing reopens
    assert by_id(host)[fid]["status"] == "resolved"


@pytest.mark.parametrize("platform", ["iOS", "android"])
def test_app_protection_link_broken_and_repaired(host: Host, chain: Chain, platform: str) -> None:
    label = LABELS[platform]
    whole = chain.apps[platform]
    run(host)
    fid = f"appProtectionThreatLevel.{platform.lower()}"
    for broken in (
        {**whole, "maximumAllowedDeviceThreatLevel": "notConfigured"},
        {**whole, "assignments": []},
        None,
    ):
        if broken is None:
            del chain.apps[platform]
        else:
            chain.apps[platform] = broken
        chain.push()
        state = run(host)[platform]
        assert links(state)["appProtection"] == "broken"
        assert state["weakestLink"] == "appProtection"
        finding = by_id(host)[fid]
        assert finding["status"] == "open"
        assert (
            f"{label}: Microsoft Defender for Endpoint evaluates app protection, but no assigned {label} app "
            "protection policy sets a maximum allowed device threat level" in finding["message"]
        )
        chain.apps[platform] = whole
        chain.push()
        assert links(run(host)[platform])["appProtection"] == "ok"
        assert by_id(host)[fid]["status"] == "resolved"


def test_v1_says_cannot_see_never_broken(
    host: Host, chain: Chain, env: Callable[..., None], receiver: Receiver
) -> None:
    env(GRAPH_API_VERSION="v1.0", ALERT_WEBHOOK_URL=receiver.url)
    chain.connectors[0]["iosMobileApplicationManagementEnabled"] = True
    chain.push()
    found = run(host)

    ios = found["iOS"]
    assert links(ios)["appProtection"] == "cannotSee"
    app_reason = next(link["reason"] for link in ios["links"] if link["name"] == "appProtection")
    assert "Graph beta only" in app_reason and "GRAPH_API_VERSION=beta" in app_reason
    assert ios["weakestLink"] == "appProtection"
    assert ios["appProtectionPolicies"] == []
    assert not any(r.path.startswith("/deviceAppManagement") for r in chain.graph.requests)
    windows = found["windows"]
    assert links(windows)["compliance"] == "cannotSee"
    assert windows["compliancePolicies"][0]["deviceThreatLevelRule"] is None
    assert (
        "Windows 10 and later" in windows["weakestReason"]
        and "GRAPH_API_VERSION=beta" in windows["weakestReason"]
    )
    assert links(found["android"])["compliance"] == "ok"  # work profile: v1.0 sees the rule
    assert not [f for f in by_id(host) if f.startswith(("complianceThreatLevel", "appProtectionThreatLevel"))]


@pytest.mark.parametrize(
    ("path", "link", "permission"),
    [
        (
            "/deviceManagement/deviceCompliancePolicies",
            "compliance",
            "DeviceManagementConfiguration.Read.All",
        ),
        ("/deviceAppManagement/iosManagedAppProtections", "appProtection", "DeviceManagementApps.Read.All"),
        ("/identity/conditionalAccess/policies", "conditionalAccess", "Policy.Read.All"),
    ],
)
def test_a_missing_permission_says_cannot_see_grant_it(
    host: Host, chain: Chain, graph: GraphSimulator, path: str, link: str, permission: str
) -> None:
    run(host)
    graph.add_fault(Fault(kind="status", status=403, path=path, times=None))
    state = run(host)["iOS"]
    assert links(state)[link] == "cannotSee"
    reason = next(x["reason"] for x in state["links"] if x["name"] == link)
    assert reason.startswith("cannot see: grant the application permission " + permission)
    assert state["weakestLink"] == link
    # no false alarm: the link's finding does not open; the access problem is its own finding
    assert not [f for f in by_id(host) if f.startswith(("complianceThreatLevel", "appProtectionThreatLevel"))]
    assert any(f.startswith("graphAccess.") and v["status"] == "open" for f, v in by_id(host).items())


def test_an_unresponsive_defender_connector_names_the_defender_portal_setting(
    host: Host, chain: Chain
) -> None:
    chain.connectors[0] = {
        **chain.connectors[0],
        "partnerState": "unresponsive",
        "lastHeartbeatDateTime": "now-9d",
    }
    chain.push()
    state = run(host)["android"]
    heartbeat = by_id(host)[f"heartbeat.{DEFENDER}"]
    assert heartbeat["remediation"].startswith("Restore the partner's connection")
    assert "Advanced features, set 'Microsoft Intune connection' to On" in heartbeat["remediation"]
    assert state["weakestLink"] == "connector"
    assert "Microsoft Defender for Endpoint connector is unresponsive" in state["weakestReason"]
    assert (
        "Settings > Endpoints > Advanced features, set 'Microsoft Intune connection' to On and select "
        "Save preferences" in state["weakestReason"]
    )
    assert (
        "Tenant administration > Connectors and tokens > Microsoft Defender for Endpoint"
        in (state["weakestReason"])
    )


def test_ca_policies_that_only_seem_to_enforce_are_named_with_why(host: Host, chain: Chain) -> None:
    chain.ca = [
        ca_policy(CA, "Compliant or MFA", controls=("compliantDevice", "mfa")),
        ca_policy(
            "6a0f6f5e-1111-4c1d-8e00-0000000c0042", "Report only", state="enabledForReportingButNotEnforced"
        ),
    ]
    chain.push()
    state = run(host)["iOS"]
    assert links(state)["conditionalAccess"] == "broken" and state["weakestLink"] == "conditionalAccess"
    seems = {p["displayName"]: p["onlySeemsBecause"] for p in state["conditionalAccessPolicies"]}
    assert seems == {"Compliant or MFA": ["also lets devices in with mfa"], "Report only": ["is report-only"]}


def test_scoped_assignment_to_a_group_counts_as_assigned(host: Host, chain: Chain) -> None:
    chain.compliance["iOS"] = compliance_policy(
        "c-ios", "iosCompliancePolicy", "iOS group", targets=(group("g-1"), excluded("g-2"))
    )
    chain.push()
    assert links(run(host)["iOS"])["compliance"] == "ok"
    assert ALL_DEVICES["@odata.type"].endswith("allDevicesAssignmentTarget")


@pytest.mark.parametrize("platform", list(TYPES))
def test_the_connector_and_conditional_access_links_broken_and_repaired(
    host: Host, chain: Chain, platform: str
) -> None:
    label = LABELS[platform]
    index = 1 if platform == "macOS" else 0
    whole_connector, whole_ca = chain.connectors[index], chain.ca
    assert links(run(host)[platform]) | {"appProtection": "-"} == {
        "connector": "ok",
        "compliance": "ok",
        "conditionalAccess": "ok",
        "appProtection": "-",
    }

    chain.connectors[index] = {
        **whole_connector,
        "partnerState": "unresponsive",
        "lastHeartbeatDateTime": "now-9d",
    }
    chain.push()
    state = run(host)[platform]
    assert (links(state)["connector"], state["weakestLink"]) == ("broken", "connector")
    assert state["weakestReason"].startswith(f"{label}: the ")
    chain.connectors[index] = whole_connector
    chain.push()
    assert links(run(host)[platform])["connector"] == "ok"

    chain.ca = [
        ca_policy(CA, "Require compliant device (all platforms)", state="enabledForReportingButNotEnforced")
    ]
    chain.push()
    state = run(host)[platform]
    assert (links(state)["conditionalAccess"], state["weakestLink"]) == ("broken", "conditionalAccess")
    assert (
        "Only seem to: 'Require compliant device (all platforms)' is report-only." in state["weakestReason"]
    )
    chain.ca = whole_ca
    chain.push()
    repaired = run(host)[platform]
    assert links(repaired)["conditionalAccess"] == "ok" and repaired["weakestLink"] is None


def test_unreadable_connectors_leave_an_open_link_finding_open(
    host: Host, chain: Chain, graph: GraphSimulator
) -> None:
    chain.compliance["iOS"] = {**chain.compliance["iOS"], "deviceThreatProtectionEnabled": False}
    chain.push()
    run(host)
    assert by_id(host)["complianceThreatLevel.ios"]["status"] == "open"
    graph.add_fault(
        Fault(kind="status", status=403, path="/deviceManagement/mobileThreatDefenseConnectors", times=None)
    )
    check(host)
    state = posture(host)["iOS"]
    assert {name: s for name, s in links(state).items()} == {
        "connector": "cannotSee",
        "compliance": "cannotSee",
        "conditionalAccess": "cannotSee",
        "appProtection": "cannotSee",
    }
    assert "DeviceManagementServiceConfig.Read.All" in state["weakestReason"]
    assert by_id(host)["complianceThreatLevel.ios"]["status"] == "open"  # not "no longer needed"
