"""Payload fidelity: msgraph-sdk itself must parse everything the simulator sends.

The SDK's generated models are the official schema: a field the simulator invents lands
in ``additional_data``, a wrong enum spelling parses to None, a wrong date shape raises.
"""

from __future__ import annotations

import asyncio
from datetime import UTC, datetime, timedelta

import pytest
from kiota_abstractions.authentication import AnonymousAuthenticationProvider
from msgraph.generated.models.mobile_threat_defense_connector import (
    MobileThreatDefenseConnector,
)
from msgraph.generated.models.mobile_threat_partner_tenant_state import (
    MobileThreatPartnerTenantState,
)
from msgraph.generated.models.o_data_errors.o_data_error import ODataError
from msgraph.graph_request_adapter import GraphRequestAdapter
from msgraph.graph_service_client import GraphServiceClient

from graphsim import Fault, GraphSimulator
from graphsim.mtd_connectors import MTD_CONNECTORS

from .conftest import CONNECTORS, LOOKOUT, ZIMPERIUM

# msgraph's own request builders warn about themselves on every call; not our concern.
pytestmark = [
    pytest.mark.filterwarnings("ignore:This class is deprecated:DeprecationWarning"),
    pytest.mark.filterwarnings("ignore:GetQueryParameters is deprecated:DeprecationWarning"),
]

JAMF = "1f58d6d2-02cc-4c80-b008-1bfe7396a10a"
BLACKBERRY = "a447eca6-a986-4d3f-9838-5862bf50776c"


def sdk_client(sim: GraphSimulator) -> GraphServiceClient:
    adapter = GraphRequestAdapter(AnonymousAuthenticationProvider())
    # No trailing slash: httpx would turn it into "//deviceManagement" (a 404).
    adapter.base_url = sim.base_url + "/v1.0"
    return GraphServiceClient(request_adapter=adapter)


async def fetch_all(client: GraphServiceClient) -> tuple[list[MobileThreatDefenseConnector], int]:
    """Every connector, following odata_next_link; also the number of pages read."""
    builder = client.device_management.mobile_threat_defense_connectors
    page = await builder.get()
    assert page is not None
    assert page.additional_data == {}  # no invented collection-level field either
    connectors, pages = list(page.value or []), 1
    while page.odata_next_link:
        page = await builder.with_url(page.odata_next_link).get()
        assert page is not None
        assert page.additional_data == {}
        connectors += page.value or []
        pages += 1
    return connectors, pages


def test_v1_schema_matches_the_sdk_model() -> None:
    sdk_fields = set(MobileThreatDefenseConnector().get_field_deserializers()) - {"@odata.type"}
    assert set(MTD_CONNECTORS.property_names("v1.0")) == sdk_fields


def test_every_connector_parses_cleanly_across_pages(sim: GraphSimulator) -> None:
    before = datetime.now(UTC)
    connectors, pages = asyncio.run(fetch_all(sdk_client(sim)))

    assert pages == 3  # demo.json: 7 connectors, pageSize 3
    assert len(connectors) == 7
    assert len({c.id for c in connectors}) == 7
    for connector in connectors:
        assert isinstance(connector, MobileThreatDefenseConnector)
        assert connector.additional_data == {}, connector.id
        # JAMF: see below
        assert isinstance(connector.partner_state, MobileThreatPartnerTenantState) or connector.id == JAMF
        assert isinstance(connector.partner_unresponsiveness_threshold_in_days, int)
        assert isinstance(connector.ios_enabled, bool)
    by_id = {c.id: c for c in connectors}
    lookout = by_id[LOOKOUT]
    assert lookout.partner_state is MobileThreatPartnerTenantState.Unresponsive
    assert lookout.last_heartbeat_date_time is not None
    age = before - lookout.last_heartbeat_date_time
    assert timedelta(days=8.2) - timedelta(minutes=1) < age < timedelta(days=8.2, minutes=1)
    assert by_id[ZIMPERIUM].partner_unresponsiveness_threshold_in_days == 3
    assert by_id[BLACKBERRY].last_heartbeat_date_time is None
    # "error": Microsoft's current v1.0 reference lists it and the simulator serves it by name, but
    # msgraph-sdk 1.65's enum stops at unresponsive and leaves it None (MTD Guard reads the raw JSON).
    assert by_id[JAMF].partner_state is None
    follow_ups = [r for r in sim.requests if "$skiptoken" in r.query]
    assert len(follow_ups) == 2


def test_errors_parse_as_odata_error(sim: GraphSimulator) -> None:
    client = sdk_client(sim)
    builder = client.device_management.mobile_threat_defense_connectors
    with pytest.raises(ODataError) as caught:
        asyncio.run(builder.by_mobile_threat_defense_connector_id("no-such-id").get())
    error = caught.value
    assert error.response_status_code == 404
    assert error.error is not None
    assert error.error.code == "ResourceNotFound"
    assert error.error.inner_error is not None
    assert error.error.inner_error.request_id  # innerError keys match the SDK's model
    assert error.error.inner_error.additional_data == {}


def test_sdk_patch_sends_only_set_properties_and_gets_204(sim: GraphSimulator) -> None:
    builder = sdk_client(sim).device_management.mobile_threat_defense_connectors
    item = builder.by_mobile_threat_defense_connector_id(ZIMPERIUM)
    result = asyncio.run(item.patch(MobileThreatDefenseConnector(ios_enabled=True)))

    assert result is None  # 204: the SDK returns nothing
    assert sim.requests[-1].json == {"iosEnabled": True}
    stored = sim.connector(ZIMPERIUM)
    assert stored is not None
    assert stored["iosEnabled"] is True
    assert stored["androidEnabled"] is True  # merged, not replaced


def test_sdk_patch_with_body_option_returns_the_entity() -> None:
    with GraphSimulator(scenario={"connectors": [{"id": ZIMPERIUM}]}, patch_returns_body=True) as sim:
        builder = sdk_client(sim).device_management.mobile_threat_defense_connectors
        item = builder.by_mobile_threat_defense_connector_id(ZIMPERIUM)
        result = asyncio.run(item.patch(MobileThreatDefenseConnector(windows_enabled=True)))
    assert isinstance(result, MobileThreatDefenseConnector)
    assert result.windows_enabled is True
    assert result.additional_data == {}


def test_sdk_retry_honours_retry_after_then_succeeds(sim: GraphSimulator) -> None:
    sim.add_fault(Fault(kind="status", status=429, retry_after=1, path=CONNECTORS, times=1))
    connectors, _ = asyncio.run(fetch_all(sdk_client(sim)))

    assert len(connectors) == 7
    statuses = [r.status for r in sim.requests]
    assert statuses[:2] == [429, 200]  # one throttled attempt, one retry, then paging
    assert sim.requests[1].headers.get("retry-attempt") == "1"


def test_what_the_sdk_makes_of_raw_malformed_values() -> None:
    """Documents, for MTD Guard's parsing code, how scenario garbage reaches SDK users."""
    bogus = {"id": "bogus", "partnerState": "bogusState"}
    undated = {"id": "undated", "lastHeartbeatDateTime": "not-a-date"}

    async def fetch(sim: GraphSimulator) -> tuple[MobileThreatDefenseConnector | None, str]:
        # One event loop per client: the SDK's httpx pool is bound to the loop it ran on.
        items = sdk_client(sim).device_management.mobile_threat_defense_connectors
        parsed = await items.by_mobile_threat_defense_connector_id("bogus").get()
        try:
            await items.by_mobile_threat_defense_connector_id("undated").get()
        except ValueError as exc:
            return parsed, str(exc)
        return parsed, ""

    with GraphSimulator(scenario={"connectors": [bogus, undated]}) as sim:
        parsed, failure = asyncio.run(fetch(sim))
    assert parsed is not None
    assert parsed.partner_state is None  # unknown enum text: silently None
    assert "not-a-date" in failure  # an unparseable timestamp raises
