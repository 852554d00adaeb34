"""Reading an HTTP ``Retry-After`` header (RFC 9110 section 10.2.3): Graph's throttling answers and
alert receivers both send one. Pure: standard library and the clock only."""

from __future__ import annotations

import math
from datetime import UTC
from email.utils import parsedate_to_datetime

from shared.clock import now_utc

RETRY_AFTER_LIMIT = 86_400.0  # seconds: the longest wait a Retry-After is taken at (a day)


def retry_after_seconds(value: str | None) -> float | None:
    """The wait in seconds ``value`` (delay-seconds or an HTTP date) asks for, bounded to
    0 .. ``RETRY_AFTER_LIMIT``: a negative number or a past date is 0, 'inf', '1e20' or a date in
    year 9999 the limit; None when absent or unreadable ('nan', text). A date without a zone is
    read as UTC, as HTTP dates are."""
    if not value:
        return None
    try:
        seconds = float(value)
    except ValueError:
        try:
            moment = parsedate_to_datetime(value)
        except (TypeError, ValueError, OverflowError):
            return None
        if moment.tzinfo is None:
            moment = moment.replace(tzinfo=UTC)
        seconds = (moment - now_utc()).total_seconds()
    if math.isnan(seconds):
        return None
    return min(max(0.0, seconds), RETRY_AFTER_LIMIT)
