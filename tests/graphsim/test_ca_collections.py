"""The directory audit log and Conditional Access policies as the simulator serves them: Graph's
$filter / $orderby / paging behaviour, and payloads msgraph-sdk parses with nothing left over."""

from __future__ import annotations

import asyncio
from collections.abc import Iterator
from datetime import datetime
from typing import Any

import httpx
import pytest
from kiota_abstractions.base_request_configuration import RequestConfiguration
from msgraph.generated.audit_logs.directory_audits.directory_audits_request_builder import (
    DirectoryAuditsRequestBuilder,
)
from msgraph.generated.models.conditional_access_grant_control import ConditionalAccessGrantControl
from msgraph.generated.models.conditional_access_policy import ConditionalAccessPolicy
from msgraph.generated.models.conditional_access_policy_state import ConditionalAccessPolicyState
from msgraph.generated.models.directory_audit import DirectoryAudit
from msgraph.generated.models.operation_result import OperationResult

from graphsim import GraphSimulator
from graphsim.conditional_access import CONDITIONAL_ACCESS_POLICIES
from graphsim.directory_audits import DIRECTORY_AUDITS
from tests.support.ca_payloads import audit_event, ca_policy, disabled_update, edited_update

from .conftest import client_for
from .test_sdk_fidelity import sdk_client

pytestmark = [
    pytest.mark.filterwarnings("ignore:This class is deprecated:DeprecationWarning"),
    pytest.mark.filterwarnings("ignore:GetQueryParameters is deprecated:DeprecationWarning"),
]

AUDITS = "/v1.0/auditLogs/directoryAudits"
POLICIES = "/v1.0/identity/conditionalAccess/policies"
P1 = "9d5c3a71-6a43-4b8e-9a57-1c0f0c1a0001"
P2 = "9d5c3a71-6a43-4b8e-9a57-1c0f0c1a0002"


def events() -> list[dict[str, Any]]:
    return [
        audit_event("Add policy", P1, "Lookout MTD policy", "now-5h", event_id="e1"),
        edited_update(P1, "Lookout MTD policy", "now-4h", event_id="e2"),
        disabled_update(P1, "Lookout MTD policy", "now-3h", event_id="e3"),
        audit_event("Delete policy", P1, "Lookout MTD policy", "now-2h", event_id="e4"),
        audit_event("Add user", "u1", "someone", "now-1h", event_id="e5", category="UserManagement"),
    ]


@pytest.fixture
def tenant() -> Iterator[GraphSimulator]:
    sim = GraphSimulator(
        scenario={
            "pageSize": 2,
            "directoryAudits": events(),
            "conditionalAccessPolicies": [
                ca_policy(P1, "Require compliant device", platforms=("android", "iOS")),
                ca_policy(P2, "MFA for admins", controls=("mfa",), state="enabledForReportingButNotEnforced"),
            ],
        }
    )
    with sim:
        yield sim


def ids(client: httpx.Client, url: str, **params: str) -> list[str]:
    found: list[str] = []
    body = client.get(url, params=params).raise_for_status().json()
    found += [e["id"] for e in body["value"]]
    while "@odata.nextLink" in body:
        body = client.get(body["@odata.nextLink"]).raise_for_status().json()
        found += [e["id"] for e in body["value"]]
    return found


def test_audit_log_lists_newest_first_and_pages(tenant: GraphSimulator) -> None:
    with client_for(tenant) as http:
        assert ids(http, AUDITS) == ["e5", "e4", "e3", "e2", "e1"]
        first = http.get(AUDITS).json()
        assert len(first["value"]) == 2 and first["@odata.nextLink"].startswith(tenant.base_url)


def test_filter_on_time_window_and_equality_is_kept_across_pages(tenant: GraphSimulator) -> None:
    at = {e["id"]: e["activityDateTime"] for e in tenant._store.list_all(DIRECTORY_AUDITS.collection_path)}
    since = datetime.fromisoformat(at["e2"]).strftime("%Y-%m-%dT%H:%M:%SZ")  # whole seconds: e2 included
    until = at["e4"]
    flt = (
        f"activityDateTime ge {since} and activityDateTime le {until} "
        "and loggedByService eq 'Core Directory' and category eq 'Policy'"
    )
    with client_for(tenant) as http:
        assert ids(http, AUDITS, **{"$filter": flt, "$orderby": "activityDateTime asc"}) == ["e2", "e3", "e4"]
        second = http.get(AUDITS, params={"$filter": flt}).json()["@odata.nextLink"]
        assert "%24filter=" in second or "$filter=" in second  # the filter travels with the link
        assert ids(http, AUDITS, **{"$filter": "activityDisplayName eq 'Delete policy'"}) == ["e4"]
        assert ids(http, AUDITS, **{"$filter": "startswith(activityDisplayName,'Add')"}) == ["e5", "e1"]
        assert ids(http, AUDITS, **{"$filter": "category eq 'Policy' and (id eq 'e1' or id eq 'e3')"}) == [
            "e3",
            "e1",
        ]


@pytest.mark.parametrize(
    ("params", "fragment"),
    [
        ({"$filter": "operationType eq 'Delete'"}, "operationType"),
        ({"$filter": "activityDateTime gt 2026-01-01T00:00:00Z"}, "'gt'"),
        ({"$filter": "activityDateTime ge yesterday"}, "DateTimeOffset"),
        ({"$filter": "category eq 'Policy' and"}, "end"),
        ({"$orderby": "category"}, "category"),
    ],
)
def test_unsupported_filters_are_400_not_ignored(
    tenant: GraphSimulator, params: dict[str, str], fragment: str
) -> None:
    with client_for(tenant) as http:
        response = http.get(AUDITS, params=params)
    assert response.status_code == 400
    assert fragment in response.json()["error"]["message"]


def test_policies_do_not_take_filter_and_are_read_only(tenant: GraphSimulator) -> None:
    with client_for(tenant) as http:
        assert http.get(POLICIES, params={"$filter": "state eq 'enabled'"}).status_code == 400
        assert http.post(POLICIES, json={"displayName": "x"}).status_code == 405
        assert http.get(f"{POLICIES}/{P1}").json()["displayName"] == "Require compliant device"


def test_schemas_match_the_sdk_models() -> None:
    audit_fields = set(DirectoryAudit().get_field_deserializers()) - {"@odata.type"}
    policy_fields = set(ConditionalAccessPolicy().get_field_deserializers()) - {"@odata.type"}
    assert set(DIRECTORY_AUDITS.property_names("v1.0")) == audit_fields
    assert set(CONDITIONAL_ACCESS_POLICIES.property_names("v1.0")) == policy_fields


def _no_extras(model: Any, where: str) -> None:
    """No invented field anywhere in the parsed tree: every additional_data is empty."""
    data = getattr(model, "additional_data", None)
    assert not data, f"{where}: {data}"
    for name in dir(type(model)):
        if name.startswith("_") or name in ("additional_data", "backing_store"):
            continue
        value = getattr(model, name, None)
        for item in value if isinstance(value, list) else [value]:
            if hasattr(item, "get_field_deserializers"):
                _no_extras(item, f"{where}.{name}")


def test_sdk_parses_audit_events_and_policies_with_nothing_left_over(tenant: GraphSimulator) -> None:
    async def fetch() -> tuple[list[DirectoryAudit], list[ConditionalAccessPolicy]]:
        client = sdk_client(tenant)
        builder = client.audit_logs.directory_audits
        query = DirectoryAuditsRequestBuilder.DirectoryAuditsRequestBuilderGetQueryParameters(
            filter="category eq 'Policy'", orderby=["activityDateTime asc"]
        )
        page = await builder.get(RequestConfiguration(query_parameters=query))
        assert page is not None and page.additional_data == {}
        audits = list(page.value or [])
        while page.odata_next_link:
            page = await builder.with_url(page.odata_next_link).get()
            assert page is not None
            audits += page.value or []
        policies = await client.identity.conditional_access.policies.get()
        assert policies is not None and policies.additional_data == {}
        return audits, list(policies.value or [])

    audits, policies = asyncio.run(fetch())
    assert [a.id for a in audits] == ["e1", "e2", "e3", "e4"]
    for audit in audits:
        _no_extras(audit, audit.id or "?")
        assert audit.result is OperationResult.Success
        assert audit.activity_date_time is not None
    disabled = audits[2]
    assert disabled.initiated_by is not None and disabled.initiated_by.user is not None
    assert disabled.initiated_by.user.user_principal_name == "admin@contoso.onmicrosoft.com"
    target = (disabled.target_resources or [])[0]
    assert target.type == "Policy" and target.id == P1
    change = (target.modified_properties or [])[0]
    assert change.display_name == "PolicyDetail" and '\\"State\\": \\"Disabled\\"' in (change.new_value or "")

    by_id = {p.id: p for p in policies}
    for policy in policies:
        _no_extras(policy, policy.id or "?")
    required = by_id[P1]
    assert required.state is ConditionalAccessPolicyState.Enabled
    assert required.grant_controls is not None
    assert required.grant_controls.built_in_controls == [ConditionalAccessGrantControl.CompliantDevice]
    assert required.conditions is not None and required.conditions.platforms is not None
    assert by_id[P2].state is ConditionalAccessPolicyState.EnabledForReportingButNotEnforced
