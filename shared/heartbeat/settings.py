"""The heartbeat monitor's settings: its schedule and the health thresholds (registry: shared/settings.py).

The typed values are fields of ``shared.settings.Settings`` (``heartbeat_schedule``, ``prune_schedule``,
``default_threshold_days``, ``early_warning_hours``, ``history_retention_days``,
``graph_transient_grace_minutes``).
"""

from __future__ import annotations

from shared.setting_spec import SettingSpec, integer, schedule

SCHEDULE = SettingSpec(
    "HEARTBEAT_SCHEDULE",
    "NCRONTAB schedule of the heartbeat monitor (read by the Functions host).",
    schedule,
    default="0 */30 * * * *",
)
PRUNE_SCHEDULE = SettingSpec(
    "PRUNE_SCHEDULE",
    "NCRONTAB schedule of the daily prune of history and delivered alerts past "
    "HISTORY_RETENTION_DAYS (read by the Functions host).",
    schedule,
    default="0 15 3 * * *",
)
DEFAULT_THRESHOLD_DAYS = SettingSpec(
    "DEFAULT_THRESHOLD_DAYS",
    "Unresponsive threshold used when a connector reports none (or 0).",
    integer(1, 365),
    default="7",
)
EARLY_WARNING_HOURS = SettingSpec(
    "EARLY_WARNING_HOURS",
    "Longest heartbeat age that is still healthy; the warning point is the lesser of this "
    "and half the connector's threshold. 24 h is the documented partner sync interval.",
    integer(1, 24 * 365),
    default="24",
)
HISTORY_RETENTION_DAYS = SettingSpec(
    "HISTORY_RETENTION_DAYS",
    "How long observations (one per change a sweep sees) are kept in the history table; each "
    "connector's newest is kept however old.",
    integer(1, 3650),
    default="90",
)

GRAPH_TRANSIENT_GRACE_MINUTES = SettingSpec(
    "GRAPH_TRANSIENT_GRACE_MINUTES",
    "How long Microsoft Graph may throttle or fail transiently (429, 503, 504, timeouts, dropped "
    "connections) before a warning finding and an alert; until then each sweep only notes it. "
    "About two sweep intervals of the default schedule.",
    integer(0, 24 * 60 * 7),
    default="60",
)

SPECS = (
    SCHEDULE,
    DEFAULT_THRESHOLD_DAYS,
    EARLY_WARNING_HOURS,
    HISTORY_RETENTION_DAYS,
    GRAPH_TRANSIENT_GRACE_MINUTES,
    PRUNE_SCHEDULE,
)
