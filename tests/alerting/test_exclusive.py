"""One alert, one delivery: runs that overlap (the outbox timer and a sweep, five "check now"
calls at once) never send the same alert twice, and a run that died holding a delivery gives it up
when its claim expires.

Every run is the real one (the HTTP trigger through the host stand-in, or the outbox entry point) in
its own thread, against Azurite, the Graph simulator and local receivers that count what arrives.
"""

from __future__ import annotations

import time
from collections.abc import Callable
from concurrent.futures import ThreadPoolExecutor
from datetime import UTC, datetime, timedelta
from typing import Any

import pytest

from graphsim import GraphSimulator
from shared.alerting.alerts import DeliveryStatus
from shared.alerting.channels.teams import TeamsChannel
from shared.alerting.outbox import DeliveryReport
from shared.alerting.routing import ChannelRules
from shared.heartbeat import sweep as monitor
from tests.conftest import LOOKOUT, ZIMPERIUM, Host
from tests.support.alerting import alerts_of, outbox, stored, sweep, teams_settings
from tests.support.fakeapi import FakeTeamsWorkflow
from tests.support.receiver import Receiver
from tests.support.scenarios import connector, load

Channels = Callable[..., None]
RUNS = 5


def _together(run: Callable[[], Any], count: int = RUNS, stagger: float = 0.0) -> list[Any]:
    """``count`` runs at once, the i-th starting ``i * stagger`` seconds after the first (so some read
    the outbox while another run is between its claim and its outcome)."""

    def later(i: int) -> Any:
        time.sleep(i * stagger)
        return run()

    with ThreadPoolExecutor(max_workers=count) as pool:
        return list(pool.map(later, range(count)))


def test_five_concurrent_checks_send_each_alert_once_per_channel(
    channels: Channels,
    host: Host,
    graph: GraphSimulator,
    tenant_id: str,
    teams: FakeTeamsWorkflow,
    receiver: Receiver,
) -> None:
    channels(ALERT_WEBHOOK_URL=receiver.url, **teams_settings(teams))
    receiver.delay = 0.3  # a receiver that takes its time widens the window between claim and outcome
    load(graph, tenant_id, connector(LOOKOUT, "now-9d"), connector(ZIMPERIUM, "now-4d"))

    answers = _together(lambda: host.http("checks_run", "POST", "/api/checks/heartbeat"))

    assert [a.status_code for a in answers] == [200] * RUNS
    recorded = alerts_of()
    assert len(recorded) == 2
    sent = sorted(p["alertId"] for p in receiver.payloads())
    assert sent == sorted(a.alert_id for a in recorded)  # exactly one POST per alert
    cards = sorted(c.headers["x-mtdguard-alert-id"] for c in teams.calls)
    assert cards == sorted(a.alert_id for a in recorded)
    for alert in recorded:
        assert {d.status for d in stored(alert.alert_id).deliveries.values()} == {DeliveryStatus.DELIVERED}


def test_overlapping_outbox_runs_send_a_fresh_alert_once(
    channels: Channels,
    graph: GraphSimulator,
    tenant_id: str,
    receiver: Receiver,
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    channels(ALERT_WEBHOOK_URL=receiver.url)
    load(graph, tenant_id, connector(LOOKOUT, "now-9d"))
    t0 = datetime.now(UTC)
    with monkeypatch.context() as patch:  # the sweep records the alert; the outbox timer delivers it
        patch.setattr(monitor, "deliver_after_run", lambda *args, **kwargs: DeliveryReport())
        [alert] = sweep(now=t0).alerts
    receiver.delay = 0.3

    reports = _together(lambda: outbox(t0), stagger=0.05)

    assert [p["alertId"] for p in receiver.payloads()] == [alert.alert_id]
    assert sum(r.delivered for r in reports) == 1
    assert stored(alert.alert_id).deliveries["webhook"].status is DeliveryStatus.DELIVERED


def test_a_claim_held_by_a_run_that_died_is_taken_over_once_it_expires(
    channels: Channels,
    graph: GraphSimulator,
    tenant_id: str,
    teams: FakeTeamsWorkflow,
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    channels(**teams_settings(teams))
    load(graph, tenant_id, connector(LOOKOUT, "now-9d"))
    t0 = datetime.now(UTC)

    def dies(self: TeamsChannel, *args: Any) -> None:
        raise KeyboardInterrupt  # the worker goes away after its claim, before any outcome

    with monkeypatch.context() as patch:
        patch.setattr(TeamsChannel, "send", dies)
        with pytest.raises(KeyboardInterrupt):
            sweep(now=t0)
    [alert] = alerts_of()
    claimed = stored(alert.alert_id).deliveries["teams"]
    expiry = t0 + ChannelRules().send_bound
    assert (claimed.status, claimed.attempts, claimed.next_attempt_at) == (DeliveryStatus.PENDING, 1, expiry)

    outbox(expiry - timedelta(seconds=1))  # still held: nobody else sends it
    assert teams.calls == []
    outbox(expiry)  # expired: the next run takes it over
    assert len(teams.cards()) == 1
    done = stored(alert.alert_id).deliveries["teams"]
    assert (done.status, done.attempts) == (DeliveryStatus.DELIVERED, 2)
