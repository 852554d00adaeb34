"""Fixtures for the deployment checks: the parsed Bicep files and the function metadata the
Functions host would index from function_app.py."""

from __future__ import annotations

import importlib.util
import json
import os
import sys
from collections.abc import Iterator
from dataclasses import dataclass
from typing import Any

import pytest

from tests.infra import bicep
from tests.infra.layout import INFRA, ROOT


@pytest.fixture(scope="session")
def main_bicep() -> bicep.BicepFile:
    return bicep.read(INFRA / "main.bicep")


@pytest.fixture(scope="session")
def functionapp_bicep() -> bicep.BicepFile:
    return bicep.read(INFRA / "modules" / "functionapp.bicep")


@pytest.fixture(scope="session")
def graph_bicep() -> bicep.BicepFile:
    return bicep.read(INFRA / "modules" / "graph-permissions.bicep")


@dataclass(frozen=True)
class IndexedFunction:
    name: str
    bindings: list[dict[str, Any]]

    @property
    def trigger(self) -> dict[str, Any]:
        triggers = [b for b in self.bindings if str(b.get("type", "")).endswith("Trigger")]
        assert len(triggers) == 1, f"{self.name}: expected one trigger binding, got {triggers}"
        return triggers[0]


@pytest.fixture(scope="session")
def indexed_functions() -> Iterator[dict[str, IndexedFunction]]:
    """What the host indexes: function_app.py loaded as a private module, so this fixture owns
    its FunctionApp object (get_functions() works once per app object) and never collides with
    other tests that import function_app."""
    path = ROOT / "function_app.py"
    if not path.exists():
        pytest.fail("function_app.py does not exist yet: the host would index no functions")
    # Import-time code may validate settings; give it the minimum a local run has.
    saved = dict(os.environ)
    os.environ.setdefault("TENANT_ID", "contoso.onmicrosoft.com")
    os.environ.setdefault("AzureWebJobsStorage", "UseDevelopmentStorage=true")
    try:
        spec = importlib.util.spec_from_file_location("_function_app_as_indexed", path)
        assert spec and spec.loader
        module = importlib.util.module_from_spec(spec)
        sys.path.insert(0, str(ROOT))
        try:
            spec.loader.exec_module(module)
        finally:
            sys.path.remove(str(ROOT))
        functions = module.app.get_functions()
    finally:
        os.environ.clear()
        os.environ.update(saved)
    yield {
        f.get_function_name(): IndexedFunction(
            f.get_function_name(), json.loads(f.get_function_json())["bindings"]
        )
        for f in functions
    }
