"""Fixtures of the alert-channel tests: the fake Teams, ServiceNow and Jira receivers, each a real
local HTTP server that checks requests the way the real API does (tests/support/fakeapi.py), and
settings that start with every channel off."""

from __future__ import annotations

from collections.abc import Callable, Iterator
from typing import Any

import pytest

from tests.support.alerting import CHANNEL_SETTINGS_OFF
from tests.support.fakeapi import FakeJira, FakeServiceNow, FakeTeamsWorkflow


@pytest.fixture
def channels(env: Callable[..., None]) -> Callable[..., None]:
    """Like ``env``, with every alert channel off unless named."""

    def apply(**overrides: Any) -> None:
        env(**{**CHANNEL_SETTINGS_OFF, **overrides})

    apply()
    return apply


@pytest.fixture
def teams() -> Iterator[FakeTeamsWorkflow]:
    fake = FakeTeamsWorkflow().start()
    yield fake
    fake.stop()


@pytest.fixture
def servicenow() -> Iterator[FakeServiceNow]:
    fake = FakeServiceNow().start()
    yield fake
    fake.stop()


@pytest.fixture
def jira() -> Iterator[FakeJira]:
    fake = FakeJira().start()
    yield fake
    fake.stop()
