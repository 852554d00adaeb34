"""A known scenario for the status page: eight sweeps, eight hours apart, of three connectors.

* Lookout for Work: threshold 2 days (48 h), its last heartbeat fixed at ``HEARTBEAT``, so the eight
  sweeps see ages 1, 9, 17, ..., 57 hours; it ends unresponsive.
* Microsoft Defender for Endpoint: threshold 7 days, a heartbeat 30 minutes before every sweep.
* Zimperium: not set up (partner state ``available``), never a heartbeat: no age to draw.

The figures a test expects are written here from the scenario, not computed by the page's code.
"""

from __future__ import annotations

from datetime import UTC, datetime, timedelta

from pytest_mock import MockerFixture

from graphsim import GraphSimulator
from tests.conftest import DEFENDER, LOOKOUT, ZIMPERIUM, Host
from tests.support.scenarios import connector, load

HEARTBEAT = datetime(2026, 11, 20, 0, 0, tzinfo=UTC)
SWEEPS = [HEARTBEAT + timedelta(hours=1 + 8 * k) for k in range(8)]
NOW = SWEEPS[-1] + timedelta(minutes=5)  # when the page is asked for
LOOKOUT_AGES = [1, 9, 17, 25, 33, 41, 49, 57]  # hours, as each sweep judges it
# A sweep stores an observation only when something changed. Lookout's heartbeat never moves, so
# only its changes of health are stored: healthy (1 h), warning (25 h: past the 24 h warning
# point) and unresponsive (49 h: past 48 h); its chart line runs through them to its age at the
# last sweep (57 h): four vertices. Defender's heartbeat moves every sweep: eight observations,
# each 0.5 h old, and before each of the seven later ones the age it had grown to (8.5 h): fifteen
# vertices. Zimperium, never a heartbeat and never a change: one observation, one gap.
STORED = {LOOKOUT: 3, DEFENDER: 8, ZIMPERIUM: 1}
DRAWN = {LOOKOUT: 4, DEFENDER: 15, ZIMPERIUM: 1}  # line vertices and gaps
# The y axis reaches 1.5 x the threshold (72 h, above the largest age, 57 h): the threshold, 48 h,
# is two thirds of the way up the plot, the warning point (24 h: the lesser of 24 h and half the
# threshold) one third.
THRESHOLD_FRACTION = 48 / 72
WARNING_FRACTION = 24 / 72


def _iso(at: datetime) -> str:
    return at.strftime("%Y-%m-%dT%H:%M:%SZ")


def run(host: Host, graph: GraphSimulator, tenant_id: str, mocker: MockerFixture) -> None:
    """Eight heartbeat sweeps of the scenario, the clock left at ``NOW``."""
    clock = mocker.patch("shared.clock.system_now")
    for at in SWEEPS:
        clock.return_value = at
        load(
            graph,
            tenant_id,
            connector(LOOKOUT, _iso(HEARTBEAT), threshold=2),
            connector(DEFENDER, _iso(at - timedelta(minutes=30)), threshold=7),
            connector(ZIMPERIUM, None, state="available", threshold=3),
        )
        host.timer("heartbeat_monitor")
    clock.return_value = NOW
