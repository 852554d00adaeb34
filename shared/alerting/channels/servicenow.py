"""ServiceNow incidents through the Table API: one incident per finding episode.

- First alert on a finding: look the alert id up in ``correlation_id`` (a retry after a lost answer
  finds the incident it already opened), else ``POST /api/now/table/incident``.
- Later alerts while the finding is open: ``PATCH`` the incident with a work note. If a person has
  closed or cancelled it meanwhile, a new incident is opened instead.
- The alert that resolves the finding: ``PATCH`` state 6 (Resolved) with ``close_code`` and
  ``close_notes``, which the incident's data policy requires; an incident already resolved, closed
  or cancelled is left as it is.

Authentication: basic auth (integration user) or OAuth client credentials (``/oauth_token.do``),
the bearer token kept until shortly before it expires.
"""

from __future__ import annotations

import time
from typing import TYPE_CHECKING, Any
from urllib.parse import quote

from shared.alerting.channels import render
from shared.alerting.channels.base import DeliveryError, HttpTarget, Ticket
from shared.findings.model import Severity

if TYPE_CHECKING:
    from shared.alerting.alerts import Alert, Thread
    from shared.alerting.settings import ServiceNowConfig

TABLE = "/api/now/table/incident"
FIELDS = "sys_id,number,state"
RESOLVED, CLOSED, CANCELED = "6", "7", "8"
GONE = "gone"  # deleted, or no longer readable by the integration user
# Urgency and impact (1 high .. 3 low); the instance's priority lookup makes 1/2 -> 2 High,
# 2/2 -> 3 Moderate, 3/3 -> 5 Planning.
URGENCY_IMPACT = {Severity.HIGH: ("1", "2"), Severity.WARNING: ("2", "2"), Severity.INFO: ("3", "3")}


def _error(body: Any) -> str | None:
    if not isinstance(body, dict):
        return None
    error = body.get("error")
    if isinstance(error, dict):
        parts = [str(error.get(k)) for k in ("message", "detail") if error.get(k)]
        return ": ".join(parts) or None
    if isinstance(error, str):  # oauth_token.do
        return str(body.get("error_description") or error)
    return None


class ServiceNowChannel:
    """The ServiceNow channel: one incident per finding episode, updated with work notes and
    resolved (state 6) by the later alerts of the episode. See the module docstring."""

    name = "servicenow"

    def __init__(self, config: ServiceNowConfig) -> None:
        self._config = config
        self.rules = config.rules
        self._http = HttpTarget(
            "servicenow",
            config.instance_url,
            secrets=[config.password, config.client_secret],
            detail=_error,
        )
        self._token: tuple[str, float] | None = None  # bearer token, monotonic expiry

    # -- authentication --

    def _auth_headers(self) -> dict[str, str]:
        if not self._config.oauth:
            return {}
        if self._token is None or self._token[1] <= time.monotonic():
            response = self._http.request(
                "POST",
                "/oauth_token.do",
                "get an OAuth token",
                data={
                    "grant_type": "client_credentials",
                    "client_id": self._config.client_id or "",
                    "client_secret": self._config.client_secret or "",
                },
                headers={"Accept": "application/json"},
            )
            data = HttpTarget.json(response, "get an OAuth token", self.name)
            token = data.get("access_token") if isinstance(data, dict) else None
            if not token:
                raise DeliveryError("servicenow: the OAuth answer has no access_token")
            lifetime = float(data.get("expires_in") or 1800)
            self._token = (str(token), time.monotonic() + max(lifetime - 60, 30))
        return {"Authorization": f"Bearer {self._token[0]}"}

    def _call(self, method: str, path: str, what: str, **kwargs: Any) -> dict[str, Any]:
        headers = {"Accept": "application/json", **self._auth_headers()}
        if "json" in kwargs:
            headers["Content-Type"] = "application/json"
        auth = None if self._config.oauth else (self._config.username or "", self._config.password or "")
        try:
            response = self._http.request(method, path, what, headers=headers, auth=auth, **kwargs)
        except DeliveryError as exc:
            if self._config.oauth and exc.status == 401:
                self._token = None  # revoked or expired early: the next attempt gets a new one
            raise
        data = HttpTarget.json(response, what, self.name)
        result = data.get("result") if isinstance(data, dict) else None
        if not isinstance(result, dict | list):
            raise DeliveryError(f"servicenow: {what}: the answer has no result")
        return {"items": result} if isinstance(result, list) else result

    # -- the ticket's life --

    def send(self, alert: Alert, thread: Thread | None) -> Ticket:
        """Open an incident for a new episode (or find the one a lost answer opened); on an open
        ``thread``, add a work note to its incident, or resolve it when the alert resolves the finding.

        An incident a person closed or cancelled (or deleted) gets no note: a new incident is opened
        instead. Returns the incident (sys_id, number, ``nav_to.do`` URL). Raises ``DeliveryError`` on any
        failed call or an answer without ``result``/``sys_id``; a 401 under OAuth also drops the cached
        token so the next attempt asks for a new one.
        """
        if thread is not None and thread.open and thread.ticket_id:
            current = self._state(thread.ticket_id)
            if alert.resolves_finding:
                if current not in (RESOLVED, CLOSED, CANCELED, GONE):
                    self._resolve(thread.ticket_id, alert)
                return Ticket(thread.ticket_id, thread.ticket_key or "", thread.ticket_url)
            if current not in (CLOSED, CANCELED, GONE):
                self._call(
                    "PATCH",
                    f"{TABLE}/{quote(thread.ticket_id)}",
                    "add a work note",
                    params={"sysparm_fields": FIELDS},
                    json={"work_notes": render.plain_text(alert, "MTD Guard: the finding changed.")},
                )
                return Ticket(thread.ticket_id, thread.ticket_key or "", thread.ticket_url)
        return self._open(alert)

    def _ticket(self, record: dict[str, Any]) -> Ticket:
        sys_id = str(record.get("sys_id") or "")
        if not sys_id:
            raise DeliveryError("servicenow: the incident record has no sys_id")
        url = f"{self._config.instance_url}/nav_to.do?uri=incident.do%3Fsys_id%3D{sys_id}"
        return Ticket(sys_id, str(record.get("number") or sys_id), url)

    def _open(self, alert: Alert) -> Ticket:
        found = self._call(
            "GET",
            TABLE,
            "look up the alert id",
            params={
                "sysparm_query": f"correlation_id={alert.alert_id}",
                "sysparm_fields": FIELDS,
                "sysparm_limit": "1",
            },
        )
        if found.get("items"):
            return self._ticket(found["items"][0])  # opened by an attempt whose answer was lost
        urgency, impact = URGENCY_IMPACT[alert.severity]
        record: dict[str, Any] = {
            "short_description": f"MTD Guard: {alert.title}"[:160],
            "description": render.plain_text(alert),
            "urgency": urgency,
            "impact": impact,
            "correlation_id": alert.alert_id,
            "correlation_display": "MTD Guard",
        }
        if self._config.assignment_group:
            record["assignment_group"] = self._config.assignment_group
        record.update(self._config.extra_fields)  # SERVICENOW_EXTRA_FIELDS: the instance's mandatory ones
        created = self._call(
            "POST", TABLE, "create the incident", params={"sysparm_fields": FIELDS}, json=record
        )
        return self._ticket(created)

    def _state(self, sys_id: str) -> str:
        try:
            record = self._call(
                "GET", f"{TABLE}/{quote(sys_id)}", "read the incident", params={"sysparm_fields": FIELDS}
            )
        except DeliveryError as exc:
            if exc.status == 404:
                return GONE
            raise
        return str(record.get("state") or "")

    def _resolve(self, sys_id: str, alert: Alert) -> None:
        self._call(
            "PATCH",
            f"{TABLE}/{quote(sys_id)}",
            "resolve the incident",
            params={"sysparm_fields": FIELDS},
            json={
                "state": RESOLVED,
                "close_code": self._config.close_code,
                "close_notes": render.plain_text(alert, "Resolved by MTD Guard: the finding is over."),
            },
        )
