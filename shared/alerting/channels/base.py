"""What every alert channel is: the ``Channel`` protocol, its error, the ticket it may return, and
the HTTP plumbing that keeps secrets out of every message.

A channel either delivers an alert or raises ``DeliveryError`` with a message safe to store and
show: it names the channel and the host, never a URL path or query (Teams workflow URLs carry their
signature there), a password, token or client secret.

Time: each request to a receiver is bounded in TOTAL (connect, send, every byte of the answer) by
``REQUEST_SECONDS`` or what is left of the invocation's budget (shared/deadline.py), whichever ends
first: httpx's own timeouts are per read, and a receiver trickling its answer would outlast them.
"""

from __future__ import annotations

import asyncio
import hashlib
import hmac
from collections.abc import Callable, Iterable
from dataclasses import dataclass
from typing import TYPE_CHECKING, Any, Protocol
from urllib.parse import urlsplit

import httpx

from shared import deadline
from shared.logs import redact
from shared.retry_after import retry_after_seconds

if TYPE_CHECKING:
    from shared.alerting.alerts import Alert, Thread
    from shared.alerting.routing import ChannelRules

TIMEOUT = httpx.Timeout(15.0, connect=5.0)  # per connect / read; the whole request: REQUEST_SECONDS
REQUEST_SECONDS = 30.0  # one request to a receiver at most, in total
USER_AGENT = "mtd-guard"
SIGNATURE_HEADER = "X-MtdGuard-Signature"


class DeliveryError(Exception):
    """A channel did not take the alert; it stays pending and is retried with backoff."""

    def __init__(self, message: str, retry_after: float | None = None, status: int | None = None) -> None:
        super().__init__(message)
        self.retry_after = retry_after  # seconds the receiver asked us to wait (Retry-After)
        self.status = status  # the receiver's HTTP status, when it answered


@dataclass(frozen=True)
class Ticket:
    """The ticket an alert went to: kept on the finding's Thread so later alerts update it."""

    id: str  # ServiceNow sys_id, Jira issue id
    key: str  # ServiceNow number, Jira issue key
    url: str | None = None


class Channel(Protocol):
    """What the outbox needs of an alert channel: a ``name`` (the key of ``Alert.deliveries``),
    its routing ``rules`` and ``send``, which delivers or raises ``DeliveryError``."""

    name: str
    rules: ChannelRules

    def send(self, alert: Alert, thread: Thread | None) -> Ticket | None:
        """Deliver ``alert``; ``thread`` is what this channel was told about the finding before.
        Ticket channels return the ticket it went to; message channels return None."""
        ...


def sign(secret: str, body: bytes) -> str:
    """The signature header value receivers recompute: 'sha256=' + hex HMAC-SHA256 of the body."""
    return "sha256=" + hmac.new(secret.encode(), body, hashlib.sha256).hexdigest()


def retry_after(response: httpx.Response) -> float | None:
    """The wait in seconds a receiver asked for with ``Retry-After`` (``retry_after_seconds``)."""
    return retry_after_seconds(response.headers.get("Retry-After"))


ErrorDetail = Callable[[Any], str | None]  # a receiver's JSON error body -> its own short message


class HttpTarget:
    """One receiving system: sends requests, turns every failure into a safe DeliveryError."""

    def __init__(
        self,
        channel: str,
        base_url: str,
        *,
        secrets: Iterable[str | None] = (),
        detail: ErrorDetail | None = None,
    ) -> None:
        self.channel = channel
        self.base_url = base_url.rstrip("/")
        self.host = urlsplit(base_url).hostname or "?"  # for messages: the host only
        self._secrets = [s for s in secrets if s]
        self._detail = detail

    def _redact(self, text: str) -> str:
        for value in self._secrets:
            text = text.replace(value, "***")
        return redact(text)  # a receiver's error detail may quote a URL with its credentials

    def request(self, method: str, url: str, what: str, **kwargs: Any) -> httpx.Response:
        """``url`` is absolute or a path under the base URL; ``what`` names the step for messages.
        The answer, read whole, within ``REQUEST_SECONDS`` and the budget (DeliveryError past it)."""
        target = url if url.startswith(("http://", "https://")) else self.base_url + url
        headers = {"User-Agent": USER_AGENT, **kwargs.pop("headers", {})}
        seconds = deadline.remaining(REQUEST_SECONDS)
        if seconds <= 0:
            raise DeliveryError(f"{self.channel} {self.host}: {what}: no time left in this run")
        try:
            response = asyncio.run(_send(method, target, seconds, headers=headers, **kwargs))
        except TimeoutError as exc:
            message = f"{self.channel} {self.host}: {what}: no complete answer within {seconds:.0f} s"
            raise DeliveryError(message) from exc
        except httpx.HTTPError as exc:
            raise DeliveryError(f"{self.channel} {self.host}: {what}: {type(exc).__name__}") from exc
        if not response.is_success:
            raise DeliveryError(self._failure(response, what), retry_after(response), response.status_code)
        return response

    def _failure(self, response: httpx.Response, what: str) -> str:
        message = f"{self.channel} {self.host}: {what}: HTTP {response.status_code}"
        detail = None
        if self._detail is not None:
            try:
                detail = self._detail(response.json())
            except ValueError:
                detail = None
        if detail:
            message += f" ({' '.join(detail.split())[:300]})"
        return self._redact(message)

    @staticmethod
    def json(response: httpx.Response, what: str, channel: str) -> Any:
        """The response body parsed as JSON; raises ``DeliveryError`` naming ``channel`` and the
        step ``what`` when it is not JSON (a proxy's HTML error page, say)."""
        try:
            return response.json()
        except ValueError as exc:
            raise DeliveryError(f"{channel}: {what}: the answer is not JSON") from exc


async def _send(method: str, url: str, seconds: float, **kwargs: Any) -> httpx.Response:
    """One request, its whole answer read, cancelled (TimeoutError) after ``seconds``."""
    async with asyncio.timeout(seconds), httpx.AsyncClient(timeout=TIMEOUT) as client:
        return await client.request(method, url, **kwargs)
