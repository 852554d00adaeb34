"""The generic webhook: the alert's JSON payload, signed the Standard Webhooks way when a secret is
configured (https://www.standardwebhooks.com: ``webhook-id``, ``webhook-timestamp``,
``webhook-signature``), so a receiver can refuse a forged, altered or replayed delivery.

A digest (info alerts held during quiet hours) arrives as one alert of kind ``alertDigest`` whose
``alerts`` list carries each held alert's own payload and id.
"""

from __future__ import annotations

import json
from datetime import UTC, datetime
from typing import TYPE_CHECKING

from shared.alerting.channels.base import SIGNATURE_HEADER, HttpTarget, Ticket, sign
from shared.alerting.routing import ChannelRules
from shared.clock import now_utc

if TYPE_CHECKING:
    from shared.alerting.alerts import Alert, Thread

SECRET_PREFIX = "whsec_"  # noqa: S105 - Standard Webhooks' secret format: whsec_ and base64


def standard_signature(secret: str, message_id: str, at: datetime, body: bytes) -> dict[str, str]:
    """The three Standard Webhooks headers of ``body`` sent at ``at`` (UTC) as ``message_id``:
    ``webhook-id``, ``webhook-timestamp`` (Unix seconds) and ``webhook-signature`` (``v1,`` and the
    base64 HMAC-SHA256 of ``id.timestamp.body``). The key is a ``whsec_`` secret's base64 bytes, or
    any other secret's UTF-8 bytes. Signed by the maintained ``standardwebhooks`` library, loaded
    on the first signed delivery only."""
    from standardwebhooks import Webhook

    key = Webhook(secret) if secret.startswith(SECRET_PREFIX) else Webhook(secret.encode())
    return {
        "webhook-id": message_id,
        "webhook-timestamp": str(int(at.timestamp())),
        "webhook-signature": key.sign(message_id, at.astimezone(UTC), body.decode()),
    }


class WebhookChannel:
    """JSON POST to any HTTPS endpoint, signed when a secret is configured."""

    name = "webhook"

    def __init__(self, url: str, secret: str | None = None, rules: ChannelRules | None = None) -> None:
        self._url = url
        self._secret = secret
        self.rules = rules or ChannelRules()
        self._http = HttpTarget("webhook", url, secrets=[url, secret])
        self.target = self._http.host  # for messages: the host only, never the path

    def send(self, alert: Alert, thread: Thread | None = None) -> Ticket | None:
        """POST ``alert.payload()`` as compact JSON with ``X-MtdGuard-Alert-Id``; with a secret, the
        Standard Webhooks headers (``webhook-id`` is the alert id, the same on every retry) and the
        older body-only ``X-MtdGuard-Signature``. Returns None (no ticket). Raises
        ``DeliveryError`` when the receiver does not answer 2xx or cannot be reached."""
        body = json.dumps(alert.payload(), separators=(",", ":")).encode()
        headers = {"Content-Type": "application/json", "X-MtdGuard-Alert-Id": alert.alert_id}
        if self._secret:
            headers |= standard_signature(self._secret, alert.alert_id, now_utc(), body)
            headers[SIGNATURE_HEADER] = sign(self._secret, body)  # kept for receivers built on it
        self._http.request("POST", self._url, "POST", content=body, headers=headers)
        return None
