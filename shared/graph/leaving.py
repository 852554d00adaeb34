"""The last link of the Graph middleware chain: it tells the waiting caller its request is leaving.

A sweep sends its Graph read and its Table Storage read at the same time, and Graph answers
slower. Both requests need a few milliseconds of CPU before they leave (kiota's middleware,
azure-core's policies), and with one interpreter lock whichever is built first leaves first. The
caller of ``GraphGateway.begin_list_connectors`` waits for this signal before building its own
request, so the slower round trip starts first.

Loaded only when the gateway builds its middleware (kiota's HTTP package is not needed before).
"""

from __future__ import annotations

from collections.abc import Callable

import httpx
from kiota_http.middleware import BaseMiddleware


class SignalWhenLeaving(BaseMiddleware):
    """Calls ``leaving()`` as each request (each retry too) goes to the transport; changes nothing."""

    def __init__(self, leaving: Callable[[], None]) -> None:
        super().__init__()
        self._leaving = leaving

    async def send(self, request: httpx.Request, transport: httpx.AsyncBaseTransport) -> httpx.Response:
        """Signal, then hand the request on (to the transport: this is the chain's last link)."""
        self._leaving()
        response: httpx.Response = await super().send(request, transport)
        return response
