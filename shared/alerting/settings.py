"""The alert channels' configuration, read from the registered settings in ``shared.settings``.

``shared.settings`` owns the registry (names, descriptions, defaults, per-value validators); this
module turns the values into one ``AlertSettings`` and checks what spans several settings: a
channel is on when its URL is set, and then everything it needs must be set too, or the app says
so at start instead of failing at 3 a.m. on the first alert.

A secret whose Key Vault reference did not resolve reaches the app as the literal reference
string; it counts as unset here (the reader passes ``None``), and the problem says why.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass, field
from datetime import timedelta

from shared.alerting.routing import ChannelRules, RetryPolicy, Route, parse_kinds, parse_quiet_hours
from shared.findings.model import Severity

Get = Callable[[str], str | None]  # a setting's value (default applied), None when unset
Unresolved = Callable[[str], bool]  # a secret set to a Key Vault reference that did not resolve


@dataclass(frozen=True)
class TeamsConfig:
    webhook_url: str = field(repr=False)  # carries the workflow's signature: a secret
    rules: ChannelRules


@dataclass(frozen=True)
class ServiceNowConfig:
    instance_url: str
    username: str | None
    password: str | None = field(repr=False)
    client_id: str | None
    client_secret: str | None = field(repr=False)
    assignment_group: str | None
    close_code: str
    rules: ChannelRules

    @property
    def oauth(self) -> bool:
        """OAuth client credentials when a client id is set, else basic auth."""
        return bool(self.client_id)


@dataclass(frozen=True)
class JiraConfig:
    base_url: str
    email: str
    api_token: str = field(repr=False)
    project_key: str
    issue_type: str
    done_transition: str
    rules: ChannelRules


@dataclass(frozen=True)
class AlertSettings:
    outbox_schedule: str = "0 */5 * * * *"
    timezone: str = "UTC"
    retry: RetryPolicy = field(default_factory=RetryPolicy)
    webhook: ChannelRules = field(default_factory=ChannelRules)
    teams: TeamsConfig | None = None
    servicenow: ServiceNowConfig | None = None
    jira: JiraConfig | None = None


def _rules(get: Get, prefix: str, retry: RetryPolicy, zone: str, *, tickets: bool) -> ChannelRules:
    quiet = None if tickets else get(f"{prefix}_QUIET_HOURS")
    return ChannelRules(
        route=Route(
            Severity((get(f"{prefix}_MIN_SEVERITY") or "info").lower()),
            parse_kinds(get(f"{prefix}_KINDS") or "*"),
        ),
        quiet_hours=parse_quiet_hours(quiet, zone) if quiet else None,
        retry=retry,
        tickets=tickets,
    )


def load(get: Get) -> AlertSettings:
    """Call only after ``problems`` found nothing: values are assumed valid."""
    zone = get("ALERT_TIMEZONE") or "UTC"
    retry = RetryPolicy(
        max_attempts=int(get("ALERT_MAX_ATTEMPTS") or 10),
        base=timedelta(minutes=int(get("ALERT_RETRY_BASE_MINUTES") or 5)),
    )
    teams_url = get("TEAMS_WEBHOOK_URL")
    sn_url = get("SERVICENOW_INSTANCE_URL")
    jira_url = get("JIRA_BASE_URL")
    return AlertSettings(
        outbox_schedule=get("ALERT_OUTBOX_SCHEDULE") or "0 */5 * * * *",
        timezone=zone,
        retry=retry,
        webhook=_rules(get, "ALERT_WEBHOOK", retry, zone, tickets=False),
        teams=TeamsConfig(teams_url, _rules(get, "TEAMS", retry, zone, tickets=False)) if teams_url else None,
        servicenow=ServiceNowConfig(
            instance_url=sn_url.rstrip("/"),
            username=get("SERVICENOW_USERNAME"),
            password=get("SERVICENOW_PASSWORD"),
            client_id=get("SERVICENOW_CLIENT_ID"),
            client_secret=get("SERVICENOW_CLIENT_SECRET"),
            assignment_group=get("SERVICENOW_ASSIGNMENT_GROUP"),
            close_code=get("SERVICENOW_CLOSE_CODE") or "Solution provided",
            rules=_rules(get, "SERVICENOW", retry, zone, tickets=True),
        )
        if sn_url
        else None,
        jira=JiraConfig(
            base_url=jira_url.rstrip("/"),
            email=get("JIRA_EMAIL") or "",
            api_token=get("JIRA_API_TOKEN") or "",
            project_key=get("JIRA_PROJECT_KEY") or "",
            issue_type=get("JIRA_ISSUE_TYPE") or "Task",
            done_transition=get("JIRA_DONE_TRANSITION") or "Done",
            rules=_rules(get, "JIRA", retry, zone, tickets=True),
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
    """What spans several settings: a channel that is switched on must have all it needs."""
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
