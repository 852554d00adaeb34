"""The enforcement chain's collections in the simulator: device compliance policies (polymorphic,
with $expand=assignments) and app protection policies, as v1.0 and beta serve them, parsed by
msgraph-sdk's own v1.0 models with nothing left over (``additional_data`` empty)."""

from __future__ import annotations

import asyncio
from typing import Any

import pytest
from kiota_abstractions.base_request_configuration import RequestConfiguration
from msgraph.generated.device_app_management.ios_managed_app_protections import (
    ios_managed_app_protections_request_builder as ios_builder,
)
from msgraph.generated.device_management.device_compliance_policies import (
    device_compliance_policies_request_builder as compliance_builder,
)
from msgraph.generated.models.android_compliance_policy import AndroidCompliancePolicy
from msgraph.generated.models.android_work_profile_compliance_policy import AndroidWorkProfileCompliancePolicy
from msgraph.generated.models.device_threat_protection_level import DeviceThreatProtectionLevel
from msgraph.generated.models.group_assignment_target import GroupAssignmentTarget
from msgraph.generated.models.ios_compliance_policy import IosCompliancePolicy
from msgraph.generated.models.ios_managed_app_protection import IosManagedAppProtection
from msgraph.generated.models.mac_o_s_compliance_policy import MacOSCompliancePolicy
from msgraph.generated.models.windows10_compliance_policy import Windows10CompliancePolicy

from graphsim import GraphSimulator
from tests.support.chain_payloads import ALL_DEVICES, app_protection, compliance_policy, excluded, group

from .conftest import client_for
from .test_sdk_fidelity import sdk_client

pytestmark = [
    pytest.mark.filterwarnings("ignore:This class is deprecated:DeprecationWarning"),
    pytest.mark.filterwarnings("ignore:GetQueryParameters is deprecated:DeprecationWarning"),
]

POLICIES = [
    compliance_policy("c-admin", "androidCompliancePolicy", "Android DA", targets=(group("g-1"),)),
    compliance_policy("c-wp", "androidWorkProfileCompliancePolicy", "Android WP", level="medium"),
    compliance_policy("c-ios", "iosCompliancePolicy", "iOS", targets=(ALL_DEVICES, excluded("g-2"))),
    compliance_policy("c-mac", "macOSCompliancePolicy", "macOS", rule=False, level="notSet"),
    compliance_policy("c-win", "windows10CompliancePolicy", "Windows", level="high"),
]
APP = [app_protection("a-ios", "iOS MAM", level="medium", action="wipe")]


@pytest.fixture
def chain_sim() -> Any:
    with GraphSimulator(
        scenario={
            "deviceCompliancePolicies": POLICIES,
            "iosManagedAppProtections": APP,
            "pageSize": 2,
        }
    ) as sim:
        yield sim


async def compliance_via_sdk(sim: GraphSimulator) -> list[Any]:
    client = sdk_client(sim)
    builder = client.device_management.device_compliance_policies
    builder_class = compliance_builder.DeviceCompliancePoliciesRequestBuilder
    params = builder_class.DeviceCompliancePoliciesRequestBuilderGetQueryParameters
    page = await builder.get(RequestConfiguration(query_parameters=params(expand=["assignments"])))
    assert page is not None and page.additional_data == {}
    found = list(page.value or [])
    while page.odata_next_link:
        page = await builder.with_url(page.odata_next_link).get()
        assert page is not None and page.additional_data == {}
        found += page.value or []
    return found


def test_compliance_policies_parse_into_their_v1_types_with_assignments(chain_sim: GraphSimulator) -> None:
    policies = {p.id: p for p in asyncio.run(compliance_via_sdk(chain_sim))}

    assert isinstance(policies["c-admin"], AndroidCompliancePolicy)
    assert isinstance(policies["c-wp"], AndroidWorkProfileCompliancePolicy)
    assert isinstance(policies["c-ios"], IosCompliancePolicy)
    assert isinstance(policies["c-mac"], MacOSCompliancePolicy)
    assert isinstance(policies["c-win"], Windows10CompliancePolicy)
    for policy in policies.values():
        assert policy.additional_data == {}, policy.id
        assert policy.assignments, policy.id  # expanded on every page, nextLink included
        for assignment in policy.assignments:
            assert assignment.additional_data == {} and assignment.target is not None
            assert assignment.target.additional_data == {}
    ios = policies["c-ios"]
    assert isinstance(ios, IosCompliancePolicy)
    assert ios.device_threat_protection_enabled is True
    assert ios.device_threat_protection_required_security_level is DeviceThreatProtectionLevel.Low
    admin = policies["c-admin"]
    assert admin.assignments is not None and isinstance(admin.assignments[0].target, GroupAssignmentTarget)
    assert admin.assignments[0].target.group_id == "g-1"


def test_v1_cannot_see_the_windows_rule_and_beta_can(chain_sim: GraphSimulator) -> None:
    with client_for(chain_sim) as http:
        v1 = http.get("/v1.0/deviceManagement/deviceCompliancePolicies/c-win").json()
        beta = http.get("/beta/deviceManagement/deviceCompliancePolicies/c-win").json()
        plain = http.get("/v1.0/deviceManagement/deviceCompliancePolicies?$top=1").json()["value"][0]
        bad = http.get("/v1.0/deviceManagement/deviceCompliancePolicies?$expand=nothing")
    assert "deviceThreatProtectionEnabled" not in v1 and v1["@odata.type"].endswith(
        "windows10CompliancePolicy"
    )
    assert beta["deviceThreatProtectionEnabled"] is True
    assert beta["deviceThreatProtectionRequiredSecurityLevel"] == "high"
    assert "assignments" not in plain  # only with $expand
    assert bad.status_code == 400


def test_app_protection_threat_level_is_beta_only_and_parses_in_v1(chain_sim: GraphSimulator) -> None:
    async def read() -> Any:
        builder = sdk_client(chain_sim).device_app_management.ios_managed_app_protections
        builder_class = ios_builder.IosManagedAppProtectionsRequestBuilder
        params = builder_class.IosManagedAppProtectionsRequestBuilderGetQueryParameters
        return await builder.get(RequestConfiguration(query_parameters=params(expand=["assignments"])))

    page = asyncio.run(read())
    [policy] = page.value
    assert isinstance(policy, IosManagedAppProtection) and policy.additional_data == {}
    assert policy.assignments and policy.assignments[0].target is not None
    assert policy.assignments[0].target.additional_data == {}
    with client_for(chain_sim) as http:
        beta = http.get("/beta/deviceAppManagement/iosManagedAppProtections?$expand=assignments").json()
        empty = http.get("/beta/deviceAppManagement/androidManagedAppProtections").json()
    assert beta["value"][0]["maximumAllowedDeviceThreatLevel"] == "medium"
    assert beta["value"][0]["mobileThreatDefenseRemediationAction"] == "wipe"
    assert empty["value"] == []
