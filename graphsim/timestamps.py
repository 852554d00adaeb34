"""Graph-style timestamps and the scenario's relative-time shorthand.

Graph serialises ``Edm.DateTimeOffset`` in UTC with a ``Z`` suffix; Intune emits seven
fractional digits (``2026-11-15T06:21:09.1234567Z``). We emit the same shape so that
consumers are tested against what the service really sends, not Python's ``isoformat()``.
"""

from __future__ import annotations

import re
from datetime import UTC, datetime, timedelta

# ``now``, ``now-30m``, ``now-8.2d``, ``now+3h`` (a future heartbeat models clock skew).
_RELATIVE = re.compile(r"now(?:(?P<sign>[+-])(?P<amount>\d+(?:\.\d+)?)(?P<unit>[smhd]))?")
_UNIT_SECONDS = {"s": 1, "m": 60, "h": 3600, "d": 86400}


def utc_now() -> datetime:
    """The current time, timezone-aware, so arithmetic never mixes naive and aware values."""
    return datetime.now(UTC)


def format_graph_datetime(moment: datetime) -> str:
    """Render ``moment`` as Graph does: UTC, seven fractional digits, ``Z``."""
    moment = moment.astimezone(UTC) if moment.tzinfo else moment.replace(tzinfo=UTC)
    # Python keeps microseconds (6 digits); Intune's .NET ticks have 7, the last one is 0 here.
    return moment.strftime("%Y-%m-%dT%H:%M:%S.%f") + "0Z"


def format_inner_error_date(moment: datetime) -> str:
    """``innerError.date`` in Graph error bodies has whole seconds and no zone suffix."""
    return moment.astimezone(UTC).strftime("%Y-%m-%dT%H:%M:%S")


def resolve_relative(value: str, now: datetime) -> str | None:
    """Return the Graph timestamp for a ``now[+-]N<unit>`` expression, else None.

    None means "not a relative expression": the caller keeps the raw value, because
    scenarios deliberately carry malformed timestamps to test consumers' error handling.
    """
    match = _RELATIVE.fullmatch(value.strip())
    if match is None:
        return None
    offset = timedelta()
    if match["sign"]:
        seconds = float(match["amount"]) * _UNIT_SECONDS[match["unit"]]
        offset = timedelta(seconds=seconds if match["sign"] == "+" else -seconds)
    return format_graph_datetime(now + offset)


def parse_datetime_offset(value: str) -> datetime | None:
    """Parse an ISO 8601 timestamp a client wrote; None when it is not one.

    Python 3.11's ``fromisoformat`` accepts ``Z`` and 7 fractional digits (it truncates to
    microseconds), which covers both Graph's format and what msgraph-sdk serialises.
    A value without an offset is taken as UTC, as the service stores UTC.
    """
    if "T" not in value.upper():  # a bare date is an Edm.Date, not a DateTimeOffset
        return None
    try:
        parsed = datetime.fromisoformat(value)
    except ValueError:
        return None
    return parsed if parsed.tzinfo else parsed.replace(tzinfo=UTC)
