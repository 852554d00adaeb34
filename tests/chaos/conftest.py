"""The fault tests' shared figures (tests/chaos/figures.py), written once the session ends, and
the alert-channel stand-ins they borrow from tests/alerting."""

from __future__ import annotations

from collections.abc import Iterator

import pytest

from tests.alerting.conftest import teams
from tests.chaos.figures import Figures

__all__ = ["figures", "teams"]


@pytest.fixture(scope="session")
def figures() -> Iterator[Figures]:
    collected = Figures()
    yield collected
    collected.write()
