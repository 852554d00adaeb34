"""Connector health: GET /api/connectors, GET /api/connectors/{partner}, POST /api/checks/heartbeat."""

from __future__ import annotations

from typing import Annotated, Literal, TypedDict

from msgspec import Meta

from functions.models.alerts import Alert
from functions.models.common import DeliveryReport, Time
from functions.models.drift import Baseline, DriftChange, SettingsView
from shared.findings.model import Severity
from shared.heartbeat.health import Health

Hours = Annotated[float | None, Meta(description="hours since the last heartbeat, 2 decimals")]
GraphTime = Annotated[str | None, Meta(description="lastHeartbeatDateTime exactly as Graph sent it")]


class ConnectorStatus(TypedDict):
    """One connector's health as the last sweep judged it."""

    id: str
    partner: str
    partnerKnown: Annotated[bool, Meta(description="false: not in MTD Guard's partner catalog")]
    partnerState: str | None
    lastHeartbeatDateTime: GraphTime
    thresholdDays: int
    thresholdSource: Literal["connector", "default"]
    heartbeatAgeHours: Hours
    health: Health
    severity: Severity
    reason: str
    healthSince: Annotated[Time, Meta(description="when this health began")]
    checkedAt: Time


class Observation(TypedDict):
    """A connector as a past sweep read it when something had changed (a new heartbeat, a change
    of health, state, threshold or settings): a sweep that sees nothing new stores none."""

    checkedAt: Time
    health: Health
    partnerState: str | None
    lastHeartbeatDateTime: GraphTime
    heartbeatAgeHours: Hours
    thresholdDays: int
    reason: str


class ConnectorView(ConnectorStatus):
    """One connector as the last sweep saw it, with its settings, baseline and drift."""

    settings: Annotated[SettingsView, Meta(description="as the last sweep read them: the PUT body's shape")]
    baseline: Baseline | None
    drift: Annotated[list[DriftChange], Meta(description="settings that differ from the baseline")]


class ConnectorDetail(ConnectorView):
    """One connector's health as the last sweep judged it, and its recent readings."""

    history: Annotated[
        list[Observation], Meta(description="newest first; one per change, the age grows in between")
    ]


class ConnectorList(TypedDict):
    """Every connector the last sweep saw, by partner name; checkedAt is null before the first sweep."""

    tenantId: str
    checkedAt: Time | None
    problems: list[str]
    connectors: list[ConnectorView]


class SweepResult(TypedDict):
    """A heartbeat sweep just run: every connector's health and the alerts it raised."""

    tenantId: str
    checkedAt: Time
    ok: Annotated[bool, Meta(description="true when problems is empty")]
    recorded: Annotated[bool, Meta(description="true when the results were stored")]
    problems: list[str]
    connectors: list[ConnectorStatus]
    alertsRaised: list[Alert]
    delivery: DeliveryReport
