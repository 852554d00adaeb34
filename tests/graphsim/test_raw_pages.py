"""Raw pages: the simulator serves pages exactly as a test wrote them, with the nextLinks it
chose (repeated, cyclic), so consumers can be tested against Graph's paging quirks."""

from __future__ import annotations

import asyncio
import json

import pytest
from msgraph.generated.models.mobile_threat_defense_connector import MobileThreatDefenseConnector

from graphsim import Fault, GraphSimulator, RawPages

from .conftest import CONNECTORS, LOOKOUT, V1, ZIMPERIUM, client_for, scenario
from .test_sdk_fidelity import fetch_all, sdk_client

pytestmark = [
    pytest.mark.filterwarnings("ignore:This class is deprecated:DeprecationWarning"),
    pytest.mark.filterwarnings("ignore:GetQueryParameters is deprecated:DeprecationWarning"),
]


def rendered(sim: GraphSimulator) -> list[dict[str, object]]:
    """The connectors as the simulator renders them for v1.0 (every property, Graph's shapes)."""
    with client_for(sim) as http:
        values: list[dict[str, object]] = http.get(V1).json()["value"]
    return values


def test_raw_pages_of_real_connectors_parse_cleanly_in_the_sdk() -> None:
    with GraphSimulator(scenario=scenario({"id": LOOKOUT}, {"id": ZIMPERIUM})) as sim:
        lookout, zimperium = rendered(sim)
        # Graph's known quirk: the same connector on page 1 and again on page 2.
        sim.serve_raw_pages(RawPages(CONNECTORS, [[lookout, zimperium], [lookout]]))
        connectors, pages = asyncio.run(fetch_all(sdk_client(sim)))
    assert pages == 2
    assert [c.id for c in connectors] == [LOOKOUT, ZIMPERIUM, LOOKOUT]
    assert all(isinstance(c, MobileThreatDefenseConnector) and c.additional_data == {} for c in connectors)


def test_links_repeat_and_cycle_as_asked() -> None:
    with GraphSimulator() as sim, client_for(sim) as http:
        sim.serve_raw_pages(RawPages(CONNECTORS, [[{"id": "a"}], [{"id": "b"}]], links=[1, 1]))
        first = http.get(V1).json()
        second = http.get(first["@odata.nextLink"]).json()
        assert second["value"] == [{"id": "b"}]
        assert second["@odata.nextLink"] == first["@odata.nextLink"]  # the same link, forever

        sim.serve_raw_pages(RawPages(CONNECTORS, [[{"id": "a"}], [{"id": "b"}]], links=[1, 0]))
        second = http.get(http.get(V1).json()["@odata.nextLink"]).json()
        assert http.get(second["@odata.nextLink"]).json()["value"] == [{"id": "a"}]  # back to page 0

        sim.load_scenario(scenario({"id": LOOKOUT}))  # a scenario load ends the raw pages
        assert [c["id"] for c in http.get(V1).json()["value"]] == [LOOKOUT]


def test_entries_are_served_untouched_and_faults_still_come_first() -> None:
    odd = [{"id": "2c7790de-8b02-4814-85cf-e0c59380dee8/x", "extra": [1]}, {"noId": True}, "text", None]
    with GraphSimulator() as sim, client_for(sim) as http:
        sim.serve_raw_pages(RawPages(CONNECTORS, [odd]))
        assert http.get(V1).json() == {"value": odd}
        sim.add_fault(Fault(kind="status", status=429, times=1))
        throttled = http.get(V1)
        assert throttled.status_code == 429 and "retry-after" not in throttled.headers
        assert http.get(V1).status_code == 200


def test_control_endpoint_sets_and_clears_raw_pages() -> None:
    with GraphSimulator(scenario=scenario({"id": LOOKOUT})) as sim, client_for(sim) as http:
        body = {"path": CONNECTORS, "pages": [[{"id": "x"}]]}
        assert http.put("/_sim/raw-pages", content=json.dumps(body)).status_code == 204
        assert http.get(V1).json()["value"] == [{"id": "x"}]
        wrong = {"path": CONNECTORS, "pages": [[]], "links": [3]}
        bad = http.put("/_sim/raw-pages", content=json.dumps(wrong))
        assert bad.status_code == 400 and "every link must name a page" in bad.json()["error"]["message"]
        assert http.delete("/_sim/raw-pages").status_code == 204
        assert [c["id"] for c in http.get(V1).json()["value"]] == [LOOKOUT]
