"""Azure Functions NCRONTAB schedules, checked the way the Functions host reads them.

The host (NCrontab, as used by the timer trigger) takes six fields, ``{second} {minute} {hour}
{day} {month} {day-of-week}``, each ``*``, a value, a range ``a-b``, a step ``/n`` or a list
``a,b``; months and weekdays may be English names, matched case-insensitively by prefix
(``Jan``, ``January``), Sunday is 0. croniter (pallets-eco, seconds-first mode) does the real
work: value ranges, steps and the next occurrence. This module adds what differs between them:

- names: the host takes any prefix of a full name, croniter only three-letter abbreviations. Names
  are turned into numbers here; fewer than three letters are refused although the host takes the
  first name that matches ('Ju' is June to it, never July): too easy to misread.
- croniter extensions the host refuses: ``L``, ``W``, ``#``, ``?``, ``H`` and day-of-week 7.
- reversed ranges: the host swaps them (hour ``22-2`` means 2-22), croniter wraps around (22-2 at
  night). Refused, so nobody gets the reading they did not mean.
- a schedule no date ever matches (``0 0 0 30 Feb *``) is accepted by the host and never fires:
  refused. Day and day-of-week must both match, as in NCrontab (croniter's ``day_or=False``).
- TimeSpan schedules (``00:05:00``) run only on an App Service plan; MTD Guard deploys on Flex
  Consumption (infra/modules/functionapp.bicep), where the host refuses them: refused.

Sources: learn.microsoft.com/azure/azure-functions/functions-bindings-timer (NCRONTAB expressions,
TimeSpan); NCrontab's CrontabFieldImpl (names by prefix, ranges 0-6 for weekdays, swapped ranges).

croniter is imported on first use (about 25 ms with dateutil on this machine's cold start).
"""

from __future__ import annotations

import re
from dataclasses import dataclass
from datetime import datetime

SIX_FIELDS = "'{second} {minute} {hour} {day} {month} {day-of-week}', e.g. '0 */30 * * * *'"
MONTHS = [
    "January",
    "February",
    "March",
    "April",
    "May",
    "June",
    "July",
    "August",
    "September",
    "October",
    "November",
    "December",
]
WEEKDAYS = ["Sunday", "Monday", "Tuesday", "Wednesday", "Thursday", "Friday", "Saturday"]
_NAME = re.compile(r"[A-Za-z]+")
_TIMESPAN = re.compile(r"^(\d+\.)?\d{1,2}:\d{2}(:\d{2})?$")
_ALLOWED = set("0123456789*,-/")
_PROBE = ("0", "0", "0", "*", "*", "*")  # a valid schedule, one field of which is replaced to test it
_START = datetime(2026, 1, 1)  # any fixed instant: "never fires" must not depend on today


class ScheduleError(ValueError):
    """Why an expression is no schedule the Functions host runs, as the end of a sentence that
    starts with the setting's name and value, e.g. "is not an NCRONTAB expression: ..."."""


@dataclass(frozen=True)
class Field:
    """One NCRONTAB field: its name in messages, its value range and its English names, if any."""

    name: str
    low: int
    high: int
    names: tuple[str, ...] = ()

    def allowed(self) -> str:
        """What the field takes, for error messages, e.g. 'use 1-12 or Jan-Dec, *, a range a-b, ...'."""
        named = f" or {self.names[0][:3]}-{self.names[-1][:3]}" if self.names else ""
        return f"use {self.low}-{self.high}{named}, *, a range a-b, a step /n or a list a,b"


FIELDS = (
    Field("second", 0, 59),
    Field("minute", 0, 59),
    Field("hour", 0, 23),
    Field("day", 1, 31),
    Field("month", 1, 12, tuple(MONTHS)),
    Field("day-of-week", 0, 6, tuple(WEEKDAYS)),
)


def _field_error(field: Field, text: str, why: str) -> ScheduleError:
    return ScheduleError(f"is not an NCRONTAB expression: its {field.name} field {text!r} {why}")


def _number_for(field: Field, name: str, text: str) -> str:
    """A month or weekday name as the host reads it (prefix of the English name), as a number."""
    matches = [i for i, full in enumerate(field.names) if full.lower().startswith(name.lower())]
    if len(name) < 3 or not matches:
        raise _field_error(
            field, text, f"names no {field.name} ({field.allowed()}; names need three letters)"
        )
    return str(field.low + matches[0])


def _normalized_field(field: Field, text: str) -> str:
    """The field with names turned into numbers; refuses what croniter takes but the host does not."""
    numeric = _NAME.sub(lambda m: _number_for(field, m.group(), text), text) if field.names else text
    if not set(numeric) <= _ALLOWED:
        raise _field_error(field, text, "uses syntax the Functions host does not support (L, W, #, ?, H)")
    for item in numeric.split(","):
        low, dash, high = item.partition("/")[0].partition("-")
        if dash and low.isdigit() and high.isdigit() and int(low) > int(high):
            raise _field_error(field, text, f"has a reversed range {low}-{high}: write it low-high")
        if field.name == "day-of-week" and "7" in (low, high):
            raise _field_error(field, text, "uses 7, which the Functions host refuses: Sunday is 0")
    return numeric


def normalize(expression: str) -> str:
    """The expression as croniter reads it in seconds-first mode (names as numbers), after checking
    it is one the Functions host runs on Flex Consumption and that some date matches it.

    Raises ``ScheduleError`` with the reason (naming the field at fault), never anything else.
    """
    from croniter import CroniterBadDateError, CroniterError, croniter

    text = expression.strip()
    if _TIMESPAN.match(text):
        raise ScheduleError(
            "is a TimeSpan, which the Functions host runs only on an App Service plan, not on the Flex "
            f"Consumption plan MTD Guard deploys to: use an NCRONTAB expression {SIX_FIELDS}"
        )
    parts = text.split()
    if len(parts) != len(FIELDS):
        raise ScheduleError(f"is not an NCRONTAB expression with six fields {SIX_FIELDS}")
    fields = [_normalized_field(field, part) for field, part in zip(FIELDS, parts, strict=True)]
    for index, (field, part) in enumerate(zip(FIELDS, parts, strict=True)):
        probe = " ".join(fields[index] if i == index else p for i, p in enumerate(_PROBE))
        try:
            croniter(probe, _START, second_at_beginning=True)
        except CroniterError:
            raise _field_error(field, part, f"is not valid ({field.allowed()})") from None
    normalized = " ".join(fields)
    try:
        next_occurrence(normalized, _START)
    except CroniterBadDateError:
        raise ScheduleError(
            "never fires: no date matches its day, month and day-of-week fields together"
        ) from None
    return normalized


def next_occurrence(normalized: str, after: datetime) -> datetime:
    """The first instant strictly after ``after`` (naive or aware, returned alike) that a
    ``normalize``d expression matches, read as NCrontab does (day and day-of-week must both match).

    Raises croniter's ``CroniterBadDateError`` when no date within 100 years matches.
    """
    from croniter import croniter

    schedule = croniter(
        normalized, after, second_at_beginning=True, day_or=False, max_years_between_matches=100
    )
    found: datetime = schedule.get_next(datetime)
    return found
