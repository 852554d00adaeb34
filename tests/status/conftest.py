"""The status tests' marker: ``browser`` tests drive Chromium (``make browser``, part of ``make test``)."""

from __future__ import annotations

import pytest


def pytest_configure(config: pytest.Config) -> None:
    config.addinivalue_line(
        "markers", "browser: drives Debian's Chromium through Playwright (make browser; part of make test)"
    )
