"""Microsoft Teams through a Workflows (Power Automate) webhook: one Adaptive Card per alert.

The workflow's "When a Teams webhook request is received" trigger takes a message whose
attachments are Adaptive Cards and answers 202 Accepted; its template "Send webhook alerts to a
channel" posts each card to the chosen channel. The trigger URL carries the workflow's signature
(``sig=``), so it is a secret: it never appears in errors or logs.
"""

from __future__ import annotations

import json
from typing import TYPE_CHECKING, Any

from shared.alerting.channels import render
from shared.alerting.channels.base import HttpTarget, Ticket
from shared.alerting.routing import ChannelRules

if TYPE_CHECKING:
    from shared.alerting.alerts import Alert, Thread

CARD_VERSION = "1.4"  # what Teams renders on desktop, web and mobile
_STYLE = {"high": ("attention", "Attention"), "warning": ("warning", "Warning"), "good": ("good", "Good")}
_DEFAULT_STYLE = ("accent", "Accent")


def _error(body: Any) -> str | None:
    error = body.get("error") if isinstance(body, dict) else None
    if isinstance(error, dict):
        return str(error.get("message") or error.get("code") or "") or None
    return None


def _banner(alert: Alert, title: str) -> dict[str, Any]:
    style, colour = _STYLE.get(render.tone(alert), _DEFAULT_STYLE)
    label = "RECOVERED" if render.tone(alert) == "good" else alert.severity.value.upper()
    return {
        "type": "Container",
        "style": style,
        "bleed": True,
        "items": [
            {
                "type": "TextBlock",
                "text": f"MTD Guard | {label}",
                "size": "Small",
                "weight": "Bolder",
                "color": colour,
            },
            {"type": "TextBlock", "text": title, "size": "Medium", "weight": "Bolder", "wrap": True},
        ],
    }


def _facts(pairs: list[tuple[str, str]]) -> dict[str, Any]:
    return {"type": "FactSet", "facts": [{"title": k, "value": v} for k, v in pairs]}


def card(alert: Alert) -> dict[str, Any]:
    """The Adaptive Card for one alert, or for a digest of held alerts."""
    items = render.digest_items(alert)
    body: list[dict[str, Any]] = [_banner(alert, alert.title)]
    if items:
        body.append({"type": "TextBlock", "text": alert.reason, "wrap": True, "isSubtle": True})
        for item in items:
            body.append(
                {
                    "type": "Container",
                    "separator": True,
                    "items": [
                        {
                            "type": "TextBlock",
                            "text": f"{item.get('title', '')} ({render.when(item.get('detectedAt'))})",
                            "weight": "Bolder",
                            "wrap": True,
                        },
                        {"type": "TextBlock", "text": str(item.get("reason", "")), "wrap": True},
                        {
                            "type": "TextBlock",
                            "text": f"Tenant {item.get('tenantId', '')} | alert {item.get('alertId', '')}",
                            "size": "Small",
                            "isSubtle": True,
                            "wrap": True,
                        },
                    ],
                }
            )
    else:
        body.append(_facts(render.facts(alert)))
    content: dict[str, Any] = {
        "$schema": "http://adaptivecards.io/schemas/adaptive-card.json",
        "type": "AdaptiveCard",
        "version": CARD_VERSION,
        "msteams": {"width": "Full"},
        "body": body,
    }
    if link := render.portal_link(alert):
        content["actions"] = [{"type": "Action.OpenUrl", "title": link.label, "url": link.url}]
    return {
        "type": "message",
        "attachments": [
            {"contentType": "application/vnd.microsoft.card.adaptive", "contentUrl": None, "content": content}
        ],
    }


class TeamsChannel:
    """The Teams channel: posts one Adaptive Card per alert to a Workflows webhook (a message
    channel: no ticket, no thread state beyond routing). ``webhook_url`` is a secret (``sig=``)."""

    name = "teams"

    def __init__(self, webhook_url: str, rules: ChannelRules | None = None):
        self._url = webhook_url
        self.rules = rules or ChannelRules()
        self._http = HttpTarget("teams", webhook_url, secrets=[webhook_url], detail=_error)

    def send(self, alert: Alert, thread: Thread | None = None) -> Ticket | None:
        """POST the alert's card (or a digest's card) to the workflow; returns None (no ticket).
        Raises ``DeliveryError``, with the host only, when the workflow does not answer 2xx."""
        body = json.dumps(card(alert), separators=(",", ":")).encode()
        headers = {"Content-Type": "application/json", "X-MtdGuard-Alert-Id": alert.alert_id}
        self._http.request("POST", self._url, "post card", content=body, headers=headers)
        return None
