"""Debian's Chromium driven by Playwright: the status page's browser test and `make screenshot`.

Playwright's wheel bundles its driver; the browser is the system's (apt package ``chromium``,
installed by ``make chromium``), never a download (``playwright install`` is not used).
"""

from __future__ import annotations

import os
import tempfile
from collections.abc import Iterator
from contextlib import contextmanager
from typing import Any

CHROMIUM = os.environ.get("CHROMIUM", "/usr/bin/chromium")
# Headless and quiet: no GPU, no QUIC, no first-run, sync, component or background network traffic;
# no sandbox (CI runs as root, where Chromium's sandbox refuses to start).
CHROMIUM_ARGS = (
    "--headless",
    "--no-sandbox",
    "--disable-gpu",
    "--disable-quic",
    "--no-first-run",
    "--disable-background-networking",
    "--disable-component-update",
    "--disable-sync",
    "--disable-dev-shm-usage",  # containers give /dev/shm 64 MB, which Chromium can outgrow
)


def chromium_missing() -> str | None:
    """Why Chromium cannot be started (a sentence), None when it can."""
    if os.access(CHROMIUM, os.X_OK):
        return None
    return f"Chromium not found at {CHROMIUM} (make chromium installs Debian's package)"


@contextmanager
def chromium(width: int = 1200, height: int = 900) -> Iterator[Any]:
    """A Playwright browser context on a fresh, temporary Chromium profile.

    The sync API runs an event loop on the calling thread until the context ends: call the
    functions (whose runs use asyncio.run) before entering it, not inside."""
    from playwright.sync_api import sync_playwright

    with sync_playwright() as playwright, tempfile.TemporaryDirectory(prefix="mtd-chromium-") as profile:
        context = playwright.chromium.launch_persistent_context(
            profile,
            executable_path=CHROMIUM,
            args=list(CHROMIUM_ARGS),
            headless=True,
            viewport={"width": width, "height": height},
        )
        try:
            yield context
        finally:
            context.close()
