"""Scenario loading: relative heartbeats, validation messages, reload semantics."""

from __future__ import annotations

import json
from datetime import UTC, datetime, timedelta
from pathlib import Path

import httpx
import pytest

from graphsim import Fault, GraphSimulator, ScenarioError
from graphsim.scenario import load_scenario
from graphsim.timestamps import format_graph_datetime, resolve_relative

from .conftest import DEMO_SCENARIO, V1

NOW = datetime(2026, 11, 15, 12, 0, 0, 123456, tzinfo=UTC)


@pytest.mark.parametrize(
    ("expression", "expected"),
    [
        ("now", NOW),
        ("now-45s", NOW - timedelta(seconds=45)),
        ("now-30m", NOW - timedelta(minutes=30)),
        ("now-2h", NOW - timedelta(hours=2)),
        ("now-8.2d", NOW - timedelta(days=8.2)),
        ("now+3h", NOW + timedelta(hours=3)),
    ],
)
def test_relative_times_resolve_to_graph_timestamps(expression: str, expected: datetime) -> None:
    resolved = resolve_relative(expression, NOW)
    assert resolved == format_graph_datetime(expected)
    assert resolved is not None
    assert resolved.endswith("0Z")
    assert datetime.fromisoformat(resolved) == expected


@pytest.mark.parametrize("raw", ["not-a-date", "now-3w", "now-", "yesterday", "2026-11-15T12:00:00Z"])
def test_other_strings_are_not_relative(raw: str) -> None:
    assert resolve_relative(raw, NOW) is None


def test_graph_timestamp_shape() -> None:
    assert format_graph_datetime(NOW) == "2026-11-15T12:00:00.1234560Z"


def test_scenario_resolves_datetimes_and_keeps_raw_values() -> None:
    loaded = load_scenario(
        {
            "connectors": [
                {"id": "a", "lastHeartbeatDateTime": "now-8.2d"},
                {"id": "b", "lastHeartbeatDateTime": "not-a-date", "partnerState": "now-1h"},
                {"id": "c", "lastHeartbeatDateTime": None, "_note": "comment, dropped"},
            ]
        },
        now=NOW,
    )
    a, b, c = next(iter(loaded.entities.values()))
    assert a["lastHeartbeatDateTime"] == format_graph_datetime(NOW - timedelta(days=8.2))
    assert b["lastHeartbeatDateTime"] == "not-a-date"
    assert b["partnerState"] == "now-1h"  # only DateTimeOffset properties are resolved
    assert c["lastHeartbeatDateTime"] is None
    assert "_note" not in c


def test_simulator_serves_heartbeats_relative_to_load_time() -> None:
    before = datetime.now(UTC)
    with GraphSimulator(scenario={"connectors": [{"id": "a", "lastHeartbeatDateTime": "now-20m"}]}) as sim:
        after = datetime.now(UTC)
        served = httpx.get(f"{sim.base_url}{V1}/a").json()["lastHeartbeatDateTime"]
    moment = datetime.fromisoformat(served)
    assert before - timedelta(minutes=20) <= moment <= after - timedelta(minutes=20)


def test_demo_scenario_loads() -> None:
    loaded = load_scenario(DEMO_SCENARIO)
    connectors = loaded.entities["/deviceManagement/mobileThreatDefenseConnectors"]
    assert len(connectors) == 7
    assert loaded.page_size == 3
    assert loaded.tenant_id == "00000000-0000-0000-0000-0000000000aa"


@pytest.mark.parametrize(
    ("data", "fragment"),
    [
        ({"connectors": [{"id": "a", "iosEnabeld": True}]}, "connectors[0]: unknown key 'iosEnabeld'"),
        ({"connectors": [{"partnerState": "enabled"}]}, "connectors[0] needs a non-empty string 'id'"),
        ({"connectors": [{"id": "a"}, {"id": "A"}]}, "connectors[1]: duplicate id 'A'"),
        ({"connectors": {"id": "a"}}, "connectors must be a JSON array"),
        ({"pageSize": 0}, "pageSize"),
        ({"tenantid": "x"}, "unknown key 'tenantid'"),
        ({"faults": [{"kind": "drop", "times": 0}]}, "faults[0]: times"),
    ],
)
def test_invalid_scenarios_say_where(data: dict[str, object], fragment: str) -> None:
    with pytest.raises(ScenarioError) as caught:
        load_scenario(data)
    assert fragment in str(caught.value)


def test_file_errors_name_the_file(tmp_path: Path) -> None:
    broken = tmp_path / "broken.json"
    broken.write_text('{"connectors": [', encoding="utf-8")
    with pytest.raises(ScenarioError, match=r"broken\.json is not valid JSON: .* line 1"):
        load_scenario(broken)
    with pytest.raises(ScenarioError, match=r"cannot read scenario .*missing\.json"):
        load_scenario(tmp_path / "missing.json")
    typo = tmp_path / "typo.json"
    typo.write_text(json.dumps({"connectors": [{"id": "a", "iOSEnabled": True}]}), encoding="utf-8")
    with pytest.raises(ScenarioError, match=r"typo\.json: connectors\[0\]: unknown key 'iOSEnabled'"):
        load_scenario(typo)


def test_bad_scenario_fails_at_construction() -> None:
    with pytest.raises(ScenarioError):
        GraphSimulator(scenario={"connectors": [{"id": 5}]})


def test_load_scenario_replaces_state_and_faults_but_keeps_the_log(
    sim: GraphSimulator, http: httpx.Client
) -> None:
    sim.add_fault(Fault(kind="status", status=500, times=1, path="/nowhere"))
    http.get(V1)
    sim.load_scenario(
        {
            "pageSize": 1,
            "connectors": [{"id": "x"}, {"id": "y"}],
            "faults": [{"kind": "status", "status": 503, "times": 1}],
        }
    )
    assert [c["id"] for c in sim.connectors()] == ["x", "y"]
    assert sim.page_size == 1
    assert http.get(V1).status_code == 503  # the scenario's fault, not the old one
    body = http.get(V1).json()
    assert [c["id"] for c in body["value"]] == ["x"]
    assert len(sim.requests) == 3


def test_put_connector_changes_one_connector(sim: GraphSimulator, http: httpx.Client) -> None:
    sim.put_connector({"id": "new", "partnerState": "enabled", "lastHeartbeatDateTime": "now"})
    got = http.get(f"{V1}/new").json()
    assert got["partnerState"] == "enabled"
    assert got["lastHeartbeatDateTime"].endswith("Z")
    assert len(sim.connectors()) == 8
