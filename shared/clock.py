"""The app's one clock: every "now" MTD Guard uses comes from here.

One place so that tests can stand in for time once (``mocker.patch("shared.clock.system_now",
return_value=...)``) and every module sees it, including those that imported ``now_utc`` by name.
Entry points still take an optional ``now`` argument: the rules never read the clock themselves.
"""

from __future__ import annotations

from datetime import UTC, datetime


def system_now() -> datetime:
    """What the system clock says: timezone-aware, UTC, microsecond resolution."""
    return datetime.now(UTC)


def now_utc() -> datetime:
    """Now, as the app sees it: timezone-aware, UTC. Looks ``system_now`` up on each call, which
    is what makes one patch of it stand in for the clock everywhere."""
    return system_now()
