"""Every app setting MTD Guard reads, in one registry, validated once with one message per problem.

Each capability declares its own settings (``shared/<capability>/settings.py``, built from
``shared.setting_spec``); the kernel's own (tenant, Graph, storage, identity, Entra roles) are
here. ``SETTINGS`` is their concatenation, and is what the docs/settings.md table
(scripts/settings_doc.py), the Bicep app settings and the sync test between them
(tests/infra/test_settings_sync.py) are checked against.

Code never calls ``os.environ`` for its own settings anywhere else. Importing this module loads the
capabilities' settings specs only, not their rules (those are imported when a value is checked).
"""

from __future__ import annotations

import os
import re
from collections.abc import Mapping
from dataclasses import dataclass
from typing import Any
from urllib.parse import urlsplit

from shared.alerting import settings as alert_settings
from shared.conditional_access import settings as ca_settings
from shared.configure import settings as configure_settings
from shared.heartbeat import settings as heartbeat_settings
from shared.setting_spec import (
    Reader,
    SettingProblem,
    SettingSpec,
    boolean,
    choice,
    integer,
    is_loopback,
    text,
    url,
)
from shared.tickets import settings as ticket_settings

__all__ = ["SETTINGS", "SettingSpec", "Settings", "SettingsError", "load", "problems", "raw", "secret"]


class SettingsError(Exception):
    """Raised with every problem found, so an operator fixes them all in one go."""

    def __init__(self, problems: list[str]) -> None:
        super().__init__("; ".join(problems))
        self.problems = problems


_GUID = re.compile(r"^[0-9a-fA-F]{8}-([0-9a-fA-F]{4}-){3}[0-9a-fA-F]{12}$")
_DOMAIN = re.compile(r"^[A-Za-z0-9-]+(\.[A-Za-z0-9-]+)+$")


def _tenant_id(name: str, value: str) -> str:
    """A tenant GUID or a domain such as contoso.onmicrosoft.com, as set."""
    if _GUID.match(value) or _DOMAIN.match(value):
        return value
    raise SettingProblem(
        f"{name} {value!r} is neither a tenant GUID nor a domain such as contoso.onmicrosoft.com"
    )


TENANT_ID = SettingSpec(
    "TENANT_ID",
    "Entra tenant (GUID or verified domain) whose MTD connectors are monitored.",
    _tenant_id,
    required=True,
)
GRAPH_ENDPOINT = SettingSpec(
    "GRAPH_ENDPOINT",
    "Microsoft Graph root URL; /v1.0 or /beta is appended. A loopback http:// URL "
    "(the Graph simulator) needs no Azure credential.",
    url(allow_loopback_http=True),
    default="https://graph.microsoft.com",
)
GRAPH_API_VERSION = SettingSpec(
    "GRAPH_API_VERSION",
    "v1.0 (supported) or beta. v1.0 names the partner states notSetUp and error; a state newer "
    "than its schema (such as beta's neverConfigured) arrives as unknownFutureValue, which beta "
    "names. The mac* and Windows app protection settings exist only on beta.",
    choice("v1.0", "beta"),
    default="v1.0",
)
STORAGE_CONNECTION_STRING = SettingSpec(
    "AzureWebJobsStorage",
    "Storage connection string (local runs: Azurite). In Azure use the identity-based "
    "AzureWebJobsStorage__tableServiceUri instead.",
    text,
    host=True,
)
TABLE_SERVICE_URI = SettingSpec(
    "AzureWebJobsStorage__tableServiceUri",
    "Table service URI for identity-based storage access in Azure (managed identity).",
    url(allow_loopback_http=True),
    host=True,
)
AZURE_CLIENT_ID = SettingSpec(
    "AZURE_CLIENT_ID",
    "Client id of the user-assigned managed identity used for Graph and storage in Azure.",
    text,
    host=True,
)
REQUIRE_ENTRA_ROLE = SettingSpec(
    "REQUIRE_ENTRA_ROLE",
    "true: HTTP callers must also present the Entra app role MtdGuard.Reader (reads) or "
    "MtdGuard.Operator (changes), via App Service authentication. Only with Easy Auth enabled.",
    boolean,
    default="false",
)
TIMER_BUDGET_SECONDS = SettingSpec(
    "TIMER_BUDGET_SECONDS",
    "Time budget of one timer run (sweep, drift check, outbox), Graph, storage and alert channels "
    "included; well inside host.json's functionTimeout (10 min). What does not fit is left to the "
    "next run.",
    integer(5, 540),
    default="300",
)
HTTP_BUDGET_SECONDS = SettingSpec(
    "HTTP_BUDGET_SECONDS",
    "Time budget of one HTTP request, Graph, storage and alert channels included; well inside the "
    "about 230 s Azure's front end waits for an answer.",
    integer(3, 200),
    default="150",
)

SETTINGS: tuple[SettingSpec[Any], ...] = (
    TENANT_ID,
    GRAPH_ENDPOINT,
    GRAPH_API_VERSION,
    *heartbeat_settings.SPECS,
    # -- Conditional Access drift (docs/conditional-access.md) --
    *ca_settings.SPECS,
    # -- connector configuration: baselines and drift (docs/drift.md) --
    *configure_settings.SPECS,
    STORAGE_CONNECTION_STRING,
    TABLE_SERVICE_URI,
    AZURE_CLIENT_ID,
    REQUIRE_ENTRA_ROLE,
    TIMER_BUDGET_SECONDS,
    HTTP_BUDGET_SECONDS,
    *ticket_settings.SPECS,
    # -- alert delivery and channels (docs/alerts.md) --
    *alert_settings.SPECS,
)

_BY_NAME = {spec.name: spec for spec in SETTINGS}


def raw(name: str, env: Mapping[str, str] | None = None) -> str | None:
    """The text of a registered setting (blanks stripped), its default when unset or blank; None
    when neither. ``env`` defaults to ``os.environ``. KeyError for an unregistered name."""
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
    """A setting's text like ``raw``, except that a secret's unresolved Key Vault reference counts
    as unset (problems() reports it unless the spec is ``absent_if_unresolved``)."""
    return None if unresolved_reference(name, env) else raw(name, env)


def _reader(env: Mapping[str, str] | None) -> Reader:
    return Reader(lambda spec: secret(spec.name, env))


def problems(env: Mapping[str, str] | None = None) -> list[str]:
    """Every problem with the current settings (``env``, default ``os.environ``), one readable
    sentence each, in registry order, then those spanning several settings. Never raises."""
    found: list[str] = []
    for spec in SETTINGS:
        value = raw(spec.name, env)
        if value is None:
            if spec.required:
                found.append(f"{spec.name} is not set: {spec.description}")
            continue
        if spec.absent_if_unresolved and unresolved_reference(spec.name, env):
            continue  # counts as unset; alert_settings.problems says so where it matters
        if value.startswith(_KEY_VAULT_REFERENCE):
            # App Service leaves the reference text in place when it cannot resolve it; used as is,
            # it would become e.g. the HMAC key. The platform never shows resolved values as this.
            found.append(
                f"{spec.name} is an unresolved Key Vault reference: create the secret in the vault "
                "and check the app's identity holds 'Key Vault Secrets User'"
            )
            continue
        if problem := spec.problem(value):
            found.append(problem)
    found += alert_settings.problems(
        lambda name: secret(name, env), lambda name: unresolved_reference(name, env)
    )
    if not raw(STORAGE_CONNECTION_STRING.name, env) and not raw(TABLE_SERVICE_URI.name, env):
        found.append(
            "No state storage: set AzureWebJobsStorage (a connection string, e.g. Azurite's) "
            "or AzureWebJobsStorage__tableServiceUri (managed identity)"
        )
    return found


def require_entra_role(env: Mapping[str, str] | None = None) -> bool:
    """Whether HTTP callers need an Entra app role. Read on every request without building the
    app's services (cheap, and works for 401s); a value other than true/false counts as false
    (problems() reports it)."""
    return (raw(REQUIRE_ENTRA_ROLE.name, env) or "").lower() == "true"


def time_budget(spec: SettingSpec[int], env: Mapping[str, str] | None = None) -> int:
    """Seconds of TIMER_BUDGET_SECONDS or HTTP_BUDGET_SECONDS, read per invocation without building
    the app's services (a misconfigured app still gets a bounded answer); an invalid value counts
    as the default (problems() reports it)."""
    try:
        return spec.read(raw(spec.name, env) or "")
    except SettingProblem:
        return spec.read(spec.default or "")


# Set by the platform, not by us: App Service (and Functions) inject it into the app's environment
# when App Service authentication is on, with the value "True" (Microsoft.Identity.Web reads the same
# variable for the same purpose). Not a registered setting: an operator never sets it.
PLATFORM_AUTH_VARIABLE = "WEBSITE_AUTH_ENABLED"


def platform_authentication(env: Mapping[str, str] | None = None) -> bool:
    """Whether App Service authentication (Easy Auth) is on, as the platform says: only then are
    the ``X-MS-CLIENT-PRINCIPAL*`` headers the platform's own (it strips client-sent copies)."""
    return (os.environ if env is None else env).get(PLATFORM_AUTH_VARIABLE, "").strip().lower() == "true"


def authentication_problem(env: Mapping[str, str] | None = None) -> str | None:
    """The sentence saying REQUIRE_ENTRA_ROLE=true is set without App Service authentication in
    front of the app (every protected route then refuses: any caller could forge the principal);
    None otherwise. Kept out of ``problems()``: the timers do not need it and keep running."""
    if not require_entra_role(env) or platform_authentication(env):
        return None
    return (
        f"REQUIRE_ENTRA_ROLE is true but App Service authentication is off ({PLATFORM_AUTH_VARIABLE} "
        "is not True): the principal headers could be forged, so protected routes refuse every call; "
        "turn App Service authentication on (docs/deploy.md) or set REQUIRE_ENTRA_ROLE=false"
    )


@dataclass(frozen=True)
class Settings:
    """The app's typed settings (``load``). Days and hours are whole numbers; URLs carry no
    trailing '/' where noted; secrets are None when unset or their reference did not resolve."""

    tenant_id: str
    graph_endpoint: str  # no trailing '/'
    graph_api_version: str
    heartbeat_schedule: str
    default_threshold_days: int
    early_warning_hours: int
    history_retention_days: int
    graph_transient_grace_minutes: int
    alert_webhook_url: str | None
    alert_webhook_secret: str | None
    storage_connection_string: str | None
    table_service_uri: str | None
    managed_identity_client_id: str | None
    alerting: alert_settings.AlertSettings
    jira_webhook_secret: str | None  # never logged or returned
    ca: ca_settings.CaDriftSettings
    configure: configure_settings.ConfigureSettings

    @property
    def graph_is_loopback(self) -> bool:
        """Graph is the local simulator (http:// on a loopback host): no Azure credential needed."""
        parts = urlsplit(self.graph_endpoint)
        return parts.scheme == "http" and is_loopback(parts.hostname or "")


def load(env: Mapping[str, str] | None = None) -> Settings:
    """Settings from ``env`` (default ``os.environ``); raises SettingsError listing every problem."""
    if found := problems(env):
        raise SettingsError(found)
    read = _reader(env)
    return Settings(
        tenant_id=read(TENANT_ID),
        graph_endpoint=read(GRAPH_ENDPOINT).rstrip("/"),
        graph_api_version=read(GRAPH_API_VERSION),
        heartbeat_schedule=read(heartbeat_settings.SCHEDULE),
        default_threshold_days=read(heartbeat_settings.DEFAULT_THRESHOLD_DAYS),
        early_warning_hours=read(heartbeat_settings.EARLY_WARNING_HOURS),
        history_retention_days=read(heartbeat_settings.HISTORY_RETENTION_DAYS),
        graph_transient_grace_minutes=read(heartbeat_settings.GRAPH_TRANSIENT_GRACE_MINUTES),
        alert_webhook_url=read.optional(alert_settings.WEBHOOK_URL),
        alert_webhook_secret=read.optional(alert_settings.WEBHOOK_SECRET),
        storage_connection_string=read.optional(STORAGE_CONNECTION_STRING),
        table_service_uri=read.optional(TABLE_SERVICE_URI),
        managed_identity_client_id=read.optional(AZURE_CLIENT_ID),
        alerting=alert_settings.load(read),
        jira_webhook_secret=read.optional(ticket_settings.JIRA_WEBHOOK_SECRET),
        ca=ca_settings.load(read),
        configure=configure_settings.load(read),
    )
