"""No credential in any log line or answer (issue 11, "Quiet"): deliveries to every channel with
made-up secrets, every logger at DEBUG, every record and every HTTP answer scanned for them."""

from __future__ import annotations

import logging
from collections.abc import Callable, Iterable, Iterator
from typing import Any

import azure.functions as func
import pytest

from graphsim import GraphSimulator
from shared import logs
from tests.conftest import LOOKOUT, Host, body
from tests.support.alerting import jira_settings, servicenow_settings, teams_settings
from tests.support.fakeapi import FakeJira, FakeServiceNow, FakeTeamsWorkflow
from tests.support.receiver import Receiver
from tests.support.scenarios import connector, load

WEBHOOK_PASSWORD = "hook-pa55word-7f3a"
WEBHOOK_TOKEN = "hook-token-91c2e5"
WEBHOOK_HMAC = "whsec-made-up-4d1b"

_formatter = logging.Formatter("%(name)s %(levelname)s %(message)s")


@pytest.fixture
def everything_at_debug(caplog: pytest.LogCaptureFixture) -> Iterator[pytest.LogCaptureFixture]:
    """Root and every request-logging library at DEBUG: an operator chasing a problem."""
    caplog.set_level(logging.DEBUG)
    for name in logs.NOISY_LOGGERS:
        caplog.set_level(logging.DEBUG, logger=name)
    yield caplog


def leaks(secrets: Iterable[str], records: Iterable[logging.LogRecord], answers: Iterable[Any]) -> list[str]:
    texts = [_formatter.format(r) for r in records]
    for answer in answers:
        texts.append(answer.get_body().decode() + repr(dict(answer.headers)))
    return [f"{s!r} in {t[:300]!r}" for t in texts for s in secrets if s in t]


def test_deliveries_to_every_channel_leak_no_secret_even_at_debug(
    host: Host,
    channels: Callable[..., None],
    graph: GraphSimulator,
    tenant_id: str,
    receiver: Receiver,
    teams: FakeTeamsWorkflow,
    servicenow: FakeServiceNow,
    jira: FakeJira,
    everything_at_debug: pytest.LogCaptureFixture,
) -> None:
    webhook_url = receiver.url.replace("http://", f"http://hook-user:{WEBHOOK_PASSWORD}@")
    channels(
        ALERT_WEBHOOK_URL=f"{webhook_url}?token={WEBHOOK_TOKEN}",
        ALERT_WEBHOOK_SECRET=WEBHOOK_HMAC,
        **teams_settings(teams),
        **servicenow_settings(servicenow),
        **jira_settings(jira),
    )
    secrets = [
        WEBHOOK_PASSWORD,
        WEBHOOK_TOKEN,
        WEBHOOK_HMAC,
        teams.signature,
        servicenow.password,
        jira.token,
    ]
    answers: list[func.HttpResponse] = []
    load(graph, tenant_id, connector(LOOKOUT, "now-9d"))
    answers.append(host.http("checks_run", "POST", "/api/checks/heartbeat"))
    load(graph, tenant_id, connector(LOOKOUT, "now-1m"))  # the recovery: tickets resolved
    receiver.fail_with = 500  # a failing receiver: its error is stored and shown
    answers.append(host.http("checks_run", "POST", "/api/checks/heartbeat"))
    answers.append(host.http("alerts_list", "GET", "/api/alerts"))

    # Every channel was really called, with its credentials, and the requests were logged.
    assert [r.path for r in receiver.received] == ["/hooks/mtd?token=" + WEBHOOK_TOKEN]
    assert len(teams.cards()) == 2 and servicenow.incident_list() and jira.issues
    alerts = body(answers[-1])["alerts"]
    assert any(d["lastError"] for a in alerts for d in a["deliveries"].values()), alerts
    records = everything_at_debug.records
    assert any(r.name.startswith("httpx") for r in records), "httpx logged nothing: the test proves nothing"
    assert leaks(secrets, records, answers) == []


MISCONFIGURED_URL = f"ftp://hook-user:{WEBHOOK_PASSWORD}@hooks.contoso.com/mtd?token={WEBHOOK_TOKEN}"


def test_a_misconfigured_webhook_url_is_not_echoed_in_problems_answers_or_start_up_logs(
    host: Host, env: Callable[..., None], everything_at_debug: pytest.LogCaptureFixture
) -> None:
    env(ALERT_WEBHOOK_URL=MISCONFIGURED_URL)
    answers = [
        host.http("connectors_list", "GET", "/api/connectors"),
        host.http("checks_run", "POST", "/api/checks/heartbeat"),
        host.http("health", "GET", "/api/health"),
    ]
    host.timer("heartbeat_monitor")
    import function_app

    function_app.log_settings_problems()

    assert answers[0].status_code == 503
    detail = body(answers[0])["detail"]
    assert "ALERT_WEBHOOK_URL 'ftp://***@hooks.contoso.com/mtd?token=***'" in detail  # still useful
    start_up = [r for r in everything_at_debug.records if "ALERT_WEBHOOK_URL" in r.getMessage()]
    assert len(start_up) == 2  # the timer's line and the start-up line
    assert leaks([WEBHOOK_PASSWORD, WEBHOOK_TOKEN], everything_at_debug.records, answers) == []


def test_request_logging_libraries_are_quiet_by_default(
    functions: dict[str, Any], caplog: pytest.LogCaptureFixture
) -> None:
    # function_app (imported by the `functions` fixture) quiets them at start; the app's own
    # loggers follow the root, here at DEBUG.
    caplog.set_level(logging.DEBUG)
    assert logging.getLogger("shared.alerting.outbox").getEffectiveLevel() == logging.DEBUG
    for name in (
        "httpx",
        "httpcore",
        "azure.core.pipeline.policies.http_logging_policy",
        "azure.storage",
        "msal",
        "urllib3",
    ):
        assert logging.getLogger(name).getEffectiveLevel() == logging.WARNING, name


@pytest.mark.parametrize(
    ("url", "shown"),
    [
        ("https://u:p@h.example:8443/a/b?token=T&x=1#frag", "https://***@h.example:8443/a/b?token=***&x=***"),
        ("https://h.example/p", "https://h.example/p"),
        ("user:password@h.example", "***"),
        ("http://[::1]:7071/x?sig=s", "http://[::1]:7071/x?sig=***"),
        ("http://[::1?token=t", "http://[::1?token=***"),
        ("hooks.example.com/x?token=t", "hooks.example.com/x?token=***"),
    ],
)
def test_redact_url_keeps_host_and_path_and_hides_credentials(url: str, shown: str) -> None:
    assert logs.redact_url(url) == shown
