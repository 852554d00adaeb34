"""kiota's retry handler kept to the invocation's time budget (shared/deadline.py).

kiota's ``RetryHandler`` retries 429/503/504 up to 3 times, sleeping for the answer's
``Retry-After`` however long (``Retry-After: 179`` made one read take 9 minutes), or for an
exponential backoff. ``RetryWithinBudget`` retries only when the wait and a new attempt fit in what
is left of the budget; otherwise the throttled answer itself is returned, and the gateway turns it
into a transient GraphError (``retry_after`` set) for the next run to try again.

Loaded only when the gateway builds its middleware (kiota's HTTP package is not needed before).
"""

from __future__ import annotations

from typing import Any

from kiota_http.middleware import RetryHandler
from kiota_http.middleware.options import RetryHandlerOption

from shared import deadline

RETRY_ROOM_SECONDS = 2.0  # a retry must leave at least this long for its own attempt


class RetryWithinBudget(RetryHandler):
    """``RetryHandler`` whose waits never outlast the budget: a wait leaving less than
    ``RETRY_ROOM_SECONDS`` after it is reported as ``RetryHandlerOption.MAX_DELAY``, the wait
    kiota documents (and its ``send`` checks) as one it never sleeps for."""

    def get_delay_time(
        self,
        retry_count: int,
        response: Any = None,
        delay: float = RetryHandlerOption.DEFAULT_DELAY,
    ) -> float:
        """Seconds to wait before retry ``retry_count + 1``, or ``MAX_DELAY`` (no retry) when the
        wait would not leave room for that attempt within the budget."""
        wait = float(super().get_delay_time(retry_count, response, delay))
        if wait + RETRY_ROOM_SECONDS > deadline.remaining():
            return RetryHandlerOption.MAX_DELAY
        return wait
