"""What the Functions host indexes from function_app.py agrees with what the Bicep deploys:
schedules are %SETTING% expressions Bicep sets, only the health probe is anonymous, every route
that changes state needs at least a function key, and Easy Auth lets through exactly the
anonymous routes."""

from __future__ import annotations

import json
import re
from typing import Any

import pytest

from shared import settings as registry
from tests.infra import bicep
from tests.infra.layout import ROOT
from tests.infra.test_settings_sync import bicep_settings

ANONYMOUS_ALLOWED = {"health"}
WRITE_METHODS = {"POST", "PUT", "PATCH", "DELETE"}
KEYED_LEVELS = {"FUNCTION", "ADMIN"}
_APP_SETTING_EXPR = re.compile(r"%([^%]+)%")


@pytest.fixture(scope="module")
def deployed_settings(main_bicep, functionapp_bicep) -> set[str]:
    return set(bicep_settings(main_bicep, functionapp_bicep))


def http_triggers(indexed_functions: dict[str, Any]) -> dict[str, dict[str, Any]]:
    return {
        name: fn.trigger for name, fn in indexed_functions.items() if fn.trigger.get("type") == "httpTrigger"
    }


def test_the_host_finds_functions(indexed_functions):
    assert indexed_functions, "function_app.py registers no functions"
    assert "health" in indexed_functions


def test_timer_schedules_are_app_settings_bicep_sets(indexed_functions, deployed_settings):
    registered = {spec.name for spec in registry.SETTINGS}
    problems = []
    for name, fn in indexed_functions.items():
        trigger = fn.trigger
        if trigger.get("type") != "timerTrigger":
            continue
        schedule = str(trigger.get("schedule", ""))
        match = re.fullmatch(r"%([A-Za-z0-9_]+)%", schedule)
        if not match:
            problems.append(f"{name}: schedule {schedule!r} is not a %SETTING% expression")
            continue
        setting = match[1]
        if setting not in registered:
            problems.append(f"{name}: schedule setting {setting} is not in shared/settings.py")
        if setting not in deployed_settings:
            problems.append(f"{name}: schedule setting {setting} is not set by infra/main.bicep")
        if trigger.get("runOnStartup"):
            problems.append(f"{name}: runOnStartup would run a sweep on every cold start")
    assert not problems, "\n".join(problems)


def test_every_binding_setting_reference_is_deployed(indexed_functions, deployed_settings):
    problems = []
    for name, fn in indexed_functions.items():
        for binding in fn.bindings:
            for key, value in binding.items():
                for setting in _APP_SETTING_EXPR.findall(str(value)):
                    if setting not in deployed_settings:
                        problems.append(f"{name}.{binding['name']}.{key} reads %{setting}%")
            connection = binding.get("connection")
            if connection and not any(
                s == connection or s.startswith(f"{connection}__") for s in deployed_settings
            ):
                problems.append(f"{name}.{binding['name']}: connection {connection} is not set")
    assert not problems, "settings Bicep does not set:\n" + "\n".join(problems)


def test_only_the_health_probe_is_anonymous(indexed_functions):
    anonymous = {
        name
        for name, trigger in http_triggers(indexed_functions).items()
        if str(trigger.get("authLevel", "")).upper() == "ANONYMOUS"
    }
    assert anonymous <= ANONYMOUS_ALLOWED, f"anonymous routes: {sorted(anonymous - ANONYMOUS_ALLOWED)}"


def test_state_changing_routes_need_a_key(indexed_functions):
    problems = []
    for name, trigger in http_triggers(indexed_functions).items():
        methods = {str(m).upper() for m in trigger.get("methods") or []}
        writes = methods & WRITE_METHODS if methods else WRITE_METHODS  # none listed: all methods
        level = str(trigger.get("authLevel", "")).upper()
        if writes and level not in KEYED_LEVELS:
            problems.append(f"{name} ({sorted(writes)} /{trigger.get('route')}) is {level or 'unset'}")
    assert not problems, "routes that change state without a function key:\n" + "\n".join(problems)


def test_easy_auth_lets_through_exactly_the_anonymous_routes(indexed_functions, main_bicep):
    host = json.loads((ROOT / "host.json").read_text(encoding="utf-8"))
    prefix = host.get("extensions", {}).get("http", {}).get("routePrefix", "api")
    anonymous = sorted(
        "/" + "/".join(part for part in (prefix, str(trigger.get("route") or name)) if part)
        for name, trigger in http_triggers(indexed_functions).items()
        if str(trigger.get("authLevel", "")).upper() == "ANONYMOUS"
    )
    default = main_bicep.params["authExcludedPaths"].default
    assert isinstance(default, list)
    excluded = sorted(v.value for v in default if isinstance(v, bicep.Str))
    assert excluded == anonymous, (
        f"authExcludedPaths defaults to {excluded}, the anonymous routes are {anonymous}"
    )
