"""The simulator's switches for what is unconfirmed about Graph's connector writes: a PATCH that
merges or replaces, and values the service keeps whatever it is sent; and Intune's audit log."""

from __future__ import annotations

import pytest

from graphsim import GraphSimulator

from .conftest import V1, client_for

ON = {"id": "c1", "androidEnabled": True, "iosEnabled": True, "partnerUnresponsivenessThresholdInDays": 9}


def test_merge_keeps_what_a_patch_does_not_send_and_replace_resets_those_booleans() -> None:
    with GraphSimulator(scenario={"connectors": [ON]}) as sim, client_for(sim) as http:
        assert http.patch(f"{V1}/c1", json={"windowsEnabled": True}).status_code == 204
        merged = sim.connector("c1")
        assert merged is not None and merged["iosEnabled"] is True and merged["windowsEnabled"] is True
        sim.patch_mode = "replace"
        assert http.patch(f"{V1}/c1", json={"androidEnabled": True}).status_code == 204
        replaced = sim.connector("c1")
        assert replaced is not None
        assert replaced["androidEnabled"] is True
        assert replaced["iosEnabled"] is False and replaced["windowsEnabled"] is False  # unsent: reset
        assert replaced["partnerUnresponsivenessThresholdInDays"] == 9  # not a boolean: kept
        assert "macEnabled" not in replaced or replaced["macEnabled"] is False


def test_a_kept_value_survives_post_and_patch() -> None:
    with GraphSimulator(scenario={"connectors": [ON]}) as sim, client_for(sim) as http:
        sim.server_keeps = {"iosEnabled": True}
        assert http.patch(f"{V1}/c1", json={"iosEnabled": False, "androidEnabled": False}).status_code == 204
        held = sim.connector("c1")
        assert held is not None and held["iosEnabled"] is True and held["androidEnabled"] is False
        created = http.post(V1, json={"id": "c2", "iosEnabled": False})
        assert created.status_code == 201 and created.json()["iosEnabled"] is True


def test_an_unknown_patch_mode_is_refused() -> None:
    with GraphSimulator() as sim, pytest.raises(ValueError, match="patch_mode"):
        sim.patch_mode = "append"


def test_intune_audit_events_are_served_newest_first_and_filtered_by_time() -> None:
    events = [
        {"id": "e1", "activity": "Patch MobileThreatDefenseConnector", "activityDateTime": "now-3h"},
        {"id": "e2", "activity": "Patch MobileThreatDefenseConnector", "activityDateTime": "now-1h"},
    ]
    with GraphSimulator(scenario={"intuneAuditEvents": events}) as sim, client_for(sim) as http:
        url = V1.replace("mobileThreatDefenseConnectors", "auditEvents")
        listed = http.get(url).json()["value"]
        assert [e["id"] for e in listed] == ["e2", "e1"]
        assert listed[0]["resources"] == [] and listed[0]["actor"] is None
        since = listed[0]["activityDateTime"]
        recent = http.get(url, params={"$filter": f"activityDateTime ge {since}"}).json()["value"]
        assert [e["id"] for e in recent] == ["e2"]


def test_the_switches_are_scenario_keys_over_http_and_cli_flags() -> None:
    with GraphSimulator() as sim, client_for(sim) as http:
        loaded = http.put(
            "/_sim/scenario",
            json={"connectors": [ON], "patchMode": "replace", "serverKeeps": {"androidEnabled": True}},
        )
        assert loaded.status_code == 204, loaded.text
        assert http.patch(f"{V1}/c1", json={"androidEnabled": False}).status_code == 204
        held = sim.connector("c1")
        assert held is not None and held["androidEnabled"] is True  # kept by the "service"
        assert held["iosEnabled"] is False  # unsent boolean reset: replace
        refused = http.put("/_sim/scenario", json={"patchMode": "upsert"})
        assert refused.status_code == 400 and "patchMode" in refused.text
        bad_keeps = http.put("/_sim/scenario", json={"serverKeeps": ["androidEnabled"]})
        assert bad_keeps.status_code == 400 and "serverKeeps" in bad_keeps.text
        http.put("/_sim/scenario", json={"connectors": [ON]})  # a scenario without them: the defaults
        assert sim.patch_mode == "merge" and sim.server_keeps == {}
