"""Heartbeat health rules: is Intune still listening to this partner? Pure functions, no I/O.

Each connector is judged against ITS OWN ``partnerUnresponsivenessThresholdInDays``: past it, Intune
ignores the partner's compliance data. A warning comes earlier, at the lesser of the early-warning
hours (24 h, the documented sync interval, by default) and half the threshold.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime, timedelta
from enum import StrEnum

from shared.findings.model import Severity
from shared.graph.connectors import ConnectorReading


class Health(StrEnum):
    """A connector's health as MTD Guard judges it (API ``health``, history, alerts)."""

    HEALTHY = "healthy"
    WARNING = "warning"
    UNRESPONSIVE = "unresponsive"
    NOT_SET_UP = "notSetUp"
    ERROR = "error"
    UNKNOWN = "unknown"


SEVERITY: dict[Health, Severity] = {
    Health.HEALTHY: Severity.INFO,
    Health.WARNING: Severity.WARNING,
    Health.UNRESPONSIVE: Severity.HIGH,
    Health.NOT_SET_UP: Severity.WARNING,
    Health.ERROR: Severity.HIGH,
    Health.UNKNOWN: Severity.WARNING,
}

REMEDIATION: dict[Health, str] = {
    Health.HEALTHY: "None needed.",
    Health.WARNING: (
        "Check the partner's console for sync errors and that its Intune connection is still "
        "authorised, before the threshold is reached."
    ),
    Health.UNRESPONSIVE: (
        "Restore the partner's connection (partner console: Intune/MDM integration) or, if the "
        "partner was retired, delete the connector and the compliance rules that rely on it."
    ),
    Health.NOT_SET_UP: (
        "Finish the set-up in the partner's own admin console; the connection status turns to "
        "Enabled once the partner reports in."
    ),
    Health.ERROR: (
        "Open Intune admin center > Tenant administration > Connectors and tokens > Mobile Threat "
        "Defense, check the connector's status, and re-authorise it from the partner console."
    ),
    Health.UNKNOWN: ("Check the connector in the Intune admin center; MTD Guard could not read its state."),
}

_NOT_SET_UP_STATES = frozenset({"notSetUp", "available", "neverConfigured"})
_ERROR_STATES = frozenset({"error", "unavailable"})
# A heartbeat a little in the future is clock skew between services; far in the future is nonsense.
_SKEW_TOLERANCE = timedelta(hours=1)


@dataclass(frozen=True)
class HealthPolicy:
    """The judging thresholds: fallback threshold in days, early warning in hours (settings)."""

    default_threshold_days: int = 7
    early_warning_hours: int = 24


@dataclass(frozen=True)
class Verdict:
    """The judgement of one connector at one moment, with the reason in words."""

    health: Health
    reason: str
    threshold_days: int  # the threshold actually applied
    threshold_from_connector: bool
    heartbeat_age_hours: float | None

    @property
    def severity(self) -> Severity:
        """The severity of a finding with this health (``SEVERITY``)."""
        return SEVERITY[self.health]

    @property
    def remediation(self) -> str:
        """What to do about this health (``REMEDIATION``)."""
        return REMEDIATION[self.health]


def describe_age(hours: float) -> str:
    """An age for people: "25 minutes", "3.5 hours" (under 48 h), else "2.1 days"."""
    if hours < 1:
        return f"{round(hours * 60)} minutes"
    if hours < 48:
        return f"{hours:.1f} hours"
    return f"{hours / 24:.1f} days"


def _days(n: int) -> str:
    return f"{n} day" if n == 1 else f"{n} days"


def warning_point_hours(threshold_days: int, policy: HealthPolicy) -> float:
    """Hours after the last heartbeat when a connector turns ``warning``: the early warning,
    or half the threshold when that comes first."""
    return min(float(policy.early_warning_hours), threshold_days * 24 / 2)


def judge(reading: ConnectorReading, now: datetime, policy: HealthPolicy) -> Verdict:
    """The health of one connector at ``now``; never raises, whatever Graph sent."""
    from_connector = reading.threshold_days is not None
    threshold = reading.threshold_days or policy.default_threshold_days
    age = None if reading.last_heartbeat is None else (now - reading.last_heartbeat)
    age_hours = None if age is None else max(age.total_seconds() / 3600, 0.0)

    def verdict(health: Health, reason: str) -> Verdict:
        if not from_connector:
            reason += f" (connector reports no threshold; default of {_days(threshold)} applied)"
        return Verdict(health, reason, threshold, from_connector, age_hours)

    state = reading.partner_state
    if reading.heartbeat_unreadable:
        return verdict(
            Health.UNKNOWN,
            f"lastHeartbeatDateTime {reading.last_heartbeat_raw!r} is not a timestamp",
        )
    if state in _ERROR_STATES:
        return verdict(Health.ERROR, f"partner state is '{state}': {_since(age_hours)}")
    if state in _NOT_SET_UP_STATES:
        return verdict(
            Health.NOT_SET_UP,
            f"partner state is '{state}': the partner side is not set up yet ({_since(age_hours)})",
        )
    if age is not None and age < -_SKEW_TOLERANCE:
        return verdict(
            Health.UNKNOWN,
            f"last heartbeat {reading.last_heartbeat_raw} is {describe_age(-age.total_seconds() / 3600)}"
            " in the future: clocks disagree, the age cannot be judged",
        )
    if age_hours is not None and age_hours >= threshold * 24:
        return verdict(
            Health.UNRESPONSIVE,
            f"last heartbeat {describe_age(age_hours)} ago; threshold {_days(threshold)}: "
            "Intune is ignoring this partner's compliance data",
        )
    if state == "unresponsive":
        return verdict(
            Health.UNRESPONSIVE,
            f"partner state is 'unresponsive' ({_since(age_hours)}): Intune is ignoring this "
            "partner's compliance data",
        )
    if state != "enabled":
        shown = "missing" if state is None else f"'{state}'"
        hint = (
            " (Graph v1.0 has no name for it; GRAPH_API_VERSION=beta shows it)"
            if (state == "unknownFutureValue")
            else ""
        )
        return verdict(Health.UNKNOWN, f"partner state {shown} is not one MTD Guard knows{hint}")
    if age_hours is None:
        return verdict(
            Health.WARNING,
            "partner is enabled but has never sent a heartbeat: Intune has no compliance data from it yet",
        )
    warn_at = warning_point_hours(threshold, policy)
    if age_hours > warn_at:
        left = threshold * 24 - age_hours
        return verdict(
            Health.WARNING,
            f"last heartbeat {describe_age(age_hours)} ago; Intune stops trusting this partner at "
            f"{_days(threshold)} (in {describe_age(left)})",
        )
    skew = (
        " (slightly in the future: clock skew, taken as now)"
        if age is not None and age.total_seconds() < 0
        else ""
    )
    return verdict(
        Health.HEALTHY,
        f"last heartbeat {describe_age(age_hours)} ago{skew}; threshold {_days(threshold)}",
    )


def _since(age_hours: float | None) -> str:
    return "no heartbeat yet" if age_hours is None else f"last heartbeat {describe_age(age_hours)} ago"
