"""The generic webhook is signed the Standard Webhooks way (issue 11, "Ticketing channels"): a
receiver verifying with the maintained ``standardwebhooks`` library accepts a real delivery, and
refuses one altered on the way or replayed after the library's five-minute tolerance.

Deliveries come from real sweeps (host stand-in, Azurite, the Graph simulator) to a local receiver.
"""

from __future__ import annotations

import base64
from collections.abc import Callable
from datetime import UTC, datetime, timedelta

import pytest
from pytest_mock import MockerFixture
from standardwebhooks import Webhook, WebhookVerificationError

from graphsim import GraphSimulator
from shared.alerting.settings import WEBHOOK_SECRET
from tests.conftest import LOOKOUT, Host
from tests.support.receiver import Received, Receiver
from tests.support.scenarios import connector, load

SECRET = "whsec_" + base64.b64encode(b"made-up 32 byte signing key 0001").decode()


def _deliver(host: Host, graph: GraphSimulator, tenant_id: str, receiver: Receiver) -> Received:
    load(graph, tenant_id, connector(LOOKOUT, "now-9d"))
    assert host.http("checks_run", "POST", "/api/checks/heartbeat").status_code == 200
    [delivery] = receiver.received
    return delivery


def test_a_receiver_verifies_the_delivery_with_the_standard_webhooks_library(
    host: Host, channels: Callable[..., None], graph: GraphSimulator, tenant_id: str, receiver: Receiver
) -> None:
    channels(ALERT_WEBHOOK_URL=receiver.url, ALERT_WEBHOOK_SECRET=SECRET)
    delivery = _deliver(host, graph, tenant_id, receiver)

    payload = Webhook(SECRET).verify(delivery.body, delivery.headers)  # the receiver's whole check
    assert payload["connectorId"] == LOOKOUT
    assert delivery.headers["webhook-id"] == payload["alertId"]  # the same on every retry: dedupe on it
    sent_at = datetime.fromtimestamp(int(delivery.headers["webhook-timestamp"]), UTC)
    assert abs(datetime.now(UTC) - sent_at) < timedelta(minutes=1)

    altered = delivery.body.replace(b'"high"', b'"info"')
    assert altered != delivery.body
    with pytest.raises(WebhookVerificationError, match="No matching signature"):
        Webhook(SECRET).verify(altered, delivery.headers)
    with pytest.raises(WebhookVerificationError, match="No matching signature"):
        Webhook("whsec_" + base64.b64encode(b"another key").decode()).verify(delivery.body, delivery.headers)


def test_a_delivery_replayed_after_the_tolerance_is_refused(
    host: Host,
    channels: Callable[..., None],
    graph: GraphSimulator,
    tenant_id: str,
    receiver: Receiver,
    mocker: MockerFixture,
) -> None:
    channels(ALERT_WEBHOOK_URL=receiver.url, ALERT_WEBHOOK_SECRET=SECRET)
    # Captured ten minutes ago, replayed now: the app's clock stands ten minutes back.
    mocker.patch("shared.clock.system_now", return_value=datetime.now(UTC) - timedelta(minutes=10))
    delivery = _deliver(host, graph, tenant_id, receiver)
    with pytest.raises(WebhookVerificationError, match="too old"):
        Webhook(SECRET).verify(delivery.body, delivery.headers)


def test_a_secret_in_any_other_format_still_signs_both_ways(
    host: Host, channels: Callable[..., None], graph: GraphSimulator, tenant_id: str, receiver: Receiver
) -> None:
    channels(ALERT_WEBHOOK_URL=receiver.url, ALERT_WEBHOOK_SECRET="an older plain secret")
    delivery = _deliver(host, graph, tenant_id, receiver)
    # The key is the secret's UTF-8 bytes (the library takes bytes as the key itself).
    assert Webhook(b"an older plain secret").verify(delivery.body, delivery.headers)["connectorId"] == LOOKOUT
    assert delivery.headers["x-mtdguard-signature"].startswith("sha256=")  # the older header stays


@pytest.mark.parametrize("broken", ["whsec_", "whsec_!!!!", "whsec_abcde"])
def test_a_whsec_secret_that_is_not_base64_is_a_settings_problem(broken: str) -> None:
    assert WEBHOOK_SECRET.problem(broken) == (
        "ALERT_WEBHOOK_SECRET starts with whsec_ but the rest is not a base64 key"
    )
