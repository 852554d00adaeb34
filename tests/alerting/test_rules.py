"""The pure rules behind delivery (retry timing, quiet hours, routing) and the channel settings'
validation: what an operator reads when a value is wrong. No I/O."""

from __future__ import annotations

import base64
import hashlib
import hmac
import re
from datetime import UTC, datetime, time, timedelta

import pytest

from shared import settings
from shared.alerting.alerts import Alert, Thread
from shared.alerting.channels import channels_from_settings
from shared.alerting.routing import Action, ChannelRules, QuietHours, RetryPolicy, Route, decide, zone
from shared.findings.model import Severity
from tests.infra.layout import ROOT

BASE = {"TENANT_ID": "contoso.onmicrosoft.com", "AzureWebJobsStorage": "UseDevelopmentStorage=true"}
REFERENCE = "@Microsoft.KeyVault(SecretUri=https://kv.vault.azure.net/secrets/{}/)"
NOW = datetime(2026, 3, 1, 12, 0, tzinfo=UTC)


def alert(severity: Severity = Severity.HIGH, kind: str = "heartbeat", **details: object) -> Alert:
    return Alert("a1", "t", kind, "heartbeat.x", severity, "title", "reason", NOW, dict(details))


def test_retries_wait_longer_each_time_and_the_defaults_give_up_after_about_17_hours() -> None:
    policy = RetryPolicy()
    waits = [policy.delay(n) for n in range(1, 10)]
    assert [int(w.total_seconds() // 60) for w in waits] == [0, 5, 10, 20, 40, 80, 160, 320, 360]
    outbox_period = timedelta(minutes=5)  # the first retry is the next outbox run
    assert (sum(waits, timedelta()) + outbox_period) / timedelta(hours=1) == pytest.approx(16.7, abs=0.1)
    assert policy.next_attempt(NOW, 2, retry_after=3600) == NOW + timedelta(hours=1)  # Retry-After wins
    assert policy.next_attempt(NOW, 2, retry_after=86400 * 7) == NOW + timedelta(hours=6)  # capped


def test_quiet_hours_span_midnight_and_end_in_local_time_across_daylight_saving() -> None:
    berlin = QuietHours(time(22), time(7), zone("Europe/Berlin"), "Europe/Berlin")
    winter_night = datetime(2026, 1, 14, 22, 30, tzinfo=UTC)  # 23:30 CET
    assert berlin.contains(winter_night)
    assert berlin.end_after(winter_night) == datetime(2026, 1, 15, 6, 0, tzinfo=UTC)
    early = datetime(2026, 1, 15, 4, 0, tzinfo=UTC)  # 05:00 CET, same window
    assert berlin.contains(early) and berlin.end_after(early) == datetime(2026, 1, 15, 6, 0, tzinfo=UTC)
    assert not berlin.contains(datetime(2026, 1, 15, 6, 0, tzinfo=UTC))
    spring = datetime(2026, 3, 28, 22, 0, tzinfo=UTC)  # 23:00 CET; clocks go forward that night
    assert berlin.end_after(spring) == datetime(2026, 3, 29, 5, 0, tzinfo=UTC)  # 07:00 CEST
    lunch = QuietHours(time(12), time(13))
    assert lunch.contains(NOW) and not lunch.contains(NOW + timedelta(hours=1))
    assert str(berlin) == "22:00-07:00 Europe/Berlin"


def test_routing_decisions() -> None:
    rules = ChannelRules(route=Route(Severity.WARNING, frozenset({"heartbeat"})))
    assert decide(alert(), "teams", rules, None, NOW).action is Action.SEND
    low = decide(alert(Severity.INFO), "teams", rules, None, NOW)
    assert (low.action, low.note) == (Action.SKIP, "severity info is below this channel's minimum warning")
    other = decide(alert(kind="graphAccess"), "teams", rules, None, NOW)
    assert other.note == "kind graphAccess is not among this channel's kinds (heartbeat)"
    thread = Thread("t", "teams", "heartbeat.x", True, NOW, NOW, "a0")
    assert decide(alert(Severity.INFO, health="healthy"), "teams", rules, thread, NOW).action is Action.SEND
    tickets = ChannelRules(tickets=True)
    recovery = decide(alert(Severity.INFO, health="healthy"), "servicenow", tickets, None, NOW)
    assert (recovery.action, recovery.note) == (
        Action.SKIP,
        "no open ticket for this finding: nothing to resolve",
    )
    own = alert(kind="alertDelivery", channel="teams")
    assert decide(own, "teams", ChannelRules(), None, NOW).action is Action.SKIP
    assert decide(own, "webhook", ChannelRules(), None, NOW).action is Action.SEND
    quiet = ChannelRules(quiet_hours=QuietHours(time(11), time(14)))
    held = decide(alert(Severity.INFO), "teams", quiet, None, NOW)
    assert (held.action, held.until) == (Action.HOLD, datetime(2026, 3, 1, 14, 0, tzinfo=UTC))
    assert decide(alert(Severity.WARNING), "teams", quiet, None, NOW).action is Action.SEND


@pytest.mark.parametrize(
    ("overrides", "message"),
    [
        (
            {"TEAMS_KINDS": "heartbeat,graphaccess"},
            "TEAMS_KINDS: unknown finding kind(s) graphaccess (did you mean graphAccess?)",
        ),
        ({"JIRA_KINDS": "*,heartbeat"}, "JIRA_KINDS '*,heartbeat' mixes '*' with kinds"),
        (
            {"SERVICENOW_MIN_SEVERITY": "critical"},
            "SERVICENOW_MIN_SEVERITY 'critical' is not a severity: use high, warning or info",
        ),
        ({"TEAMS_QUIET_HOURS": "22-7"}, "TEAMS_QUIET_HOURS '22-7' is not a daily window HH:MM-HH:MM"),
        ({"ALERT_WEBHOOK_QUIET_HOURS": "08:00-08:00"}, "two different times"),
        ({"ALERT_TIMEZONE": "Berlin"}, "ALERT_TIMEZONE 'Berlin' is not an IANA time zone"),
        ({"ALERT_MAX_ATTEMPTS": "0"}, "ALERT_MAX_ATTEMPTS 0 is outside 1..100"),
        ({"ALERT_OUTBOX_SCHEDULE": "*/5 * * * *"}, "ALERT_OUTBOX_SCHEDULE '*/5 * * * *' is not an NCRONTAB"),
        ({"JIRA_PROJECT_KEY": "sec"}, "JIRA_PROJECT_KEY 'sec' is not a Jira project key"),
        (
            {"SERVICENOW_INSTANCE_URL": "https://contoso.service-now.com", "SERVICENOW_USERNAME": "svc"},
            "ServiceNow alerts are on (SERVICENOW_INSTANCE_URL is set) but basic auth lacks "
            "SERVICENOW_PASSWORD;",
        ),
        (
            {
                "SERVICENOW_INSTANCE_URL": "https://contoso.service-now.com",
                "SERVICENOW_CLIENT_ID": "abc",
                "SERVICENOW_CLIENT_SECRET": REFERENCE.format("servicenow-client-secret"),
            },
            "OAuth client credentials lacks SERVICENOW_CLIENT_SECRET (its Key Vault reference did "
            "not resolve",
        ),
        (
            {"JIRA_BASE_URL": "https://contoso.atlassian.net", "JIRA_EMAIL": "a@contoso.com"},
            "Jira alerts are on (JIRA_BASE_URL is set) but JIRA_API_TOKEN, JIRA_PROJECT_KEY is not set",
        ),
    ],
)
def test_each_bad_channel_setting_gets_one_clear_message(overrides: dict[str, str], message: str) -> None:
    found = settings.problems({**BASE, **overrides})
    assert len(found) == 1 and message in found[0], found


def test_a_teams_url_is_never_repeated_in_a_problem() -> None:
    found = settings.problems({**BASE, "TEAMS_WEBHOOK_URL": "http://example.com/flow?sig=TOPSECRET"})
    assert found == [
        "TEAMS_WEBHOOK_URL is not an absolute https:// URL (the value is a secret and is not shown)"
    ]


def test_a_channel_secret_missing_from_the_vault_just_leaves_the_channel_off() -> None:
    env = {
        **BASE,
        "TEAMS_WEBHOOK_URL": REFERENCE.format("teams-webhook-url"),
        "JIRA_API_TOKEN": REFERENCE.format("jira-api-token"),
    }
    assert settings.problems(env) == []
    loaded = settings.load(env)
    assert loaded.alerting.teams is None and loaded.alerting.jira is None
    assert channels_from_settings(loaded) == []


def test_channels_are_built_from_settings_with_their_rules() -> None:
    loaded = settings.load(
        {
            **BASE,
            "ALERT_WEBHOOK_URL": "https://hooks.example.com/mtd",
            "TEAMS_WEBHOOK_URL": "https://prod-01.westeurope.logic.azure.com/workflows/1/triggers/manual/paths/invoke?sig=x",
            "TEAMS_MIN_SEVERITY": "HIGH",
            "TEAMS_QUIET_HOURS": "22:00-07:00",
            "ALERT_TIMEZONE": "Europe/Berlin",
            "SERVICENOW_INSTANCE_URL": "https://contoso.service-now.com/",
            "SERVICENOW_CLIENT_ID": "abc",
            "SERVICENOW_CLIENT_SECRET": "s3cret",
            "SERVICENOW_KINDS": "heartbeat, graphAccess",
            "ALERT_MAX_ATTEMPTS": "3",
        }
    )
    built = {c.name: c for c in channels_from_settings(loaded)}
    assert list(built) == ["webhook", "teams", "servicenow"]
    teams = built["teams"].rules
    assert teams.route.min_severity is Severity.HIGH and str(teams.quiet_hours) == "22:00-07:00 Europe/Berlin"
    sn = built["servicenow"].rules
    assert (
        sn.tickets
        and sn.route.kinds == frozenset({"heartbeat", "graphAccess"})
        and sn.retry.max_attempts == 3
    )
    assert loaded.alerting.servicenow is not None and loaded.alerting.servicenow.oauth
    assert "s3cret" not in repr(loaded) and "sig=x" not in repr(loaded)


def _webhook_example(function: str) -> object:
    """The function ``function`` of the docs/alerts.md "Generic webhook" code block defining it."""
    readme = (ROOT / "docs" / "alerts.md").read_text(encoding="utf-8")
    section = readme[readme.index("## Generic webhook") :]
    blocks = [c for c in re.findall(r"```python\n(.*?)```", section, re.S) if f"def {function}(" in c]
    assert len(blocks) == 1
    namespace: dict[str, object] = {}
    exec(compile(blocks[0], "docs/alerts.md", "exec"), namespace)
    return namespace[function]


def test_the_readme_standard_webhooks_example_accepts_our_signature_and_nothing_else() -> None:
    from standardwebhooks import WebhookVerificationError

    from shared.alerting.channels.webhook import standard_signature

    verified = _webhook_example("verified")
    assert callable(verified)
    secret = "whsec_" + base64.b64encode(b"k3y of the receiver, 32 bytes ok").decode()
    body = b'{"alertId":"a1","severity":"high"}'
    headers = standard_signature(secret, "a1", datetime.now(UTC), body)
    assert verified(secret, body, headers) == {"alertId": "a1", "severity": "high"}
    for refused in (
        (secret, body + b" ", headers),
        ("whsec_" + base64.b64encode(b"other").decode(), body, headers),
        (secret, body, standard_signature(secret, "a1", datetime.now(UTC) - timedelta(minutes=6), body)),
    ):
        with pytest.raises(WebhookVerificationError, match=r"signature|too old"):
            verified(*refused)


def test_the_readme_verification_example_accepts_our_signature_and_nothing_else() -> None:
    verify = _webhook_example("verify")
    assert callable(verify)
    body = b'{"alertId":"a1","severity":"high"}'
    # The header an alert carries, computed here by hand: 'sha256=' + hex HMAC-SHA256 of the body.
    signature = "sha256=" + hmac.new(b"k3y", body, hashlib.sha256).hexdigest()
    assert verify("k3y", body, signature)
    assert not verify("k3y", body + b" ", signature)
    assert not verify("other", body, signature)
