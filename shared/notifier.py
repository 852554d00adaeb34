"""Alert channels: the one module that sends alerts out of MTD Guard.

A channel takes an alert's JSON payload and either delivers it or raises DeliveryError with a
message safe to store and show: it never contains the channel's URL (which often embeds a token)
or its secret.
"""

from __future__ import annotations

import hashlib
import hmac
import json
from typing import TYPE_CHECKING, Protocol
from urllib.parse import urlsplit

import httpx

if TYPE_CHECKING:
    from shared.alerts import Alert
    from shared.settings import Settings

_TIMEOUT = httpx.Timeout(10.0, connect=5.0)
SIGNATURE_HEADER = "X-MtdGuard-Signature"


class DeliveryError(Exception):
    """A channel did not take the alert; it stays pending and is retried on the next run."""


class Channel(Protocol):
    name: str

    def send(self, alert: Alert) -> None: ...


def sign(secret: str, body: bytes) -> str:
    """The signature header value receivers recompute: 'sha256=' + hex HMAC-SHA256 of the body."""
    return "sha256=" + hmac.new(secret.encode(), body, hashlib.sha256).hexdigest()


class WebhookChannel:
    """JSON POST to any HTTPS endpoint, HMAC-signed when a secret is configured."""

    name = "webhook"

    def __init__(self, url: str, secret: str | None = None, client: httpx.Client | None = None) -> None:
        self._url = url
        self._secret = secret
        self._client = client
        self.target = urlsplit(url).hostname or "?"  # for messages: the host only, never the path

    def send(self, alert: Alert) -> None:
        body = json.dumps(alert.payload(), separators=(",", ":")).encode()
        headers = {
            "Content-Type": "application/json",
            "User-Agent": "mtd-guard",
            "X-MtdGuard-Alert-Id": alert.alert_id,
        }
        if self._secret:
            headers[SIGNATURE_HEADER] = sign(self._secret, body)
        try:
            if self._client is not None:
                response = self._client.post(self._url, content=body, headers=headers)
            else:
                with httpx.Client(timeout=_TIMEOUT) as client:
                    response = client.post(self._url, content=body, headers=headers)
        except httpx.HTTPError as exc:
            raise DeliveryError(f"webhook {self.target}: {type(exc).__name__}") from exc
        if not response.is_success:
            raise DeliveryError(f"webhook {self.target}: HTTP {response.status_code}")


def channels_from_settings(settings: Settings) -> list[Channel]:
    channels: list[Channel] = []
    if settings.alert_webhook_url:
        channels.append(WebhookChannel(settings.alert_webhook_url, settings.alert_webhook_secret))
    return channels
