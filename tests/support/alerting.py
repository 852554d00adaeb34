"""Helpers for the alert-channel tests: scenarios, sweeps and outbox runs at a chosen time."""

from __future__ import annotations

from datetime import datetime

from shared import context
from shared.alerting import stored as stored_alerts
from shared.alerting.alerts import Alert
from shared.alerting.outbox import DeliveryReport, deliver_pending
from shared.heartbeat.sweep import SweepResult, run_heartbeat_sweep
from tests.support.fakeapi import FakeJira, FakeServiceNow, FakeTeamsWorkflow

# Every alert-channel setting, unset: a test names only the ones it means.
CHANNEL_SETTINGS_OFF: dict[str, str | None] = {
    name: None
    for name in (
        "TEAMS_WEBHOOK_URL",
        "TEAMS_MIN_SEVERITY",
        "TEAMS_KINDS",
        "TEAMS_QUIET_HOURS",
        "SERVICENOW_INSTANCE_URL",
        "SERVICENOW_USERNAME",
        "SERVICENOW_PASSWORD",
        "SERVICENOW_CLIENT_ID",
        "SERVICENOW_CLIENT_SECRET",
        "SERVICENOW_ASSIGNMENT_GROUP",
        "SERVICENOW_CLOSE_CODE",
        "SERVICENOW_MIN_SEVERITY",
        "SERVICENOW_KINDS",
        "JIRA_BASE_URL",
        "JIRA_EMAIL",
        "JIRA_API_TOKEN",
        "JIRA_PROJECT_KEY",
        "JIRA_ISSUE_TYPE",
        "JIRA_DONE_TRANSITION",
        "JIRA_MIN_SEVERITY",
        "JIRA_KINDS",
        "ALERT_WEBHOOK_MIN_SEVERITY",
        "ALERT_WEBHOOK_KINDS",
        "ALERT_WEBHOOK_QUIET_HOURS",
        "ALERT_TIMEZONE",
        "ALERT_MAX_ATTEMPTS",
        "ALERT_RETRY_BASE_MINUTES",
    )
}


def teams_settings(fake: FakeTeamsWorkflow) -> dict[str, str]:
    return {"TEAMS_WEBHOOK_URL": fake.url}


def servicenow_settings(fake: FakeServiceNow, *, oauth: bool = False) -> dict[str, str]:
    if oauth:
        return {
            "SERVICENOW_INSTANCE_URL": fake.base_url,
            "SERVICENOW_CLIENT_ID": fake.client_id,
            "SERVICENOW_CLIENT_SECRET": fake.client_secret,
        }
    return {
        "SERVICENOW_INSTANCE_URL": fake.base_url,
        "SERVICENOW_USERNAME": fake.user,
        "SERVICENOW_PASSWORD": fake.password,
    }


def jira_settings(fake: FakeJira) -> dict[str, str]:
    return {
        "JIRA_BASE_URL": fake.base_url,
        "JIRA_EMAIL": fake.email,
        "JIRA_API_TOKEN": fake.token,
        "JIRA_PROJECT_KEY": fake.project,
    }


def sweep(now: datetime | None = None) -> SweepResult:
    """The real heartbeat sweep (record, then deliver), with the app's own services."""
    s = context.services()
    return run_heartbeat_sweep(
        s.settings, s.graph, s.store, s.channels, tenant_id=s.settings.tenant_id, now=now
    )


def outbox(now: datetime) -> DeliveryReport:
    """One run of the alert outbox (what the alerts_outbox timer does), at ``now``."""
    s = context.services()
    return deliver_pending(s.store, s.channels, now, tenant_id=s.settings.tenant_id)


def stored(alert_id: str) -> Alert:
    s = context.services()
    found = stored_alerts.alert_with_etag(s.store, s.settings.tenant_id, alert_id)
    assert found is not None, alert_id
    return found[0]


def alerts_of(kind: str | None = None) -> list[Alert]:
    s = context.services()
    found = stored_alerts.query_alerts(s.store, s.settings.tenant_id, kind=kind)
    return sorted(found, key=lambda a: a.detected_at)
