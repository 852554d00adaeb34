"""Any Retry-After a receiver sends becomes a bounded wait: 'inf', '1e20', a negative number, 'nan',
an HTTP date (with or without a zone, past, near or in year 9999) or text never crash a delivery
run (they raised OverflowError or TypeError and aborted every run in which the delivery was due).

Each value goes through a real delivery: the sweep records an alert, the local Teams receiver
answers 429 with the header, and the stored delivery says when the next attempt is.
"""

from __future__ import annotations

from collections.abc import Callable
from datetime import UTC, datetime, timedelta
from email.utils import format_datetime

import pytest
from pytest_mock import MockerFixture

from graphsim import GraphSimulator
from shared.alerting.alerts import DeliveryStatus
from tests.conftest import LOOKOUT, Host, body
from tests.support.alerting import outbox, stored, sweep, teams_settings
from tests.support.fakeapi import FakeTeamsWorkflow
from tests.support.scenarios import connector, load

Channels = Callable[..., None]
CAP = timedelta(hours=6)  # RetryPolicy.cap: the longest wait between attempts
T0 = datetime.now(UTC).replace(microsecond=0)


@pytest.mark.parametrize(
    ("header", "wait"),
    [
        ("inf", CAP),
        ("1e20", CAP),
        ("-30", timedelta(0)),  # negative: no wait asked, the next run retries
        ("nan", timedelta(0)),  # not a number: ignored
        ("soon", timedelta(0)),  # neither a number nor a date: ignored
        ("90", timedelta(seconds=90)),
        (format_datetime(T0 + timedelta(hours=2), usegmt=True), timedelta(hours=2)),
        ((T0 + timedelta(hours=1)).strftime("%a, %d %b %Y %H:%M:%S -0000"), timedelta(hours=1)),  # no zone
        (format_datetime(T0 - timedelta(days=1), usegmt=True), timedelta(0)),  # in the past
        ("Fri, 31 Dec 9999 23:59:59 GMT", CAP),
    ],
)
def test_any_retry_after_becomes_a_bounded_wait(
    channels: Channels,
    graph: GraphSimulator,
    tenant_id: str,
    teams: FakeTeamsWorkflow,
    header: str,
    wait: timedelta,
    mocker: MockerFixture,
) -> None:
    mocker.patch("shared.clock.system_now", return_value=T0)  # HTTP dates are read against the clock
    channels(**teams_settings(teams))
    teams.fail_with, teams.retry_after = 429, header
    load(graph, tenant_id, connector(LOOKOUT, "now-9d"))

    result = sweep(now=T0)

    [alert] = result.alerts
    assert result.delivery.failed == 1 and len(teams.calls) == 1
    delivery = stored(alert.alert_id).deliveries["teams"]
    assert (delivery.status, delivery.attempts) == (DeliveryStatus.PENDING, 1)
    assert delivery.next_attempt_at is not None
    assert delivery.next_attempt_at == T0 + wait

    teams.fail_with = None
    outbox(delivery.next_attempt_at)  # the next run once it is due delivers it
    assert stored(alert.alert_id).deliveries["teams"].status is DeliveryStatus.DELIVERED


def test_a_check_now_answers_200_when_a_receiver_asks_for_an_infinite_wait(
    channels: Channels, host: Host, graph: GraphSimulator, tenant_id: str, teams: FakeTeamsWorkflow
) -> None:
    channels(**teams_settings(teams))
    teams.fail_with, teams.retry_after = 503, "inf"
    load(graph, tenant_id, connector(LOOKOUT, "now-9d"))

    answer = host.http("checks_run", "POST", "/api/checks/heartbeat")

    assert answer.status_code == 200
    assert body(answer)["delivery"]["failed"] == 1
