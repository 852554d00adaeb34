"""One alert, one delivery, no secret said, under overlapping runs and misbehaving receivers
(issue 11, "Exclusive" and "Quiet"), counted into the chaos figures.

Five "check now" calls at once, then the outbox timer, against a webhook whose URL carries a user,
a password and a token (and a Standard Webhooks secret) and which answers slowly, then with
``Retry-After: inf``, and a Teams workflow whose URL carries its signature; every logger at DEBUG.
Afterwards every recorded alert must have reached each channel exactly once, and no secret may
appear in any log record or HTTP answer. Real functions, Azurite, the Graph simulator.
"""

from __future__ import annotations

import base64
from collections.abc import Callable
from concurrent.futures import ThreadPoolExecutor
from datetime import timedelta

import azure.functions as func
import pytest

from graphsim import GraphSimulator
from shared.alerting.outbox import deliver_pending
from shared.clock import now_utc
from shared.context import services
from tests.alerting.test_quiet import everything_at_debug, leaks
from tests.chaos.figures import Figures
from tests.conftest import DEFENDER, LOOKOUT, ZIMPERIUM, Host, body
from tests.support.alerting import CHANNEL_SETTINGS_OFF, alerts_of, teams_settings
from tests.support.fakeapi import FakeTeamsWorkflow
from tests.support.receiver import Receiver
from tests.support.scenarios import connector, load

__all__ = ["everything_at_debug"]

PASSWORD = "chaos-pa55word-0c1e"
TOKEN = "chaos-token-77ab3f"
SECRET = "whsec_" + base64.b64encode(b"chaos signing key, made up, 32 b").decode()
RUNS = 5


def test_overlapping_runs_and_odd_receivers_lose_nothing_repeat_nothing_and_say_no_secret(
    host: Host,
    env: Callable[..., None],
    graph: GraphSimulator,
    tenant_id: str,
    receiver: Receiver,
    teams: FakeTeamsWorkflow,
    figures: Figures,
    everything_at_debug: pytest.LogCaptureFixture,
) -> None:
    webhook = receiver.url.replace("http://", f"http://hook-user:{PASSWORD}@") + f"?token={TOKEN}"
    channel_settings = {"ALERT_WEBHOOK_URL": webhook, "ALERT_WEBHOOK_SECRET": SECRET, **teams_settings(teams)}
    env(**{**CHANNEL_SETTINGS_OFF, **channel_settings})
    secrets = [PASSWORD, TOKEN, SECRET, SECRET.removeprefix("whsec_"), teams.signature]
    load(
        graph,
        tenant_id,
        connector(LOOKOUT, "now-9d"),
        connector(ZIMPERIUM, "now-4d"),
        connector(DEFENDER, "now-8d"),
    )
    receiver.delay = 0.3  # slow: widens the window between a claim and its outcome
    figures.fault(f"{RUNS} concurrent heartbeat checks against a receiver answering in 0.3 s")
    services()  # built once, before the threads
    answers: list[func.HttpResponse] = []
    with ThreadPoolExecutor(max_workers=RUNS) as pool:
        answers += pool.map(lambda _: host.http("checks_run", "POST", "/api/checks/heartbeat"), range(RUNS))
    assert [a.status_code for a in answers] == [200] * RUNS

    # A recovery that the webhook refuses (503) and Teams refuses with an unusable Retry-After.
    load(
        graph,
        tenant_id,
        connector(LOOKOUT, "now-1m"),
        connector(ZIMPERIUM, "now-4d"),
        connector(DEFENDER, "now-8d"),
    )
    receiver.delay = 0.0
    receiver.fail_with = 503
    teams.fail_with, teams.retry_after = 429, "inf"
    figures.fault("the webhook answers 503 to the recovery")
    figures.fault("Teams answers 429 with Retry-After: inf to the recovery")
    answers.append(host.http("checks_run", "POST", "/api/checks/heartbeat"))
    receiver.fail_with = teams.fail_with = teams.retry_after = None
    answers.append(host.http("alerts_list", "GET", "/api/alerts"))
    listed = body(answers[-1])["alerts"]
    assert any(d["lastError"] for a in listed for d in a["deliveries"].values()), listed  # it did fail
    s = services()
    deliver_pending(s.store, s.channels, now_utc() + timedelta(days=2), tenant_id=tenant_id)  # after backoff

    recorded = [a.alert_id for a in alerts_of()]
    assert len(recorded) >= 3  # two unresponsive/warning connectors and a recovery at least
    figures.deliveries(recorded, [p["alertId"] for p in receiver.payloads()])
    figures.deliveries(recorded, [c.headers["x-mtdguard-alert-id"] for c in teams.calls if c.status < 300])
    found = leaks(secrets, everything_at_debug.records, answers)
    figures.secrets_found += len(found)
    assert sorted(p["alertId"] for p in receiver.payloads()) == sorted(recorded)
    assert found == []
