"""Classic and modern never confused (issue 13): an object Graph lists as a modern Conditional
Access policy, or that the modern audit events name, is never a classic policy, whatever its name
and however Core Directory logs it. Through run_ca_drift: the real function, Azurite, the simulator."""

from __future__ import annotations

from typing import Any

from tests.conditional_access.test_drift import Tenant, ago, alerts, by_id, check, sent, t
from tests.conftest import Host
from tests.support.ca_payloads import audit_event, ca_policy, edited_update
from tests.support.receiver import Receiver

__all__ = ["alerts", "t"]  # fixtures shared with test_drift

CA021 = "6a0f6f5e-1111-4c1d-8e00-0000000c0021"
CA021_NAME = "CA021 - MTD - Require compliant device (mobile)"
CLASSIC = "3f1c2a9e-7b0d-4c55-9e61-0a8b6c1d0101"
CLASSIC_NAME = "Lookout for Work MTD policy"


def classic_findings(host: Host) -> dict[str, dict[str, Any]]:
    return {k: v for k, v in by_id(host).items() if k.startswith("classicPolicy")}


def test_a_modern_policy_edited_under_core_directory_is_not_a_classic_change(
    host: Host, t: Tenant, alerts: Receiver
) -> None:
    t.policies = [ca_policy(CA021, CA021_NAME, platforms=("android", "iOS"))]
    t.events = [edited_update(CA021, CA021_NAME, ago(10))]  # "Update policy", Core Directory, Policy
    t.push()

    result = check(host)

    assert result["ok"], result["problems"]
    assert result["classic"]["changes"] == []
    assert classic_findings(host) == {}  # no "was edited" (high), no hygiene finding
    assert sent(alerts, "classicPolicyDrift") == [] and sent(alerts, "classicPolicyHygiene") == []
    assert CA021 in result["modern"]["requiringCompliantDevice"]


def test_a_policy_the_modern_audit_events_name_is_never_classic(host: Host, t: Tenant) -> None:
    # Graph does not list it (yet, or it is hidden from this read): the modern audit event names it.
    t.events = [
        audit_event(
            "Add conditional access policy", CA021, CA021_NAME, ago(12), service="Conditional Access"
        ),
        edited_update(CA021, CA021_NAME, ago(10)),
        edited_update(CLASSIC, CLASSIC_NAME, ago(9)),  # a real classic policy still counts
    ]
    t.push()

    result = check(host)

    assert [c["policyId"] for c in result["classic"]["changes"]] == [CLASSIC]
    assert set(classic_findings(host)) == {
        f"classicPolicyDrift.{CLASSIC}.modified",
        "classicPolicyHygiene.classic-policies",
    }


def test_a_modern_policy_wrongly_baselined_as_classic_leaves_the_classic_baseline(
    host: Host, t: Tenant
) -> None:
    """Before the fix a run put the modern policy in the classic baseline: the next run heals it."""
    t.events = [edited_update(CA021, CA021_NAME, ago(10))]
    t.push()
    check(host)  # Graph does not list the policy: the event alone looks classic (the name matches)
    assert "classicPolicyHygiene.classic-policies" in classic_findings(host)

    t.policies = [ca_policy(CA021, CA021_NAME, platforms=("android", "iOS"))]
    t.push()
    result = check(host)

    hygiene = by_id(host)["classicPolicyHygiene.classic-policies"]
    assert hygiene["status"] == "resolved"
    assert result["classic"]["knownPolicies"] == 0
    drift = by_id(host)[f"classicPolicyDrift.{CA021}.modified"]
    assert drift["status"] == "resolved"
    assert "modern" in drift["message"]
