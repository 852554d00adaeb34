"""Connector configuration settings: how baselines are taken and what drift does (registry:
shared/settings.py). The typed values are ``shared.settings.Settings.configure``."""

from __future__ import annotations

from dataclasses import dataclass

from shared.setting_spec import Reader, SettingSpec, choice

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

SPECS = (CONNECTOR_BASELINE, CONNECTOR_DRIFT_ACTION)


@dataclass(frozen=True)
class ConfigureSettings:
    """``baseline``: first-seen or explicit; ``drift_action``: alert or restore."""

    baseline: str = FIRST_SEEN
    drift_action: str = ALERT

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
    return ConfigureSettings(baseline=read(CONNECTOR_BASELINE), drift_action=read(CONNECTOR_DRIFT_ACTION))
