"""Scenario files: the tenant a simulator starts with.

Format (JSON; keys starting with ``_`` are comments and ignored everywhere)::

    {
      "description": "optional free text",
      "tenantId": "00000000-0000-0000-0000-0000000000aa",   # optional, informational
      "pageSize": 2,                                      # optional server page size
      "patchMode": "replace",                             # optional: "merge" (default) or "replace"
      "serverKeeps": {"iosEnabled": true},                # optional: values kept whatever is sent
      "connectors": [                                     # MTD connectors
        {"id": "2c7790de-8b02-4814-85cf-e0c59380dee8",    # required, unique
         "partnerState": "enabled",
         "lastHeartbeatDateTime": "now-8.2d",
         "partnerUnresponsivenessThresholdInDays": 7,
         "iosEnabled": true}
      ],
      "faults": []                                        # see graphsim.faults
    }

Connector keys must be property names of v1.0 or beta (a typo is an error, not a silently
ignored field); omitted properties take Graph's defaults (false, threshold 7, heartbeat
null, partnerState notSetUp). Values are NOT validated: malformed data (``"not-a-date"``,
``"bogusState"``, a null or 0 threshold) is served exactly as written so consumers' error
handling can be tested. The one transformation: a ``DateTimeOffset`` value written as
``now``, ``now-30m``, ``now-2h``, ``now-8.2d`` or ``now+3h`` (units s/m/h/d) is resolved
at load time to a Graph timestamp (UTC, 7 fractional digits, ``Z``).
"""

from __future__ import annotations

import json
import os
from collections.abc import Mapping
from dataclasses import dataclass, field
from datetime import datetime
from pathlib import Path
from typing import Any

from graphsim.faults import Fault, FaultError
from graphsim.registry import BY_SCENARIO_KEY
from graphsim.resources import DATETIME, ResourceType
from graphsim.timestamps import resolve_relative, utc_now

ScenarioSource = Mapping[str, Any] | str | os.PathLike[str] | None

_TOP_LEVEL_KEYS = {
    "description",
    "tenantId",
    "pageSize",
    "patchMode",
    "serverKeeps",
    "faults",
    *BY_SCENARIO_KEY,
}
PATCH_MODES = ("merge", "replace")  # graphsim.routes.PATCH_MERGE, PATCH_REPLACE


class ScenarioError(ValueError):
    """A scenario that cannot be loaded; the message says where and why, in one line."""


@dataclass(frozen=True)
class Scenario:
    """A validated scenario, relative times already resolved."""

    tenant_id: str | None = None
    page_size: int | None = None
    # collection path -> stored entities (every property of every version present)
    entities: dict[str, list[dict[str, Any]]] = field(default_factory=dict)
    faults: list[Fault] = field(default_factory=list)
    patch_mode: str | None = None  # None: the simulator's default ("merge") or the CLI's choice
    server_keeps: dict[str, Any] = field(default_factory=dict)


def load_scenario(source: ScenarioSource, now: datetime | None = None) -> Scenario:
    """Load from a mapping, a JSON file path, or None (an empty tenant)."""
    if source is None:
        return parse_scenario({}, now)
    if isinstance(source, Mapping):
        return parse_scenario(source, now)
    path = Path(source)
    try:
        text = path.read_text(encoding="utf-8")
    except OSError as exc:
        raise ScenarioError(f"cannot read scenario {path}: {exc.strerror or exc}") from exc
    try:
        data = json.loads(text)
    except json.JSONDecodeError as exc:
        raise ScenarioError(
            f"scenario {path} is not valid JSON: {exc.msg} at line {exc.lineno} column {exc.colno}"
        ) from exc
    try:
        return parse_scenario(data, now)
    except ScenarioError as exc:
        raise ScenarioError(f"scenario {path}: {exc}") from exc


def parse_scenario(data: Any, now: datetime | None = None) -> Scenario:
    """Validate already-parsed scenario JSON."""
    if not isinstance(data, Mapping):
        raise ScenarioError("the scenario must be a JSON object")
    _reject_unknown_keys(data, _TOP_LEVEL_KEYS, "scenario")
    tenant_id = data.get("tenantId")
    if tenant_id is not None and not isinstance(tenant_id, str):
        raise ScenarioError(f"tenantId must be a string, not {tenant_id!r}")
    page_size = data.get("pageSize")
    if page_size is not None and (
        isinstance(page_size, bool) or not isinstance(page_size, int) or page_size < 1
    ):
        raise ScenarioError(f"pageSize must be an integer >= 1, not {page_size!r}")

    patch_mode = data.get("patchMode")
    if patch_mode is not None and patch_mode not in PATCH_MODES:
        raise ScenarioError(f"patchMode must be 'merge' or 'replace', not {patch_mode!r}")
    server_keeps = data.get("serverKeeps", {})
    if not isinstance(server_keeps, Mapping):
        raise ScenarioError(f"serverKeeps must be an object of property -> value, not {server_keeps!r}")

    moment = now or utc_now()
    entities: dict[str, list[dict[str, Any]]] = {}
    for key, resource_type in BY_SCENARIO_KEY.items():
        items = _list_of(data, key)
        entities[resource_type.collection_path] = _prepare_collection(resource_type, items, key, moment)

    faults = []
    for index, raw in enumerate(_list_of(data, "faults")):
        try:
            faults.append(Fault.from_json(raw))
        except FaultError as exc:
            raise ScenarioError(f"faults[{index}]: {exc}") from exc
    return Scenario(
        tenant_id=tenant_id,
        page_size=page_size,
        entities=entities,
        faults=faults,
        patch_mode=patch_mode,
        server_keeps=dict(server_keeps),
    )


def prepare_entity(
    resource_type: ResourceType, raw: Any, now: datetime | None = None, where: str = "entity"
) -> dict[str, Any]:
    """One scenario entity as stored: names checked, relative times resolved, defaults added."""
    if not isinstance(raw, Mapping):
        raise ScenarioError(f"{where} must be a JSON object")
    _reject_unknown_keys(raw, resource_type.scenario_names(), where)
    derived = str(raw.get("@odata.type") or "").lstrip("#").removeprefix("microsoft.graph.")
    if resource_type.subtypes and derived not in resource_type.subtypes:
        known = ", ".join(sorted(resource_type.subtypes))
        raise ScenarioError(f"{where} needs '@odata.type', one of: {known}")
    entity_id = raw.get("id")
    if not isinstance(entity_id, str) or not entity_id:
        raise ScenarioError(f"{where} needs a non-empty string 'id'")
    moment = now or utc_now()
    values = {name: value for name, value in raw.items() if not name.startswith("_")}
    for name, value in values.items():
        prop = resource_type.find_property(name)
        if prop is not None and prop.edm_type == DATETIME and isinstance(value, str):
            values[name] = resolve_relative(value, moment) or value
    return resource_type.with_defaults(values)


def _prepare_collection(
    resource_type: ResourceType, items: list[Any], key: str, now: datetime
) -> list[dict[str, Any]]:
    prepared: list[dict[str, Any]] = []
    seen: set[str] = set()
    for index, raw in enumerate(items):
        entity = prepare_entity(resource_type, raw, now, f"{key}[{index}]")
        entity_id = str(entity["id"]).lower()
        if entity_id in seen:
            raise ScenarioError(f"{key}[{index}]: duplicate id {entity['id']!r}")
        seen.add(entity_id)
        prepared.append(entity)
    return prepared


def _list_of(data: Mapping[str, Any], key: str) -> list[Any]:
    value = data.get(key)
    if value is None:
        return []
    if not isinstance(value, list):
        raise ScenarioError(f"{key} must be a JSON array")
    return value


def _reject_unknown_keys(data: Mapping[str, Any], known: set[str], where: str) -> None:
    for name in data:
        if name not in known and not str(name).startswith("_"):
            raise ScenarioError(f"{where}: unknown key {name!r}")
