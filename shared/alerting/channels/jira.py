"""Jira Cloud issues through REST API v3: one issue per finding episode.

- First alert on a finding: search for the label ``mtdguard-<alert id>`` (a retry after a lost
  answer finds the issue it already created), else ``POST /rest/api/3/issue`` with an Atlassian
  Document Format description and the labels ``mtd-guard`` and ``mtdguard-<alert id>``.
- Later alerts while the finding is open: a comment (``POST /rest/api/3/issue/{key}/comment``).
- The alert that resolves the finding: first a comment says why, then the transition named
  ``JIRA_DONE_TRANSITION`` (its id is looked up with its screen's fields, ids differ per workflow),
  unless the issue already is in a done status. When the screen has a Resolution field (Jira
  Service Management workflows often require one) ``JIRA_RESOLUTION`` is sent with it, and only
  then. A missing transition or resolution fails with the names that are available; the comment is
  posted anyway, and once: a retry finds it by the alert id it quotes.

Authentication: basic auth with the account's email and an API token.
"""

from __future__ import annotations

from typing import TYPE_CHECKING, Any
from urllib.parse import quote, urlsplit

from shared.alerting.channels import render
from shared.alerting.channels.base import DeliveryError, HttpTarget, Ticket

if TYPE_CHECKING:
    from shared.alerting.alerts import Alert, Thread
    from shared.alerting.settings import JiraConfig

API = "/rest/api/3"
LABEL = "mtd-guard"
RECENT_COMMENTS = 20  # comments read to find one a retry already posted (newest first)


def alert_label(alert_id: str) -> str:
    """The Jira label ``mtdguard-<alert id>`` put on the issue an alert opened; searching for it
    finds the issue again when the answer to the create call was lost."""
    return f"mtdguard-{alert_id}"


def _error(body: Any) -> str | None:
    if not isinstance(body, dict):
        return None
    parts = [str(m) for m in body.get("errorMessages") or []]
    errors = body.get("errors")
    if isinstance(errors, dict):
        parts += [f"{field}: {message}" for field, message in errors.items()]
    return "; ".join(parts) or None


# -- Atlassian Document Format ------------------------------------------------------------------


def _adf_text(node: Any) -> str:
    """The text of an ADF node and its children, run together; "" for anything else."""
    if not isinstance(node, dict):
        return ""
    text = node.get("text")
    own = text if isinstance(text, str) else ""
    return own + "".join(_adf_text(child) for child in node.get("content") or [] if isinstance(child, dict))


def _text(text: str, *marks: dict[str, Any]) -> dict[str, Any]:
    node: dict[str, Any] = {"type": "text", "text": text}
    if marks:
        node["marks"] = list(marks)
    return node


def _paragraph(*nodes: dict[str, Any]) -> dict[str, Any]:
    return {"type": "paragraph", "content": [n for n in nodes if n.get("text")]}


def document(alert: Alert, lead: str | None = None) -> dict[str, Any]:
    """The alert as an ADF document: lead line, headline, facts as a list, the admin-center link."""
    strong = {"type": "strong"}
    content: list[dict[str, Any]] = []
    if lead:
        content.append(_paragraph(_text(lead, {"type": "em"})))
    content.append(_paragraph(_text(render.headline(alert), strong)))
    content.append(
        {
            "type": "bulletList",
            "content": [
                {"type": "listItem", "content": [_paragraph(_text(f"{label}: ", strong), _text(value))]}
                for label, value in render.facts(alert)
                if value
            ],
        }
    )
    if link := render.portal_link(alert):
        content.append(_paragraph(_text(link.label, {"type": "link", "attrs": {"href": link.url}})))
    return {"type": "doc", "version": 1, "content": content}


class JiraChannel:
    """The Jira Cloud channel: one issue per finding episode, commented on and transitioned to done
    (``JIRA_DONE_TRANSITION``) by the later alerts of the episode. See the module docstring."""

    name = "jira"

    def __init__(self, config: JiraConfig) -> None:
        self._config = config
        self.rules = config.rules
        self._http = HttpTarget("jira", config.base_url, secrets=[config.api_token], detail=_error)

    def _call(self, method: str, path: str, what: str, **kwargs: Any) -> Any:
        headers = {"Accept": "application/json"}
        if "json" in kwargs:
            headers["Content-Type"] = "application/json"
        auth = (self._config.email, self._config.api_token)
        response = self._http.request(method, API + path, what, headers=headers, auth=auth, **kwargs)
        if response.status_code == 204 or not response.content:
            return {}
        return HttpTarget.json(response, what, self.name)

    def _browse(self, key: str) -> str | None:
        # A site URL has a browse page; the scoped-token gateway (api.atlassian.com) does not.
        host = urlsplit(self._config.base_url).hostname or ""
        return f"{self._config.base_url}/browse/{key}" if host.endswith(".atlassian.net") else None

    def send(self, alert: Alert, thread: Thread | None) -> Ticket:
        """Open an issue for a new episode (or find the one a lost answer created); on an open
        ``thread``, comment on its issue, and transition it to done when the alert resolves the finding.

        Returns the issue (id, key, browse URL on an ``.atlassian.net`` site). Raises ``DeliveryError`` on
        any failed call, an answer without a key, or a missing done transition (the message lists the
        transitions available from the issue's status).
        """
        if thread is not None and thread.open and thread.ticket_key:
            key = thread.ticket_key
            ticket = Ticket(thread.ticket_id or key, key, thread.ticket_url)
            if alert.resolves_finding:
                # The comment first: people learn that it is over even when the workflow refuses
                # the transition (retried, without a second comment).
                self._comment(key, alert, "MTD Guard: the finding is over.")
                self._finish(key)
            else:
                self._comment(key, alert, "MTD Guard: the finding changed.")
            return ticket
        return self._open(alert)

    def _open(self, alert: Alert) -> Ticket:
        jql = f'project = "{self._config.project_key}" AND labels = "{alert_label(alert.alert_id)}"'
        found = self._call(
            "GET",
            "/search/jql",
            "look up the alert id",
            params={"jql": jql, "fields": "summary", "maxResults": "1"},
        )
        issues = found.get("issues") if isinstance(found, dict) else None
        if issues:
            issue = issues[0]  # created by an attempt whose answer was lost
            return Ticket(
                str(issue.get("id") or issue["key"]), str(issue["key"]), self._browse(str(issue["key"]))
            )
        fields = {
            "project": {"key": self._config.project_key},
            "issuetype": {"name": self._config.issue_type},
            "summary": f"MTD Guard: {alert.title}"[:250],
            "description": document(alert),
            "labels": [LABEL, alert_label(alert.alert_id)],
        }
        created = self._call("POST", "/issue", "create the issue", json={"fields": fields})
        key = created.get("key") if isinstance(created, dict) else None
        if not key:
            raise DeliveryError("jira: the created issue has no key")
        return Ticket(str(created.get("id") or key), str(key), self._browse(str(key)))

    def _comment(self, key: str, alert: Alert, lead: str) -> None:
        """Comment ``alert`` on ``key`` unless a recent comment already quotes its alert id (a retry
        after a failed transition or a lost answer)."""
        listed = self._call(
            "GET",
            f"/issue/{quote(key)}/comment",
            "read the comments",
            params={"orderBy": "-created", "maxResults": str(RECENT_COMMENTS)},
        )
        marker = f"Alert id: {alert.alert_id}"
        comments = listed.get("comments") if isinstance(listed, dict) else None
        if any(marker in _adf_text(c.get("body")) for c in comments or [] if isinstance(c, dict)):
            return
        self._call(
            "POST", f"/issue/{quote(key)}/comment", "add a comment", json={"body": document(alert, lead)}
        )

    def _finish(self, key: str) -> None:
        issue = self._call("GET", f"/issue/{quote(key)}", "read the issue", params={"fields": "status"})
        status = (issue.get("fields") or {}).get("status") or {}
        if (status.get("statusCategory") or {}).get("key") == "done":
            return  # a person got there first
        listed = self._call(
            "GET",
            f"/issue/{quote(key)}/transitions",
            "list transitions",
            params={"expand": "transitions.fields"},  # what the transition's screen asks for
        )
        transitions = listed.get("transitions") or []
        wanted = self._config.done_transition.casefold()
        match = next((t for t in transitions if str(t.get("name", "")).casefold() == wanted), None)
        if match is None:
            names = ", ".join(str(t.get("name")) for t in transitions) or "none"
            raise DeliveryError(
                f"jira: {key} has no transition named {self._config.done_transition!r} from status "
                f"{status.get('name', '?')!r} (available: {names}); set JIRA_DONE_TRANSITION"
            )
        body: dict[str, Any] = {"transition": {"id": str(match["id"])}}
        if (resolution := self._resolution(key, match)) is not None:
            body["fields"] = {"resolution": {"name": resolution}}
        self._call("POST", f"/issue/{quote(key)}/transitions", "transition the issue", json=body)

    def _resolution(self, key: str, transition: dict[str, Any]) -> str | None:
        """JIRA_RESOLUTION when the transition's screen has a Resolution field, else None; raises
        ``DeliveryError`` listing the allowed resolutions when it is not one of them."""
        field = (transition.get("fields") or {}).get("resolution")
        if not isinstance(field, dict):
            return None
        allowed = [str(v.get("name")) for v in field.get("allowedValues") or [] if isinstance(v, dict)]
        wanted = self._config.resolution
        match = next((name for name in allowed if name.casefold() == wanted.casefold()), None)
        if allowed and match is None:
            raise DeliveryError(
                f"jira: {key}: the transition {transition.get('name')!r} asks for a resolution and "
                f"{wanted!r} is not one (allowed: {', '.join(allowed)}); set JIRA_RESOLUTION"
            )
        return match or wanted
