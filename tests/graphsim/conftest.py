"""Shared fixtures: a running simulator per test and an httpx client bound to it."""

from __future__ import annotations

import ssl
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import httpx
import pytest

from graphsim import GraphSimulator

REPO = Path(__file__).resolve().parents[2]
DEMO_SCENARIO = REPO / "scenarios" / "demo.json"
CONNECTORS = "/deviceManagement/mobileThreatDefenseConnectors"
V1 = "/v1.0" + CONNECTORS
BETA = "/beta" + CONNECTORS

LOOKOUT = "2c7790de-8b02-4814-85cf-e0c59380dee8"
ZIMPERIUM = "08a8455c-48dd-45ff-ad82-7211355354f3"


# Building an SSL context loads the CA bundle (~25 ms); a client per test would spend
# seconds on it in total although every request here is plain http to 127.0.0.1.
_SHARED_TLS = ssl.create_default_context()


def client_for(sim: GraphSimulator) -> httpx.Client:
    """An httpx client bound to ``sim`` (relative URLs such as ``V1`` work)."""
    return httpx.Client(base_url=sim.base_url, timeout=5, verify=_SHARED_TLS)


def scenario(*connectors: dict[str, Any], **extra: Any) -> dict[str, Any]:
    """A scenario mapping from connector dicts (tests build exactly what they assert on)."""
    return {"connectors": list(connectors), **extra}


@pytest.fixture
def sim() -> Iterator[GraphSimulator]:
    with GraphSimulator(scenario=DEMO_SCENARIO) as running:
        yield running


@pytest.fixture
def http(sim: GraphSimulator) -> Iterator[httpx.Client]:
    with client_for(sim) as client:
        yield client
