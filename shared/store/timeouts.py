"""Every Table Storage call bounded in time: per try, in retries, and by the invocation's budget.

The Azure SDK's defaults wait 300 s to connect and 300 s per read, and retry 10 times: a storage
endpoint that accepts connections and never answers held an HTTP request and the heartbeat timer
for minutes. Here each try gets ``CONNECT_SECONDS`` to connect and ``READ_SECONDS`` per read, at
most ``RETRIES`` retries follow, and no try or backoff sleep outlasts what is left of the budget
(shared/deadline.py, ``remaining_for_storage``): past it a call fails at once with a timeout, which
``state.storage_errors`` reports as storage unavailable.

Each read is bounded, not the whole answer: a Table Storage answer that trickles in byte by byte
could still take a read timeout per byte (the SDK is synchronous and offers no total bound).
"""

from __future__ import annotations

from typing import Any

from azure.core.exceptions import ServiceResponseTimeoutError
from azure.core.pipeline.transport import RequestsTransport

from shared import deadline

CONNECT_SECONDS = 5.0
READ_SECONDS = 15.0
RETRIES = 2
_SPENT = "no answer within this run's time budget"


class BoundedTransport(RequestsTransport):  # type: ignore[misc]  # requests has no stubs here
    """azure-core's requests transport whose tries and sleeps end with the budget."""

    def send(self, request: Any, **kwargs: Any) -> Any:
        """One try, its connect and read timeouts cut to what is left of the budget; a timeout
        error at once when nothing is left."""
        left = deadline.remaining_for_storage()
        if left <= 0:
            raise ServiceResponseTimeoutError(_SPENT)
        for name, default in (("connection_timeout", CONNECT_SECONDS), ("read_timeout", READ_SECONDS)):
            kwargs[name] = min(float(kwargs.get(name) or default), left)
        return super().send(request, **kwargs)

    def sleep(self, duration: float) -> None:
        """A retry's backoff, unless it would end past the budget (then the timeout error)."""
        if duration >= deadline.remaining_for_storage():
            raise ServiceResponseTimeoutError(_SPENT)
        super().sleep(duration)


def client_options() -> dict[str, Any]:
    """Keyword arguments for ``TableServiceClient``: the bounded transport and retry count."""
    return {
        "transport": BoundedTransport(connection_timeout=CONNECT_SECONDS, read_timeout=READ_SECONDS),
        "retry_total": RETRIES,
    }
