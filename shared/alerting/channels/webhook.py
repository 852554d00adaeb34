"""The generic webhook: the alert's JSON payload, HMAC-signed when a secret is configured.

A digest (info alerts held during quiet hours) arrives as one alert of kind ``alertDigest`` whose
``alerts`` list carries each held alert's own payload and id.
"""

from __future__ import annotations

import json
from typing import TYPE_CHECKING

from shared.alerting.channels.base import SIGNATURE_HEADER, HttpTarget, Ticket, sign
from shared.alerting.routing import ChannelRules

if TYPE_CHECKING:
    from shared.alerting.alerts import Alert, Thread


class WebhookChannel:
    """JSON POST to any HTTPS endpoint, HMAC-signed when a secret is configured."""

    name = "webhook"

    def __init__(
        self,
        url: str,
        secret: str | None = None,
        rules: ChannelRules | None = None,
    ) -> None:
        self._url = url
        self._secret = secret
        self.rules = rules or ChannelRules()
        self._http = HttpTarget("webhook", url, secrets=[url, secret])
        self.target = self._http.host  # for messages: the host only, never the path

    def send(self, alert: Alert, thread: Thread | None = None) -> Ticket | None:
        """POST ``alert.payload()`` as compact JSON with ``X-MtdGuard-Alert-Id`` (and the signature
        header when a secret is set); returns None (no ticket). Raises ``DeliveryError`` when the receiver
        does not answer 2xx or cannot be reached."""
        body = json.dumps(alert.payload(), separators=(",", ":")).encode()
        headers = {"Content-Type": "application/json", "X-MtdGuard-Alert-Id": alert.alert_id}
        if self._secret:
            headers[SIGNATURE_HEADER] = sign(self._secret, body)
        self._http.request("POST", self._url, "POST", content=body, headers=headers)
        return None
