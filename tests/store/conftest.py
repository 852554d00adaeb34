"""The store of the store tests: real Azurite, reached by connection string."""

from __future__ import annotations

from typing import Any

import pytest

from scripts.azurite import Azurite
from shared.store.state import StateStore


@pytest.fixture(scope="module")
def store(azurite: Azurite) -> StateStore:
    return StateStore.connect(connection_string=azurite.connection_string, endpoint=None, credential=no_token)


def no_token() -> Any:
    raise AssertionError("a connection string needs no token credential")
