"""Two days of heartbeat history for the demo scenario, so the status page has charts to draw.

Used by ``make serve`` (at start) and ``make screenshot``. The demo scenario (scenarios/demo.json)
says where each partner stands *now*; this reads it as a story: every partner sent a heartbeat
about every 20 minutes until its last one (``now-8.2d`` for Lookout for Work, ``now-40h`` for
Zimperium, ...), and never one after. The real heartbeat sweep (the heartbeat_monitor timer
function) then runs at past moments, one every ``every`` hours, the app's clock set to each
(shared/clock.py); the simulator is left serving the scenario as written.
"""

from __future__ import annotations

import json
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any
from unittest import mock

from azure.functions.timer import TimerRequest

from graphsim.timestamps import format_graph_datetime, resolve_relative
from scripts.localhost import invoke

SENDS_EVERY = timedelta(minutes=20)  # how often a partner that still reports sends a heartbeat


def _at(connector: dict[str, Any], last: datetime | None, moment: datetime) -> dict[str, Any]:
    """The connector as Graph would have shown it at ``moment``."""
    if last is None:
        return connector  # never a heartbeat, or one Graph sent malformed: the same all along
    return {**connector, "lastHeartbeatDateTime": format_graph_datetime(min(last, moment - SENDS_EVERY))}


def _last_heartbeats(connectors: list[dict[str, Any]], now: datetime) -> list[datetime | None]:
    found: list[datetime | None] = []
    for c in connectors:
        raw = c.get("lastHeartbeatDateTime")
        resolved = resolve_relative(raw, now) if isinstance(raw, str) else None
        found.append(datetime.fromisoformat(resolved) if resolved else None)
    return found


def fill(functions: dict[str, Any], graph: Any, scenario: Path, *, hours: int = 48, every: int = 2) -> int:
    """Run the heartbeat sweep at ``now - hours``, then every ``every`` hours up to now; returns
    how many sweeps ran. ``graph`` is the running GraphSimulator serving ``scenario``."""
    data = json.loads(scenario.read_text(encoding="utf-8"))
    now = datetime.now(UTC)
    last = _last_heartbeats(data["connectors"], now)
    sweep = functions["heartbeat_monitor"].get_user_function()
    moments = [now - timedelta(hours=h) for h in range(hours, -1, -every)]
    try:
        for moment in moments:
            connectors = [_at(c, t, moment) for c, t in zip(data["connectors"], last, strict=True)]
            graph.load_scenario({**data, "connectors": connectors})
            with mock.patch("shared.clock.system_now", return_value=moment):
                invoke(sweep, TimerRequest())
    finally:
        graph.load_scenario(scenario)
    return len(moments)
