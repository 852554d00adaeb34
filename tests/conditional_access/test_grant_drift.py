"""Gaining a way in without a compliant device is drift (issue 13), end to end: run_ca_drift with
the simulator and Azurite. A watched policy that gains an OR alternative in any grant control (not
only builtInControls) opens its caPolicyDrift finding; a further change changes that finding."""

from __future__ import annotations

from tests.conditional_access.test_drift import Tenant, alerts, by_id, check, connectors, sent, t
from tests.conftest import LOOKOUT, Host
from tests.support.ca_payloads import ca_policy
from tests.support.receiver import Receiver

__all__ = ["alerts", "t"]  # fixtures shared with test_drift

CA = "6a0f6f5e-1111-4c1d-8e00-0000000c0031"
NAME = "CA031 - require compliant device"


def test_gaining_a_terms_of_use_alternative_stops_enforcement(
    host: Host, t: Tenant, alerts: Receiver
) -> None:
    t.connectors = connectors((LOOKOUT, {"iosEnabled": True}))
    t.policies = [ca_policy(CA, NAME, platforms=("iOS",))]
    t.push()
    first = check(host)
    assert first["modern"]["coverage"] == {"iOS": True} and first["modern"]["drifted"] == []

    t.policy(CA)["grantControls"]["termsOfUse"] = ["b4b1c1d0-0000-4000-8000-0000000000aa"]  # operator OR
    t.push()
    second = check(host)

    assert second["modern"]["drifted"] == [CA]
    assert second["modern"]["coverage"] == {"iOS": False}
    drift = by_id(host)[f"caPolicyDrift.{CA}"]
    assert (drift["status"], drift["severity"]) == ("open", "high")
    assert "now also lets devices in with terms of use b4b1c1d0" in drift["message"]
    assert "'Require all the selected controls'" in drift["remediation"]
    coverage = by_id(host)["caCoverage.ios"]
    assert f"'{NAME}' also lets devices in with terms of use" in coverage["message"]
    assert len(sent(alerts, "caPolicyDrift")) == 1

    # Report-only on top: the same finding, its message changed, no second alert
    t.policy(CA)["state"] = "enabledForReportingButNotEnforced"
    t.push()
    check(host)
    again = by_id(host)[f"caPolicyDrift.{CA}"]
    assert again["status"] == "open" and "report-only" in again["message"]
    assert len(sent(alerts, "caPolicyDrift")) == 1

    # Repaired: AND, On
    t.policy(CA)["grantControls"]["operator"] = "AND"
    t.policy(CA)["state"] = "enabled"
    t.push()
    repaired = check(host)
    assert repaired["modern"]["drifted"] == [] and repaired["modern"]["coverage"] == {"iOS": True}
    assert by_id(host)[f"caPolicyDrift.{CA}"]["status"] == "resolved"


def test_a_policy_scoped_to_browsers_only_does_not_cover_the_platform(host: Host, t: Tenant) -> None:
    t.connectors = connectors((LOOKOUT, {"androidEnabled": True}))
    t.policies = [ca_policy(CA, NAME, platforms=("android",))]
    t.policy(CA)["conditions"]["clientAppTypes"] = ["browser"]
    t.push()
    result = check(host)
    assert result["modern"]["coverage"] == {"android": False}
    assert "does not apply to mobile apps and desktop clients" in by_id(host)["caCoverage.android"]["message"]
