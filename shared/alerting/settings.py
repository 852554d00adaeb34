"""The alert channels' settings: their specs (registry: shared/settings.py) and one typed
``AlertSettings``.

Beyond each value's own check, this module checks what spans several settings: a channel is on
when its URL is set, and then everything it needs must be set too, or the app says so at start
instead of failing at 3 a.m. on the first alert.

A secret whose Key Vault reference did not resolve reaches the app as the literal reference
string; it counts as unset here (the reader passes ``None``), and the problem says why.

The routing rules (``shared.alerting.routing``) are imported only when a value is checked or
loaded, so importing the registry does not load them.
"""

from __future__ import annotations

import base64
import json
import re
from collections.abc import Callable
from dataclasses import dataclass, field
from datetime import timedelta
from typing import TYPE_CHECKING, Any

from shared.setting_spec import (
    Reader,
    SettingProblem,
    SettingSpec,
    checked,
    integer,
    schedule,
    secret_url,
    text,
    url,
)

if TYPE_CHECKING:
    from shared.alerting.routing import ChannelRules, RetryPolicy
    from shared.findings.model import Severity

Get = Callable[[str], str | None]  # a setting's text (default applied), None when unset
Unresolved = Callable[[str], bool]  # a secret set to a Key Vault reference that did not resolve
_PROJECT_KEY = re.compile(r"[A-Z][A-Z0-9_]{1,9}")


# -- parsers backed by the routing rules ------------------------------------------------------------


def _severity(name: str, value: str) -> Severity:
    """high, warning or info, in any case."""
    from shared.alerting import routing
    from shared.findings.model import Severity

    checked(routing.severity_problem(name, value))
    return Severity(value.lower())


def _kinds(name: str, value: str) -> frozenset[str] | None:
    """'*' (None: every kind) or a comma-separated list of finding kinds."""
    from shared.alerting import routing

    checked(routing.kinds_problem(name, value))
    return routing.parse_kinds(value)


def _quiet_hours(name: str, value: str) -> str:
    """A daily window HH:MM-HH:MM, as set (its zone is another setting, ALERT_TIMEZONE)."""
    from shared.alerting import routing

    checked(routing.quiet_hours_problem(name, value))
    return value


def _zone(name: str, value: str) -> str:
    """An IANA time zone name (or UTC), as set."""
    from shared.alerting import routing

    checked(routing.zone_problem(name, value))
    return value


@dataclass(frozen=True)
class ChannelSpecs:
    """The routing settings every alert channel has: minimum severity, kinds, quiet hours."""

    min_severity: SettingSpec[Severity]
    kinds: SettingSpec[frozenset[str] | None]
    quiet_hours: SettingSpec[str] | None  # message channels only; ticket channels have none

    @property
    def tickets(self) -> bool:
        """A ticket channel (ServiceNow, Jira): one ticket per finding, never held for quiet hours."""
        return self.quiet_hours is None

    @property
    def specs(self) -> tuple[SettingSpec[Any], ...]:
        """The channel's routing settings to register, quiet hours only for message channels."""
        quiet = (self.quiet_hours,) if self.quiet_hours else ()
        return (self.min_severity, self.kinds, *quiet)


def _channel(prefix: str, channel: str, min_severity: str, *, quiet: bool) -> ChannelSpecs:
    return ChannelSpecs(
        SettingSpec(
            f"{prefix}_MIN_SEVERITY",
            f"Lowest severity that opens a conversation on {channel} (high, warning or info). Later "
            "alerts on the same finding always follow, so a recovery reaches where the problem went.",
            _severity,
            default=min_severity,
        ),
        SettingSpec(
            f"{prefix}_KINDS",
            f"Finding kinds sent to {channel}: '*' or a comma-separated list (heartbeat, graphAccess, ...).",
            _kinds,
            default="*",
        ),
        SettingSpec(
            f"{prefix}_QUIET_HOURS",
            f"Daily window HH:MM-HH:MM (ALERT_TIMEZONE) in which info alerts to {channel} are held "
            "and then sent as one digest. Unset: none.",
            _quiet_hours,
        )
        if quiet
        else None,
    )


WEBHOOK_URL = SettingSpec(
    "ALERT_WEBHOOK_URL",
    "Where alerts are POSTed as JSON. Unset: alerts stay recorded in the outbox only.",
    url(allow_loopback_http=True),
)


def _webhook_secret(name: str, value: str) -> str:
    """Any text; one in the Standard Webhooks format (``whsec_`` and base64) must decode."""
    if value.startswith("whsec_"):
        key = value.removeprefix("whsec_")
        try:
            valid = bool(re.fullmatch(r"[A-Za-z0-9+/]+={0,2}", key)) and bool(base64.b64decode(key + "=="))
        except ValueError:  # binascii.Error: a length base64 cannot have
            valid = False
        if not valid:
            raise SettingProblem(f"{name} starts with whsec_ but the rest is not a base64 key")
    return value


WEBHOOK_SECRET = SettingSpec(
    "ALERT_WEBHOOK_SECRET",
    "Key of the Standard Webhooks signature (webhook-id, webhook-timestamp, webhook-signature "
    "headers) and of the older body-only X-MtdGuard-Signature of webhook alerts; preferably "
    "whsec_ and a base64 key (docs/alerts.md).",
    _webhook_secret,
    secret=True,
    # Bicep always sets its Key Vault reference; with no secret in the vault, alerts go out
    # unsigned (a verifying receiver refuses them, which shows as a dead letter finding)
    # rather than the whole app, heartbeat monitoring included, refusing to start.
    absent_if_unresolved=True,
)
OUTBOX_SCHEDULE = SettingSpec(
    "ALERT_OUTBOX_SCHEDULE",
    "NCRONTAB schedule of the alert outbox: retries, digests after quiet hours (read by the host).",
    schedule,
    default="0 */5 * * * *",
)
MAX_ATTEMPTS = SettingSpec(
    "ALERT_MAX_ATTEMPTS",
    "Attempts per alert and channel before it is dead-lettered (which raises an alertDelivery finding).",
    integer(1, 100),
    default="10",
)
RETRY_BASE_MINUTES = SettingSpec(
    "ALERT_RETRY_BASE_MINUTES",
    "Backoff: a failed alert is retried on the next run, then after this many minutes, doubling "
    "each time up to 6 hours.",
    integer(1, 360),
    default="5",
)
TIMEZONE = SettingSpec(
    "ALERT_TIMEZONE",
    "IANA time zone of the quiet hours, e.g. Europe/Berlin.",
    _zone,
    default="UTC",
)
WEBHOOK = _channel("ALERT_WEBHOOK", "the generic webhook", "info", quiet=True)
TEAMS_WEBHOOK_URL = SettingSpec(
    "TEAMS_WEBHOOK_URL",
    "Microsoft Teams: the HTTP URL of a Workflows 'When a Teams webhook request is received' "
    "trigger (it embeds a signature). Unset: no Teams alerts.",
    secret_url,
    secret=True,
    absent_if_unresolved=True,
)
TEAMS = _channel("TEAMS", "Teams", "info", quiet=True)
SERVICENOW_INSTANCE_URL = SettingSpec(
    "SERVICENOW_INSTANCE_URL",
    "ServiceNow instance, e.g. https://contoso.service-now.com. Set: incidents are opened, "
    "work-noted and resolved through the Table API.",
    url(allow_loopback_http=True),
)
SERVICENOW_USERNAME = SettingSpec("SERVICENOW_USERNAME", "ServiceNow integration user (basic auth).", text)
SERVICENOW_PASSWORD = SettingSpec(
    "SERVICENOW_PASSWORD",
    "Password of SERVICENOW_USERNAME.",
    text,
    secret=True,
    absent_if_unresolved=True,
)
SERVICENOW_CLIENT_ID = SettingSpec(
    "SERVICENOW_CLIENT_ID",
    "OAuth client id (Application Registry, client credentials grant); set: used instead of basic auth.",
    text,
)
SERVICENOW_CLIENT_SECRET = SettingSpec(
    "SERVICENOW_CLIENT_SECRET",
    "OAuth client secret of SERVICENOW_CLIENT_ID.",
    text,
    secret=True,
    absent_if_unresolved=True,
)
SERVICENOW_ASSIGNMENT_GROUP = SettingSpec(
    "SERVICENOW_ASSIGNMENT_GROUP",
    "Assignment group (name or sys_id) of new incidents. Unset: the instance's assignment rules decide.",
    text,
)
SERVICENOW_CLOSE_CODE = SettingSpec(
    "SERVICENOW_CLOSE_CODE",
    "Resolution code set when a finding recovers (a choice of the incident close_code field).",
    text,
    default="Solution provided",
)
# Incident fields MTD Guard never lets the setting override: they are what makes the incident ours.
_OWN_INCIDENT_FIELDS = frozenset(
    {"short_description", "description", "correlation_id", "correlation_display"}
)


def _incident_fields(name: str, value: str) -> dict[str, str | int | float | bool]:
    """A JSON object of incident field name -> value (text, number or true/false), as set."""
    try:
        fields = json.loads(value)
    except ValueError:
        raise SettingProblem(
            f"{name} is not a JSON object such as "
            '{"caller_id": "mtd.guard", "category": "security", "assignment_group": "Mobile"}'
        ) from None
    if not isinstance(fields, dict) or not all(
        isinstance(v, str | int | float | bool) for v in fields.values()
    ):
        raise SettingProblem(f"{name} must be a JSON object whose values are text, numbers or true/false")
    if own := sorted(_OWN_INCIDENT_FIELDS & fields.keys()):
        raise SettingProblem(f"{name} may not set {', '.join(own)}: MTD Guard writes them itself")
    return fields


SERVICENOW_EXTRA_FIELDS = SettingSpec(
    "SERVICENOW_EXTRA_FIELDS",
    "More fields of new incidents, as a JSON object, for instances whose data policies make them "
    'mandatory, e.g. {"caller_id": "mtd.guard", "category": "security"}. Values are sent as given.',
    _incident_fields,
)
SERVICENOW = _channel("SERVICENOW", "ServiceNow", "warning", quiet=False)
JIRA_BASE_URL = SettingSpec(
    "JIRA_BASE_URL",
    "Jira Cloud site (https://contoso.atlassian.net) or, for a scoped API token, "
    "https://api.atlassian.com/ex/jira/<cloudId>. Set: issues are opened, commented and transitioned.",
    url(allow_loopback_http=True),
)
JIRA_EMAIL = SettingSpec("JIRA_EMAIL", "Atlassian account email of the API token's owner.", text)
JIRA_API_TOKEN = SettingSpec(
    "JIRA_API_TOKEN",
    "Atlassian API token (basic auth with JIRA_EMAIL).",
    text,
    secret=True,
    absent_if_unresolved=True,
)


def _project_key(name: str, value: str) -> str:
    """A Jira project key: an upper-case letter, then 1-9 upper-case letters, digits or '_'."""
    if not _PROJECT_KEY.fullmatch(value):
        raise SettingProblem(
            f"{name} {value!r} is not a Jira project key (upper-case letters and digits, e.g. SEC)"
        )
    return value


JIRA_PROJECT_KEY = SettingSpec(
    "JIRA_PROJECT_KEY", "Key of the project issues are created in, e.g. SEC.", _project_key
)
JIRA_ISSUE_TYPE = SettingSpec("JIRA_ISSUE_TYPE", "Issue type name of new issues.", text, default="Task")
JIRA_DONE_TRANSITION = SettingSpec(
    "JIRA_DONE_TRANSITION",
    "Name of the workflow transition applied when a finding recovers.",
    text,
    default="Done",
)
JIRA_RESOLUTION = SettingSpec(
    "JIRA_RESOLUTION",
    "Resolution sent with the done transition when its screen has a Resolution field (Jira Service "
    "Management workflows often require one); not sent otherwise.",
    text,
    default="Done",
)
JIRA = _channel("JIRA", "Jira", "warning", quiet=False)

SPECS: tuple[SettingSpec[Any], ...] = (
    WEBHOOK_URL,
    WEBHOOK_SECRET,
    OUTBOX_SCHEDULE,
    MAX_ATTEMPTS,
    RETRY_BASE_MINUTES,
    TIMEZONE,
    *WEBHOOK.specs,
    TEAMS_WEBHOOK_URL,
    *TEAMS.specs,
    SERVICENOW_INSTANCE_URL,
    SERVICENOW_USERNAME,
    SERVICENOW_PASSWORD,
    SERVICENOW_CLIENT_ID,
    SERVICENOW_CLIENT_SECRET,
    SERVICENOW_ASSIGNMENT_GROUP,
    SERVICENOW_CLOSE_CODE,
    SERVICENOW_EXTRA_FIELDS,
    *SERVICENOW.specs,
    JIRA_BASE_URL,
    JIRA_EMAIL,
    JIRA_API_TOKEN,
    JIRA_PROJECT_KEY,
    JIRA_ISSUE_TYPE,
    JIRA_DONE_TRANSITION,
    JIRA_RESOLUTION,
    *JIRA.specs,
)


# -- the typed settings -----------------------------------------------------------------------------


@dataclass(frozen=True)
class TeamsConfig:
    """Teams alerts: the Workflows trigger URL and the channel's routing rules."""

    webhook_url: str = field(repr=False)  # carries the workflow's signature: a secret
    rules: ChannelRules


@dataclass(frozen=True)
class ServiceNowConfig:
    """ServiceNow incidents: the instance URL (no trailing '/'), basic or OAuth credentials,
    assignment group, close code and the channel's routing rules."""

    instance_url: str
    username: str | None
    password: str | None = field(repr=False)
    client_id: str | None
    client_secret: str | None = field(repr=False)
    assignment_group: str | None
    close_code: str
    rules: ChannelRules
    extra_fields: dict[str, str | int | float | bool] = field(default_factory=dict)

    @property
    def oauth(self) -> bool:
        """OAuth client credentials when a client id is set, else basic auth."""
        return bool(self.client_id)


@dataclass(frozen=True)
class JiraConfig:
    """Jira issues: the site URL (no trailing '/'), API token owner and token, project, issue type,
    done transition and the channel's routing rules."""

    base_url: str
    email: str
    api_token: str = field(repr=False)
    project_key: str
    issue_type: str
    done_transition: str
    rules: ChannelRules
    resolution: str = "Done"


@dataclass(frozen=True)
class AlertSettings:
    """Every alert channel's configuration; a channel left unconfigured is None."""

    outbox_schedule: str
    timezone: str  # IANA name of ALERT_TIMEZONE
    retry: RetryPolicy
    webhook: ChannelRules
    teams: TeamsConfig | None = None
    servicenow: ServiceNowConfig | None = None
    jira: JiraConfig | None = None


def _rules(read: Reader, specs: ChannelSpecs, retry: RetryPolicy, zone: str) -> ChannelRules:
    from shared.alerting.routing import ChannelRules, Route, parse_quiet_hours

    quiet = read.optional(specs.quiet_hours) if specs.quiet_hours else None
    return ChannelRules(
        route=Route(read(specs.min_severity), read(specs.kinds)),
        quiet_hours=parse_quiet_hours(quiet, zone) if quiet else None,
        retry=retry,
        tickets=specs.tickets,
    )


def load(read: Reader) -> AlertSettings:
    """The typed settings; values are assumed valid (``problems`` and each spec found nothing)."""
    from shared.alerting.routing import RetryPolicy

    zone = read(TIMEZONE)
    retry = RetryPolicy(max_attempts=read(MAX_ATTEMPTS), base=timedelta(minutes=read(RETRY_BASE_MINUTES)))
    teams_url = read.optional(TEAMS_WEBHOOK_URL)
    sn_url = read.optional(SERVICENOW_INSTANCE_URL)
    jira_url = read.optional(JIRA_BASE_URL)
    return AlertSettings(
        outbox_schedule=read(OUTBOX_SCHEDULE),
        timezone=zone,
        retry=retry,
        webhook=_rules(read, WEBHOOK, retry, zone),
        teams=TeamsConfig(teams_url, _rules(read, TEAMS, retry, zone)) if teams_url else None,
        servicenow=ServiceNowConfig(
            instance_url=sn_url.rstrip("/"),
            username=read.optional(SERVICENOW_USERNAME),
            password=read.optional(SERVICENOW_PASSWORD),
            client_id=read.optional(SERVICENOW_CLIENT_ID),
            client_secret=read.optional(SERVICENOW_CLIENT_SECRET),
            assignment_group=read.optional(SERVICENOW_ASSIGNMENT_GROUP),
            close_code=read(SERVICENOW_CLOSE_CODE),
            rules=_rules(read, SERVICENOW, retry, zone),
            extra_fields=read.optional(SERVICENOW_EXTRA_FIELDS) or {},
        )
        if sn_url
        else None,
        jira=JiraConfig(
            base_url=jira_url.rstrip("/"),
            email=read.optional(JIRA_EMAIL) or "",  # problems() refuses a Jira channel without it
            api_token=read.optional(JIRA_API_TOKEN) or "",
            project_key=read.optional(JIRA_PROJECT_KEY) or "",
            issue_type=read(JIRA_ISSUE_TYPE),
            done_transition=read(JIRA_DONE_TRANSITION),
            rules=_rules(read, JIRA, retry, zone),
            resolution=read(JIRA_RESOLUTION),
        )
        if jira_url
        else None,
    )


def _missing(names: list[str], get: Get, unresolved: Unresolved) -> list[str]:
    out = []
    for name in names:
        if get(name):
            continue
        out.append(
            f"{name} (its Key Vault reference did not resolve: check the secret exists and the app's "
            "identity holds Key Vault Secrets User)"
            if unresolved(name)
            else name
        )
    return out


def problems(get: Get, unresolved: Unresolved) -> list[str]:
    """What spans several settings: a channel that is switched on must have all it needs.

    ``get`` gives a setting's text by name (an unresolved secret as None), ``unresolved`` says
    whether a secret's Key Vault reference did not resolve. One sentence per channel at fault."""
    found: list[str] = []
    if get("SERVICENOW_INSTANCE_URL"):
        basic = ["SERVICENOW_USERNAME", "SERVICENOW_PASSWORD"]
        oauth = ["SERVICENOW_CLIENT_ID", "SERVICENOW_CLIENT_SECRET"]
        chosen = oauth if get("SERVICENOW_CLIENT_ID") else basic
        if missing := _missing(chosen, get, unresolved):
            how = "OAuth client credentials" if chosen is oauth else "basic auth"
            found.append(
                f"ServiceNow alerts are on (SERVICENOW_INSTANCE_URL is set) but {how} lacks "
                f"{', '.join(missing)}; set SERVICENOW_USERNAME + SERVICENOW_PASSWORD, or "
                "SERVICENOW_CLIENT_ID + SERVICENOW_CLIENT_SECRET"
            )
    if get("JIRA_BASE_URL"):
        missing = _missing(["JIRA_EMAIL", "JIRA_API_TOKEN", "JIRA_PROJECT_KEY"], get, unresolved)
        if missing:
            found.append(f"Jira alerts are on (JIRA_BASE_URL is set) but {', '.join(missing)} is not set")
    return found
