"""``/_sim/...`` control endpoints: drive a simulator running in another process.

Same semantics as the Python API (see ``GraphSimulator``). These requests are not Graph
traffic, so they are neither recorded nor subject to faults.

    GET    /_sim/requests   -> 200 {"value": [recorded request, ...]}
    DELETE /_sim/requests   -> 204
    POST   /_sim/faults     -> 201 the fault as stored      (body: one fault JSON)
    DELETE /_sim/faults     -> 204
    PUT    /_sim/scenario   -> 204                          (body: scenario JSON)
    PUT    /_sim/raw-pages  -> 204                          (body: raw pages JSON, raw_pages.py)
    DELETE /_sim/raw-pages  -> 204
"""

from __future__ import annotations

import json
from collections.abc import Callable
from typing import Any, Protocol

from graphsim.faults import Fault, FaultError
from graphsim.odata import PLAIN_JSON, GraphError, Reply, json_reply
from graphsim.raw_pages import RawPages
from graphsim.recording import RecordedRequest
from graphsim.scenario import ScenarioError

CONTROL_PREFIX = "/_sim"


class Controllable(Protocol):
    """What the control endpoints need from a simulator."""

    @property
    def requests(self) -> list[RecordedRequest]: ...
    def clear_requests(self) -> None: ...
    def add_fault(self, fault: Fault) -> None: ...
    def clear_faults(self) -> None: ...
    def load_scenario(self, scenario: dict[str, Any]) -> None: ...
    def serve_raw_pages(self, pages: RawPages) -> None: ...
    def clear_raw_pages(self) -> None: ...


def is_control_path(path: str) -> bool:
    return path == CONTROL_PREFIX or path.startswith(CONTROL_PREFIX + "/")


def handle_control(sim: Controllable, method: str, path: str, body: bytes) -> Reply:
    """Run one control request; raises ``GraphError`` for the OData-style error reply."""
    routes = {
        ("GET", "/_sim/requests"): lambda: json_reply(
            200, {"value": [r.to_json() for r in sim.requests]}, PLAIN_JSON
        ),
        ("DELETE", "/_sim/requests"): lambda: _done(sim.clear_requests),
        ("POST", "/_sim/faults"): lambda: _add_fault(sim, body),
        ("DELETE", "/_sim/faults"): lambda: _done(sim.clear_faults),
        ("PUT", "/_sim/scenario"): lambda: _load(sim, body),
        ("PUT", "/_sim/raw-pages"): lambda: _raw_pages(sim, body),
        ("DELETE", "/_sim/raw-pages"): lambda: _done(sim.clear_raw_pages),
    }
    action = routes.get((method, path.rstrip("/")))
    if action is not None:
        return action()
    allowed = sorted(m for m, p in routes if p == path.rstrip("/"))
    if allowed:
        raise GraphError(
            405,
            f"The HTTP method '{method}' is not allowed on {path}.",
            headers={"Allow": ", ".join(allowed)},
        )
    raise GraphError(404, f"Unknown control endpoint {path}.")


def _done(action: Callable[[], None]) -> Reply:
    action()
    return Reply(204, content_type=None)


def _json_body(body: bytes) -> Any:
    try:
        return json.loads(body)
    except (UnicodeDecodeError, json.JSONDecodeError) as exc:
        raise GraphError(400, f"The body is not valid JSON: {exc}") from exc


def _add_fault(sim: Controllable, body: bytes) -> Reply:
    try:
        fault = Fault.from_json(_json_body(body))
    except FaultError as exc:
        raise GraphError(400, f"Invalid fault: {exc}") from exc
    sim.add_fault(fault)
    return json_reply(201, fault.to_json(), PLAIN_JSON)


def _load(sim: Controllable, body: bytes) -> Reply:
    data = _json_body(body)
    if not isinstance(data, dict):
        raise GraphError(400, "Invalid scenario: the scenario must be a JSON object")
    try:
        sim.load_scenario(data)
    except ScenarioError as exc:
        raise GraphError(400, f"Invalid scenario: {exc}") from exc
    return Reply(204, content_type=None)


def _raw_pages(sim: Controllable, body: bytes) -> Reply:
    try:
        pages = RawPages.from_json(_json_body(body))
    except ValueError as exc:
        raise GraphError(400, f"Invalid raw pages: {exc}") from exc
    sim.serve_raw_pages(pages)
    return Reply(204, content_type=None)
