"""Alert channels: the one package that sends alerts out of MTD Guard.

One module per channel: ``webhook`` (generic, HMAC-signed JSON), ``teams`` (Workflows webhook,
Adaptive Card), ``servicenow`` (Table API incidents), ``jira`` (REST v3 issues). Each implements
``Channel``: ``send(alert, thread)`` delivers or raises ``DeliveryError`` with a message safe to
store and show (no URL path or query, password, token or client secret). ``channels_from_settings``
builds the enabled ones; which alert goes where is decided by ``shared.alerting.routing`` from each
channel's ``rules``.
"""

from __future__ import annotations

from typing import TYPE_CHECKING

from shared.alerting.channels.base import SIGNATURE_HEADER, Channel, DeliveryError, Ticket, sign
from shared.alerting.channels.webhook import WebhookChannel

if TYPE_CHECKING:
    from shared.settings import Settings

__all__ = [
    "SIGNATURE_HEADER",
    "Channel",
    "DeliveryError",
    "Ticket",
    "WebhookChannel",
    "channels_from_settings",
    "sign",
]


def channels_from_settings(settings: Settings) -> list[Channel]:
    """Every channel the settings switch on, in a fixed order."""
    alerting = settings.alerting
    channels: list[Channel] = []
    if settings.alert_webhook_url:
        channels.append(
            WebhookChannel(settings.alert_webhook_url, settings.alert_webhook_secret, rules=alerting.webhook)
        )
    if alerting.teams is not None:
        from shared.alerting.channels.teams import TeamsChannel

        channels.append(TeamsChannel(alerting.teams.webhook_url, alerting.teams.rules))
    if alerting.servicenow is not None:
        from shared.alerting.channels.servicenow import ServiceNowChannel

        channels.append(ServiceNowChannel(alerting.servicenow))
    if alerting.jira is not None:
        from shared.alerting.channels.jira import JiraChannel

        channels.append(JiraChannel(alerting.jira))
    return channels
