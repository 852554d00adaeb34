"""Every app setting MTD Guard reads, in one registry, validated once with one message per problem.

Code never calls ``os.environ`` for its own settings anywhere else: the registry is what the
README settings table, the Bicep app settings and the sync test between them are checked against.
"""

from __future__ import annotations

import os
import re
from collections.abc import Callable, Mapping
from dataclasses import dataclass, field
from ipaddress import ip_address
from urllib.parse import urlsplit

from shared.alerting import routing
from shared.alerting import settings as alert_settings
from shared.conditional_access import settings as ca_settings

Validator = Callable[[str], str | None]  # returns a problem sentence, or None when the value is fine


@dataclass(frozen=True)
class SettingSpec:
    name: str
    description: str
    default: str | None = None  # None: no default (required when `required`, else simply unset)
    required: bool = False
    secret: bool = False  # a secret: Key Vault reference in Azure, never logged or returned
    validate: Validator | None = None
    host: bool = False  # also read by the Functions host / Azure SDK itself, not only by our code
    # A secret whose feature is simply off when the vault has no such secret (an optional alert
    # channel): an unresolved Key Vault reference then counts as unset instead of as a problem.
    absent_if_unresolved: bool = False


class SettingsError(Exception):
    """Raised with every problem found, so an operator fixes them all in one go."""

    def __init__(self, problems: list[str]) -> None:
        super().__init__("; ".join(problems))
        self.problems = problems


_GUID = re.compile(r"^[0-9a-fA-F]{8}-([0-9a-fA-F]{4}-){3}[0-9a-fA-F]{12}$")
_DOMAIN = re.compile(r"^[A-Za-z0-9-]+(\.[A-Za-z0-9-]+)+$")
# One NCRONTAB field: *, numbers, ranges, lists and steps, or month/day names (the host accepts them).
_CRON_FIELD = re.compile(
    r"^(\*|[0-9A-Za-z]+(-[0-9A-Za-z]+)?)(/[0-9]+)?(,(\*|[0-9A-Za-z]+(-[0-9A-Za-z]+)?)(/[0-9]+)?)*$"
)


def _tenant_id(value: str) -> str | None:
    if _GUID.match(value) or _DOMAIN.match(value):
        return None
    return f"TENANT_ID {value!r} is neither a tenant GUID nor a domain such as contoso.onmicrosoft.com"


def _ncrontab(name: str) -> Validator:
    def check(value: str) -> str | None:
        fields = value.split()
        if len(fields) != 6 or not all(_CRON_FIELD.match(f) for f in fields):
            return (
                f"{name} {value!r} is not an NCRONTAB expression with six fields "
                "'{second} {minute} {hour} {day} {month} {day-of-week}', e.g. '0 */30 * * * *'"
            )
        return None

    return check


def _is_loopback(host: str) -> bool:
    if host == "localhost":
        return True
    try:
        return ip_address(host).is_loopback
    except ValueError:
        return False


def _url(name: str, *, allow_loopback_http: bool) -> Validator:
    def check(value: str) -> str | None:
        parts = urlsplit(value)
        if parts.scheme == "https" and parts.hostname:
            return None
        if parts.scheme == "http" and parts.hostname and allow_loopback_http:
            if _is_loopback(parts.hostname):
                return None
            return f"{name} {value!r} must use https (plain http is only accepted for a loopback address)"
        return f"{name} {value!r} is not an absolute https:// URL"

    return check


def _int_range(name: str, low: int, high: int) -> Validator:
    def check(value: str) -> str | None:
        try:
            number = int(value)
        except ValueError:
            return f"{name} {value!r} is not a whole number"
        if not low <= number <= high:
            return f"{name} {number} is outside {low}..{high}"
        return None

    return check


def _secret_url(name: str) -> Validator:
    """Like _url, but never repeats the value: a webhook URL with a token in it is a secret."""

    def check(value: str) -> str | None:
        problem = _url(name, allow_loopback_http=True)(value)
        if problem is None:
            return None
        return f"{name} is not an absolute https:// URL (the value is a secret and is not shown)"

    return check


def _channel_routing(prefix: str, channel: str, min_severity: str, *, quiet: bool) -> tuple[SettingSpec, ...]:
    """The routing settings every alert channel has: minimum severity, kinds, quiet hours."""
    specs: tuple[SettingSpec, ...] = (
        SettingSpec(
            f"{prefix}_MIN_SEVERITY",
            f"Lowest severity that opens a conversation on {channel} (high, warning or info). Later "
            "alerts on the same finding always follow, so a recovery reaches where the problem went.",
            default=min_severity,
            validate=lambda v: routing.severity_problem(f"{prefix}_MIN_SEVERITY", v),
        ),
        SettingSpec(
            f"{prefix}_KINDS",
            f"Finding kinds sent to {channel}: '*' or a comma-separated list (heartbeat, graphAccess, ...).",
            default="*",
            validate=lambda v: routing.kinds_problem(f"{prefix}_KINDS", v),
        ),
    )
    if quiet:
        specs += (
            SettingSpec(
                f"{prefix}_QUIET_HOURS",
                f"Daily window HH:MM-HH:MM (ALERT_TIMEZONE) in which info alerts to {channel} are held "
                "and then sent as one digest. Unset: none.",
                validate=lambda v: routing.quiet_hours_problem(f"{prefix}_QUIET_HOURS", v),
            ),
        )
    return specs


SETTINGS: tuple[SettingSpec, ...] = (
    SettingSpec(
        "TENANT_ID",
        "Entra tenant (GUID or verified domain) whose MTD connectors are monitored.",
        required=True,
        validate=_tenant_id,
    ),
    SettingSpec(
        "GRAPH_ENDPOINT",
        "Microsoft Graph root URL; /v1.0 or /beta is appended. A loopback http:// URL "
        "(the Graph simulator) needs no Azure credential.",
        default="https://graph.microsoft.com",
        validate=_url("GRAPH_ENDPOINT", allow_loopback_http=True),
    ),
    SettingSpec(
        "GRAPH_API_VERSION",
        "v1.0 (supported) or beta. v1.0 reports partner states newer than its schema, such as "
        "notSetUp and error, only as unknownFutureValue; beta names them.",
        default="v1.0",
        validate=lambda v: None if v in ("v1.0", "beta") else f"GRAPH_API_VERSION {v!r} is not v1.0 or beta",
    ),
    SettingSpec(
        "HEARTBEAT_SCHEDULE",
        "NCRONTAB schedule of the heartbeat monitor (read by the Functions host).",
        default="0 */30 * * * *",
        validate=_ncrontab("HEARTBEAT_SCHEDULE"),
    ),
    SettingSpec(
        "DEFAULT_THRESHOLD_DAYS",
        "Unresponsive threshold used when a connector reports none (or 0).",
        default="7",
        validate=_int_range("DEFAULT_THRESHOLD_DAYS", 1, 365),
    ),
    SettingSpec(
        "EARLY_WARNING_HOURS",
        "Longest heartbeat age that is still healthy; the warning point is the lesser of this "
        "and half the connector's threshold. 24 h is the documented partner sync interval.",
        default="24",
        validate=_int_range("EARLY_WARNING_HOURS", 1, 24 * 365),
    ),
    SettingSpec(
        "HISTORY_RETENTION_DAYS",
        "How long every observation is kept in the history table.",
        default="90",
        validate=_int_range("HISTORY_RETENTION_DAYS", 1, 3650),
    ),
    # -- Conditional Access drift (README: Classic CA policies: what can and cannot be seen) --
    SettingSpec(
        "CA_DRIFT_SCHEDULE",
        "NCRONTAB schedule of the Conditional Access drift monitor (read by the host). Hourly: a "
        "policy that stops enforcing MTD is high severity, and a run costs two or three Graph calls.",
        default=ca_settings.DEFAULTS["CA_DRIFT_SCHEDULE"],
        validate=_ncrontab("CA_DRIFT_SCHEDULE"),
    ),
    SettingSpec(
        "CA_CLASSIC_SOURCE",
        "Where changes to classic CA policies come from: audit (read the directory audit log; needs "
        "AuditLog.Read.All) or import (only inventories PUT to /api/ca/classic-baseline are compared).",
        default=ca_settings.DEFAULTS["CA_CLASSIC_SOURCE"],
        validate=lambda v: (
            None if v in ca_settings.SOURCES else f"CA_CLASSIC_SOURCE {v!r} is not one of audit, import"
        ),
    ),
    SettingSpec(
        "AUDIT_LOG_RETENTION_DAYS",
        "How many days Entra ID keeps directory audit events (30 with Entra ID P1/P2, 7 with Free). "
        "A monitor that has not read the log for longer says it may have missed changes.",
        default=ca_settings.DEFAULTS["AUDIT_LOG_RETENTION_DAYS"],
        validate=_int_range("AUDIT_LOG_RETENTION_DAYS", 1, 30),
    ),
    SettingSpec(
        "CA_AUDIT_OVERLAP_MINUTES",
        "Each audit-log read starts this long before the previous one ended, for events Entra ID "
        "logs late; events already processed are skipped by id.",
        default=ca_settings.DEFAULTS["CA_AUDIT_OVERLAP_MINUTES"],
        validate=_int_range("CA_AUDIT_OVERLAP_MINUTES", 0, 1440),
    ),
    SettingSpec(
        "CA_AUDIT_SERVICES",
        "Comma-separated loggedByService values whose audit events can be classic-policy changes "
        "(* = any). Unconfirmed by Microsoft: configurable.",
        default=ca_settings.DEFAULTS["CA_AUDIT_SERVICES"],
        validate=ca_settings.list_problem("CA_AUDIT_SERVICES"),
    ),
    SettingSpec(
        "CA_AUDIT_CATEGORIES",
        "Comma-separated audit categories that can hold classic-policy changes (* = any).",
        default=ca_settings.DEFAULTS["CA_AUDIT_CATEGORIES"],
        validate=ca_settings.list_problem("CA_AUDIT_CATEGORIES"),
    ),
    SettingSpec(
        "CA_AUDIT_ACTIVITIES",
        "Comma-separated 'activity name=change' pairs; change is added, modified, disabled or deleted.",
        default=ca_settings.DEFAULTS["CA_AUDIT_ACTIVITIES"],
        validate=ca_settings.activities_problem,
    ),
    SettingSpec(
        "CA_CLASSIC_NAME_PATTERNS",
        "Comma-separated, case-insensitive glob patterns of classic MTD policy names (for policies not "
        "yet in the baseline); @partners = any MTD partner name, 'Mobile Threat Defense' or 'MTD'.",
        default=ca_settings.DEFAULTS["CA_CLASSIC_NAME_PATTERNS"],
        validate=ca_settings.patterns_problem,
    ),
    SettingSpec(
        "CA_CLASSIC_POLICY_TYPE",
        "Optional 'Property=value|value': a modified property (or key inside its JSON) that marks a "
        "classic policy, e.g. PolicyType=18. Unset: not used (the value classic policies carry is "
        "undocumented).",
        validate=ca_settings.rule_problem("CA_CLASSIC_POLICY_TYPE"),
    ),
    SettingSpec(
        "CA_CLASSIC_DISABLED_WHEN",
        "'Property=value|value' that, found in an update's new values and not its old ones, makes the "
        "update a disable (searched inside the modified properties' JSON).",
        default=ca_settings.DEFAULTS["CA_CLASSIC_DISABLED_WHEN"],
        validate=ca_settings.rule_problem("CA_CLASSIC_DISABLED_WHEN"),
    ),
    SettingSpec(
        "AzureWebJobsStorage",
        "Storage connection string (local runs: Azurite). In Azure use the identity-based "
        "AzureWebJobsStorage__tableServiceUri instead.",
        host=True,
    ),
    SettingSpec(
        "AzureWebJobsStorage__tableServiceUri",
        "Table service URI for identity-based storage access in Azure (managed identity).",
        host=True,
        validate=_url("AzureWebJobsStorage__tableServiceUri", allow_loopback_http=True),
    ),
    SettingSpec(
        "AZURE_CLIENT_ID",
        "Client id of the user-assigned managed identity used for Graph and storage in Azure.",
        host=True,
    ),
    SettingSpec(
        "REQUIRE_ENTRA_ROLE",
        "true: HTTP callers must also present the Entra app role MtdGuard.Reader (reads) or "
        "MtdGuard.Operator (changes), via App Service authentication. Only with Easy Auth enabled.",
        default="false",
        validate=lambda v: (
            None if v.lower() in ("true", "false") else f"REQUIRE_ENTRA_ROLE {v!r} is not true or false"
        ),
    ),
    SettingSpec(
        "JIRA_WEBHOOK_SECRET",
        "Set: every POST /api/hooks/jira must carry X-Hub-Signature: sha256=<HMAC-SHA256 of the raw "
        "body> with this secret (Jira admin webhooks sign so), else 401. Unset: no signature check "
        "(function key and Entra role still apply).",
        secret=True,
        absent_if_unresolved=True,  # optional: a deployment without Jira has no such secret
    ),
    SettingSpec(
        "ALERT_WEBHOOK_URL",
        "Where alerts are POSTed as JSON. Unset: alerts stay recorded in the outbox only.",
        validate=_url("ALERT_WEBHOOK_URL", allow_loopback_http=True),
    ),
    SettingSpec(
        "ALERT_WEBHOOK_SECRET",
        "Key for the HMAC-SHA256 X-MtdGuard-Signature header of webhook alerts.",
        secret=True,
        # Bicep always sets its Key Vault reference; with no secret in the vault, alerts go out
        # unsigned (a verifying receiver refuses them, which shows as a dead letter finding)
        # rather than the whole app, heartbeat monitoring included, refusing to start.
        absent_if_unresolved=True,
    ),
    # -- alert delivery and channels (README: Alerts) --
    SettingSpec(
        "ALERT_OUTBOX_SCHEDULE",
        "NCRONTAB schedule of the alert outbox: retries, digests after quiet hours (read by the host).",
        default="0 */5 * * * *",
        validate=_ncrontab("ALERT_OUTBOX_SCHEDULE"),
    ),
    SettingSpec(
        "ALERT_MAX_ATTEMPTS",
        "Attempts per alert and channel before it is dead-lettered (which raises an alertDelivery finding).",
        default="10",
        validate=_int_range("ALERT_MAX_ATTEMPTS", 1, 100),
    ),
    SettingSpec(
        "ALERT_RETRY_BASE_MINUTES",
        "Backoff: a failed alert is retried on the next run, then after this many minutes, doubling "
        "each time up to 6 hours.",
        default="5",
        validate=_int_range("ALERT_RETRY_BASE_MINUTES", 1, 360),
    ),
    SettingSpec(
        "ALERT_TIMEZONE",
        "IANA time zone of the quiet hours, e.g. Europe/Berlin.",
        default="UTC",
        validate=lambda v: routing.zone_problem("ALERT_TIMEZONE", v),
    ),
    *_channel_routing("ALERT_WEBHOOK", "the generic webhook", "info", quiet=True),
    SettingSpec(
        "TEAMS_WEBHOOK_URL",
        "Microsoft Teams: the HTTP URL of a Workflows 'When a Teams webhook request is received' "
        "trigger (it embeds a signature). Unset: no Teams alerts.",
        secret=True,
        absent_if_unresolved=True,
        validate=_secret_url("TEAMS_WEBHOOK_URL"),
    ),
    *_channel_routing("TEAMS", "Teams", "info", quiet=True),
    SettingSpec(
        "SERVICENOW_INSTANCE_URL",
        "ServiceNow instance, e.g. https://contoso.service-now.com. Set: incidents are opened, "
        "work-noted and resolved through the Table API.",
        validate=_url("SERVICENOW_INSTANCE_URL", allow_loopback_http=True),
    ),
    SettingSpec("SERVICENOW_USERNAME", "ServiceNow integration user (basic auth)."),
    SettingSpec(
        "SERVICENOW_PASSWORD",
        "Password of SERVICENOW_USERNAME.",
        secret=True,
        absent_if_unresolved=True,
    ),
    SettingSpec(
        "SERVICENOW_CLIENT_ID",
        "OAuth client id (Application Registry, client credentials grant); set: used instead of basic auth.",
    ),
    SettingSpec(
        "SERVICENOW_CLIENT_SECRET",
        "OAuth client secret of SERVICENOW_CLIENT_ID.",
        secret=True,
        absent_if_unresolved=True,
    ),
    SettingSpec(
        "SERVICENOW_ASSIGNMENT_GROUP",
        "Assignment group (name or sys_id) of new incidents. Unset: the instance's assignment rules decide.",
    ),
    SettingSpec(
        "SERVICENOW_CLOSE_CODE",
        "Resolution code set when a finding recovers (a choice of the incident close_code field).",
        default="Solution provided",
    ),
    *_channel_routing("SERVICENOW", "ServiceNow", "warning", quiet=False),
    SettingSpec(
        "JIRA_BASE_URL",
        "Jira Cloud site (https://contoso.atlassian.net) or, for a scoped API token, "
        "https://api.atlassian.com/ex/jira/<cloudId>. Set: issues are opened, commented and transitioned.",
        validate=_url("JIRA_BASE_URL", allow_loopback_http=True),
    ),
    SettingSpec("JIRA_EMAIL", "Atlassian account email of the API token's owner."),
    SettingSpec(
        "JIRA_API_TOKEN",
        "Atlassian API token (basic auth with JIRA_EMAIL).",
        secret=True,
        absent_if_unresolved=True,
    ),
    SettingSpec(
        "JIRA_PROJECT_KEY",
        "Key of the project issues are created in, e.g. SEC.",
        validate=lambda v: (
            None
            if re.fullmatch(r"[A-Z][A-Z0-9_]{1,9}", v)
            else f"JIRA_PROJECT_KEY {v!r} is not a Jira project key (upper-case letters and digits, e.g. SEC)"
        ),
    ),
    SettingSpec("JIRA_ISSUE_TYPE", "Issue type name of new issues.", default="Task"),
    SettingSpec(
        "JIRA_DONE_TRANSITION",
        "Name of the workflow transition applied when a finding recovers.",
        default="Done",
    ),
    *_channel_routing("JIRA", "Jira", "warning", quiet=False),
)

_BY_NAME = {spec.name: spec for spec in SETTINGS}


def raw(name: str, env: Mapping[str, str] | None = None) -> str | None:
    """The value of a registered setting, its default when unset or blank."""
    spec = _BY_NAME[name]  # KeyError on purpose: reading an unregistered setting is a bug
    value = (os.environ if env is None else env).get(name, "").strip()
    return value or spec.default


_KEY_VAULT_REFERENCE = "@Microsoft.KeyVault("


def unresolved_reference(name: str, env: Mapping[str, str] | None = None) -> bool:
    """A secret still set to its Key Vault reference: App Service could not resolve it (no such
    secret, or no access) and passed the reference text through instead of the value."""
    value = raw(name, env)
    return _BY_NAME[name].secret and value is not None and value.startswith(_KEY_VAULT_REFERENCE)


def secret(name: str, env: Mapping[str, str] | None = None) -> str | None:
    """A secret setting's value; an unresolved Key Vault reference counts as unset (problems()
    reports it unless the spec is ``absent_if_unresolved``)."""
    return None if unresolved_reference(name, env) else raw(name, env)


def _alert_reader(env: Mapping[str, str] | None) -> alert_settings.Get:
    return lambda name: secret(name, env) if _BY_NAME[name].secret else raw(name, env)


def problems(env: Mapping[str, str] | None = None) -> list[str]:
    """Every problem with the current settings, one readable sentence each."""
    found: list[str] = []
    for spec in SETTINGS:
        value = raw(spec.name, env)
        if value is None:
            if spec.required:
                found.append(f"{spec.name} is not set: {spec.description}")
            continue
        if spec.absent_if_unresolved and unresolved_reference(spec.name, env):
            continue  # counts as unset; alert_settings.problems says so where it matters
        if value.startswith("@Microsoft.KeyVault("):
            # App Service leaves the reference text in place when it cannot resolve it; used as is,
            # it would become e.g. the HMAC key. The platform never shows resolved values as this.
            found.append(
                f"{spec.name} is an unresolved Key Vault reference: create the secret in the vault "
                "and check the app's identity holds 'Key Vault Secrets User'"
            )
            continue
        if spec.validate and (problem := spec.validate(value)):
            found.append(problem)
    found += alert_settings.problems(_alert_reader(env), lambda name: unresolved_reference(name, env))
    if not raw("AzureWebJobsStorage", env) and not raw("AzureWebJobsStorage__tableServiceUri", env):
        found.append(
            "No state storage: set AzureWebJobsStorage (a connection string, e.g. Azurite's) "
            "or AzureWebJobsStorage__tableServiceUri (managed identity)"
        )
    return found


def require_entra_role(env: Mapping[str, str] | None = None) -> bool:
    """Read on every request without building the app's services (cheap, and works for 401s)."""
    return (raw("REQUIRE_ENTRA_ROLE", env) or "false").lower() == "true"


@dataclass(frozen=True)
class Settings:
    tenant_id: str
    graph_endpoint: str
    graph_api_version: str
    heartbeat_schedule: str
    default_threshold_days: int
    early_warning_hours: int
    history_retention_days: int
    alert_webhook_url: str | None
    alert_webhook_secret: str | None
    storage_connection_string: str | None
    table_service_uri: str | None
    managed_identity_client_id: str | None
    alerting: alert_settings.AlertSettings = field(default_factory=alert_settings.AlertSettings)
    jira_webhook_secret: str | None = None  # never logged or returned
    ca: ca_settings.CaDriftSettings = field(default_factory=ca_settings.CaDriftSettings)

    @property
    def graph_is_loopback(self) -> bool:
        parts = urlsplit(self.graph_endpoint)
        return parts.scheme == "http" and _is_loopback(parts.hostname or "")


def load(env: Mapping[str, str] | None = None) -> Settings:
    """Settings from the environment; raises SettingsError listing every problem."""
    if found := problems(env):
        raise SettingsError(found)

    def get(name: str) -> str:
        value = raw(name, env)
        assert value is not None  # required or defaulted, checked by problems()
        return value

    return Settings(
        tenant_id=get("TENANT_ID"),
        graph_endpoint=get("GRAPH_ENDPOINT").rstrip("/"),
        graph_api_version=get("GRAPH_API_VERSION"),
        heartbeat_schedule=get("HEARTBEAT_SCHEDULE"),
        default_threshold_days=int(get("DEFAULT_THRESHOLD_DAYS")),
        early_warning_hours=int(get("EARLY_WARNING_HOURS")),
        history_retention_days=int(get("HISTORY_RETENTION_DAYS")),
        alert_webhook_url=raw("ALERT_WEBHOOK_URL", env),
        alert_webhook_secret=secret("ALERT_WEBHOOK_SECRET", env),
        storage_connection_string=raw("AzureWebJobsStorage", env),
        table_service_uri=raw("AzureWebJobsStorage__tableServiceUri", env),
        managed_identity_client_id=raw("AZURE_CLIENT_ID", env),
        alerting=alert_settings.load(_alert_reader(env)),
        jira_webhook_secret=secret("JIRA_WEBHOOK_SECRET", env),
        ca=ca_settings.load(lambda name: raw(name, env)),
    )
