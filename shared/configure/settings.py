"""Connector configuration settings: how baselines are taken and what drift does (registry:
shared/settings.py). The typed values are ``shared.settings.Settings.configure``."""

from __future__ import annotations

from dataclasses import dataclass

from shared.setting_spec import Reader, SettingSpec, boolean, choice, listing

FIRST_SEEN = "first-seen"
EXPLICIT = "explicit"
ALERT = "alert"
RESTORE = "restore"

CONNECTOR_BASELINE = SettingSpec(
    "CONNECTOR_BASELINE",
    "How a connector gets its baseline (the settings it should have): first-seen adopts what a "
    "sweep sees the first time it meets a connector without one; explicit waits for "
    "POST /api/connectors/{partner}/baseline or a configure write (no drift is judged until then).",
    choice(FIRST_SEEN, EXPLICIT),
    default=FIRST_SEEN,
)
CONNECTOR_DRIFT_ACTION = SettingSpec(
    "CONNECTOR_DRIFT_ACTION",
    "What a sweep does when a connector's settings differ from its baseline: alert (a connectorDrift "
    "finding and an alert), or restore (the same, then the baseline is written back through the "
    "configure path, audited as MTD Guard's automatic restore).",
    choice(ALERT, RESTORE),
    default=ALERT,
)

CONNECTOR_AUDIT_EVENTS = SettingSpec(
    "CONNECTOR_AUDIT_EVENTS",
    "true: when a connector drifts, read Intune's audit log (GET /deviceManagement/auditEvents, "
    "DeviceManagementApps.Read.All) for who changed it; false: never read it. Whether connector "
    "edits appear there is unconfirmed; a missing permission only makes the finding say so.",
    boolean,
    default="true",
)
CONNECTOR_AUDIT_MATCH = SettingSpec(
    "CONNECTOR_AUDIT_MATCH",
    "Comma-separated, case-insensitive glob patterns: an Intune audit event whose activity, "
    "activityType or resource type matches one, and that names the partner in a resource's "
    "displayName, is taken as a change of that connector (an event whose resourceId is the "
    "connector's id always is). Unconfirmed what Intune logs for connector edits: configurable.",
    listing,
    default="*mobilethreatdefense*",
)

SPECS = (CONNECTOR_BASELINE, CONNECTOR_DRIFT_ACTION, CONNECTOR_AUDIT_EVENTS, CONNECTOR_AUDIT_MATCH)


@dataclass(frozen=True)
class ConfigureSettings:
    """``baseline``: first-seen or explicit; ``drift_action``: alert or restore; ``audit_events``:
    read Intune's audit log for who changed a drifted connector, matched by ``audit_match`` globs
    (lower case)."""

    baseline: str = FIRST_SEEN
    drift_action: str = ALERT
    audit_events: bool = True
    audit_match: tuple[str, ...] = ("*mobilethreatdefense*",)

    @property
    def first_seen(self) -> bool:
        """A sweep adopts the settings of a connector it meets without a baseline."""
        return self.baseline == FIRST_SEEN

    @property
    def restores(self) -> bool:
        """A sweep writes the baseline back when a connector drifted."""
        return self.drift_action == RESTORE


def load(read: Reader) -> ConfigureSettings:
    """The typed settings; values are assumed valid (``shared.settings.problems`` found nothing)."""
    return ConfigureSettings(
        baseline=read(CONNECTOR_BASELINE),
        drift_action=read(CONNECTOR_DRIFT_ACTION),
        audit_events=read(CONNECTOR_AUDIT_EVENTS),
        audit_match=tuple(p.strip().casefold() for p in read(CONNECTOR_AUDIT_MATCH).split(",") if p.strip()),
    )
