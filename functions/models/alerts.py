"""Alert answers: GET /api/alerts, POST /api/alerts/{alertId}/redeliver, and alerts raised by checks."""

from __future__ import annotations

from typing import Annotated, Literal, NotRequired, TypedDict

from msgspec import Meta

from functions.models.common import Time, Token
from shared.alerting.alerts import DeliveryStatus
from shared.findings.model import Severity


class AlertDelivery(TypedDict):
    """How far an alert got on one channel."""

    status: DeliveryStatus
    attempts: int
    lastError: str | None
    deliveredAt: Time | None
    nextAttemptAt: Annotated[Time | None, Meta(description="not before: backoff, or the end of quiet hours")]
    note: Annotated[str | None, Meta(description="why it was skipped or held")]
    ticket: Annotated[str | None, Meta(description="ServiceNow number or Jira key it went to")]
    digestId: Annotated[str | None, Meta(description="the digest alert that carried it")]


class Alert(TypedDict):
    """The webhook payload (common fields plus the kind's own details) and, in API answers, how far
    it got on each channel."""

    alertId: str
    tenantId: str
    kind: Annotated[str, Meta(description="the finding kind it is about, e.g. heartbeat")]
    findingId: str
    severity: Severity
    title: str
    reason: str
    detectedAt: Time
    resolvesFinding: bool
    remediation: NotRequired[str]
    deliveries: dict[str, AlertDelivery]


class ChannelRouting(TypedDict):
    """An enabled channel and its routing rules."""

    name: str
    minSeverity: Severity
    kinds: Annotated[Literal["*"] | list[str], Meta(description='"*": every finding kind')]
    quietHours: str | None
    tickets: bool
    maxAttempts: int


class AlertPage(TypedDict):
    """A page of this tenant's alerts, newest first, with the enabled channels and delivery counts.
    continuationToken is null on the last page.
    """

    tenantId: str
    channels: Annotated[list[ChannelRouting], Meta(description="the enabled channels and their routing")]
    counts: Annotated[
        dict[str, dict[str, int]],
        Meta(
            description="per channel, deliveries by status, over the alerts matching kind, severity, "
            "findingId and since"
        ),
    ]
    alerts: Annotated[list[Alert], Meta(description="newest first")]
    continuationToken: Token


class AlertRedelivery(TypedDict):
    """The channels an alert was queued on again, and the alert as now stored."""

    queued: Annotated[list[str], Meta(description="the channels queued again")]
    detail: str
    alert: Alert
