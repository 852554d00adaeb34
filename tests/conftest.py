"""Test harness: real Azurite, the real Graph simulator, functions called as the host calls them.

Each test gets its own tenant id, so tests share one Azurite (started once per session) without
seeing each other's rows, and its own simulator and settings.
"""

from __future__ import annotations

import asyncio
import json
import uuid
from collections.abc import Callable, Iterator
from typing import Any

import azure.functions as func
import pytest
from azure.functions.timer import TimerRequest

from graphsim import GraphSimulator
from scripts.azurite import Azurite
from shared import context
from tests.support.receiver import Receiver

LOOKOUT = "2c7790de-8b02-4814-85cf-e0c59380dee8"
DEFENDER = "fc780465-2017-40d4-a0c5-307022471b92"
ZIMPERIUM = "08a8455c-48dd-45ff-ad82-7211355354f3"


@pytest.fixture(scope="session")
def azurite() -> Iterator[Azurite]:
    with Azurite() as az:
        yield az


@pytest.fixture(scope="session")
def functions() -> dict[str, Any]:
    # app.get_functions() may only be called once per app object: cache it for the session.
    from function_app import app

    return {str(f.get_function_name()): f for f in app.get_functions()}


@pytest.fixture
def tenant_id() -> str:
    return str(uuid.uuid4())


@pytest.fixture
def graph(tenant_id: str) -> Iterator[GraphSimulator]:
    with GraphSimulator(scenario={"tenantId": tenant_id, "connectors": []}) as sim:
        yield sim


@pytest.fixture
def receiver() -> Iterator[Receiver]:
    r = Receiver().start()
    yield r
    r.stop()


@pytest.fixture
def env(
    monkeypatch: pytest.MonkeyPatch, azurite: Azurite, graph: GraphSimulator, tenant_id: str
) -> Iterator[Callable[..., None]]:
    """App settings for a test run; call it again with overrides (e.g. ALERT_WEBHOOK_URL=...)."""

    def apply(**overrides: str | None) -> None:
        values: dict[str, str | None] = {
            "TENANT_ID": tenant_id,
            "GRAPH_ENDPOINT": graph.base_url,
            "AzureWebJobsStorage": azurite.connection_string,
            "HEARTBEAT_SCHEDULE": "0 */30 * * * *",
            "ALERT_WEBHOOK_URL": None,
            "ALERT_WEBHOOK_SECRET": None,
            **overrides,
        }
        for name, value in values.items():
            if value is None:
                monkeypatch.delenv(name, raising=False)
            else:
                monkeypatch.setenv(name, value)
        context.reset()

    apply()
    yield apply
    context.reset()


class Host:
    """Calls functions the way the Functions host does: by name, with host-shaped requests."""

    def __init__(self, functions: dict[str, Any]) -> None:
        self._functions = functions

    def _call(self, name: str, *args: Any) -> Any:
        user_function = self._functions[name].get_user_function()
        result = user_function(*args)
        if asyncio.iscoroutine(result):
            result = asyncio.run(result)
        return result

    def http(
        self,
        name: str,
        method: str,
        path: str,
        *,
        route_params: dict[str, str] | None = None,
        params: dict[str, str] | None = None,
        body: bytes | dict[str, Any] | None = None,
        headers: dict[str, str] | None = None,
    ) -> func.HttpResponse:
        raw = json.dumps(body).encode() if isinstance(body, dict) else (body or b"")
        req = func.HttpRequest(
            method,
            f"http://localhost{path}",
            headers=headers or {},
            params=params or {},
            route_params=route_params or {},
            body=raw,
        )
        response: func.HttpResponse = self._call(name, req)
        return response

    def timer(self, name: str, past_due: bool = False) -> None:
        self._call(name, TimerRequest(past_due=past_due))


@pytest.fixture
def host(functions: dict[str, Any], env: Callable[..., None]) -> Host:
    return Host(functions)


def body(response: func.HttpResponse) -> Any:
    return json.loads(response.get_body())
