"""Which channel takes which alert, and when: routing rules, quiet hours, digests, retry timing.

Pure rules, no I/O: the outbox asks ``decide`` for every pending delivery and writes the answer
back onto the delivery, so ``GET /api/alerts`` shows why an alert did not reach a channel.

- A channel takes an alert at or above its minimum severity, of a kind it lists (all by default).
- Once a channel has been told about a finding (its ``Thread`` is open), it hears every later
  alert on that finding, whatever the severity: a recovery reaches the Teams channel or resolves the
  ServiceNow incident that heard about the problem. A ticket channel never opens a ticket just to
  say a finding is over.
- ``info`` alerts that fall into a channel's quiet hours are held and go out after them as one
  digest message; warnings and high alerts are never held.
- A failed delivery is retried on the next run, then after ``base``, ``2 x base`` ... up to
  ``cap`` between attempts (or longer when the channel asked with Retry-After); after
  ``max_attempts`` it is dead.
"""

from __future__ import annotations

import math
import re
from dataclasses import dataclass, field
from datetime import UTC, datetime, time, timedelta, tzinfo
from enum import StrEnum
from zoneinfo import ZoneInfo, ZoneInfoNotFoundError

from shared.alerting.alerts import DIGEST_KIND, Alert, Thread, new_alert
from shared.findings.model import FindingKind, Severity

SEVERITY_RANK: dict[Severity, int] = {Severity.INFO: 0, Severity.WARNING: 1, Severity.HIGH: 2}
DIGEST_LIMIT = 25  # alerts per digest message: Teams refuses messages over 28 KB
# The longest one delivery may take, and so how long its claim excludes every other run: at most
# five HTTP requests (Jira: search, create or read the transitions, transition, comment), each
# bounded in total by channels/base.REQUEST_SECONDS (30 s); the outbox ends the delivery
# outbox.CLAIM_MARGIN before the claim expires. Well inside the host's functionTimeout (10 min), so
# a run that died is taken over minutes later.
SEND_BOUND = timedelta(minutes=3)


@dataclass(frozen=True)
class Route:
    """Which alerts a channel takes to open a conversation: a minimum severity and the finding kinds
    (``<CHANNEL>_MIN_SEVERITY``, ``<CHANNEL>_KINDS``)."""

    min_severity: Severity = Severity.INFO
    kinds: frozenset[str] | None = None  # None: every kind

    def refuses(self, alert: Alert) -> str | None:
        """Why this route does not take the alert, or None when it does."""
        if SEVERITY_RANK[alert.severity] < SEVERITY_RANK[self.min_severity]:
            return (
                f"severity {alert.severity.value} is below this channel's minimum {self.min_severity.value}"
            )
        if self.kinds is not None and alert.kind not in self.kinds:
            return f"kind {alert.kind} is not among this channel's kinds ({', '.join(sorted(self.kinds))})"
        return None

    def describe(self) -> dict[str, object]:
        """The route as ``GET /api/alerts`` shows it: ``minSeverity`` and ``kinds`` ('*' for every kind)."""
        return {"minSeverity": self.min_severity.value, "kinds": sorted(self.kinds) if self.kinds else "*"}


@dataclass(frozen=True)
class QuietHours:
    """A daily window in a time zone, e.g. 22:00-07:00 Europe/Berlin; it may span midnight."""

    start: time
    end: time
    zone: tzinfo = UTC
    zone_name: str = "UTC"

    def _local(self, moment: datetime) -> datetime:
        return moment.astimezone(self.zone)

    def contains(self, moment: datetime) -> bool:
        """Whether ``moment`` (an aware datetime, any zone) falls in the window, read in the
        window's zone; the start is inside, the end is not."""
        now = self._local(moment).time().replace(tzinfo=None)
        if self.start < self.end:
            return self.start <= now < self.end
        return now >= self.start or now < self.end

    def end_after(self, moment: datetime) -> datetime:
        """When the window that ``moment`` falls in ends (UTC)."""
        local = self._local(moment)
        day = local.date()
        if self.start > self.end and local.time().replace(tzinfo=None) >= self.start:
            day += timedelta(days=1)  # started this evening, ends tomorrow morning
        return datetime.combine(day, self.end, tzinfo=self.zone).astimezone(UTC)

    def __str__(self) -> str:
        return f"{self.start:%H:%M}-{self.end:%H:%M} {self.zone_name}"


@dataclass(frozen=True)
class RetryPolicy:
    """How often and how long a failed delivery is retried: at most ``max_attempts`` attempts, waits
    from ``base`` doubling up to ``cap`` (``ALERT_MAX_ATTEMPTS``, ``ALERT_RETRY_BASE_MINUTES``)."""

    max_attempts: int = 10
    base: timedelta = timedelta(minutes=5)
    cap: timedelta = timedelta(hours=6)

    def delay(self, failed_attempts: int) -> timedelta:
        """Wait after this many failed attempts: none after the first (next run), then doubling."""
        if failed_attempts <= 1:
            return timedelta(0)
        wait: timedelta = self.base * 2 ** (failed_attempts - 2)
        return min(wait, self.cap)

    def next_attempt(self, now: datetime, failed_attempts: int, retry_after: float | None = None) -> datetime:
        """The earliest time (same zone as ``now``, UTC in practice) for the next attempt after
        ``failed_attempts`` failures; a receiver's Retry-After (seconds) lengthens the wait, up to ``cap``.
        Any float is a bounded wait: negative counts as none, infinite or huge as ``cap``, NaN is ignored
        (timedelta itself overflows past 1e9 days)."""
        wait = self.delay(failed_attempts)
        if retry_after is not None and not math.isnan(retry_after):
            asked = min(max(retry_after, 0.0), self.cap.total_seconds())
            wait = max(wait, timedelta(seconds=asked))
        return now + wait


@dataclass(frozen=True)
class ChannelRules:
    """Everything routing needs to know about one channel, read from its settings once per process."""

    route: Route = field(default_factory=Route)
    quiet_hours: QuietHours | None = None  # only for message channels (Teams, webhook)
    retry: RetryPolicy = field(default_factory=RetryPolicy)
    tickets: bool = False  # opens, updates and resolves one ticket per finding (ServiceNow, Jira)
    send_bound: timedelta = SEND_BOUND  # how long one delivery may take: the length of its claim

    def describe(self) -> dict[str, object]:
        """The rules as ``GET /api/alerts`` lists each channel's routing: ``minSeverity``, ``kinds``,
        ``quietHours`` ('22:00-07:00 Europe/Berlin' or None), ``tickets``, ``maxAttempts``."""
        return {
            **self.route.describe(),
            "quietHours": str(self.quiet_hours) if self.quiet_hours else None,
            "tickets": self.tickets,
            "maxAttempts": self.retry.max_attempts,
        }


class Action(StrEnum):
    """What the outbox does with a delivery now: send it, skip it for good, or hold it for the digest."""

    SEND = "send"
    SKIP = "skip"
    HOLD = "hold"


@dataclass(frozen=True)
class Decision:
    """The answer of ``decide``: the action, the reason written on the delivery (``note``) and, for a
    hold, when the quiet hours end (UTC)."""

    action: Action
    note: str | None = None
    until: datetime | None = None  # HOLD: when quiet hours end


def decide(alert: Alert, channel: str, rules: ChannelRules, thread: Thread | None, now: datetime) -> Decision:
    """Whether ``channel`` sends, skips or holds ``alert`` now, given what it was told before."""
    if alert.kind == DIGEST_KIND:
        return Decision(Action.SEND)  # made for this channel after its quiet hours
    if alert.kind == FindingKind.ALERT_DELIVERY and alert.details.get("channel") == channel:
        return Decision(Action.SKIP, "about this channel's own failures: reported on the other channels")
    following = thread is not None and thread.open
    if not following:
        if rules.tickets and alert.resolves_finding:
            return Decision(Action.SKIP, "no open ticket for this finding: nothing to resolve")
        if refusal := rules.route.refuses(alert):
            return Decision(Action.SKIP, refusal)
    quiet = rules.quiet_hours
    if alert.severity is Severity.INFO and quiet is not None and quiet.contains(now):
        return Decision(
            Action.HOLD, f"quiet hours {quiet}: sent in the digest after them", quiet.end_after(now)
        )
    return Decision(Action.SEND)


def digest(channel: str, tenant_id: str, held: list[Alert], now: datetime) -> Alert:
    """One alert that carries the held alerts (oldest first) to ``channel`` after its quiet hours."""
    ordered = sorted(held, key=lambda a: (a.detected_at, a.alert_id))
    first, last = ordered[0].detected_at, ordered[-1].detected_at
    return new_alert(
        tenant_id=tenant_id,
        kind=DIGEST_KIND,
        finding_id=f"{DIGEST_KIND}.{channel}",
        severity=Severity.INFO,
        title=f"{len(ordered)} info alert{'s' if len(ordered) != 1 else ''} held during quiet hours",
        reason=(
            f"Held between {first:%Y-%m-%d %H:%M} and {last:%Y-%m-%d %H:%M} UTC; "
            "each item carries its own alert id."
        ),
        detected_at=now,
        details={"channel": channel, "alerts": [a.payload() for a in ordered]},
        channels=[channel],
        resolves=False,
    )


# -- reading the settings (used by shared/settings.py, which owns the registry) ----------------

_QUIET = re.compile(r"^(\d{1,2}):(\d{2})-(\d{1,2}):(\d{2})$")
ALL_KINDS = "*"


def routable_kinds() -> list[str]:
    """Every finding kind a channel can list in ``<CHANNEL>_KINDS``, sorted."""
    return sorted(k.value for k in FindingKind)


def severity_problem(name: str, value: str) -> str | None:
    """Why setting ``name`` = ``value`` is not a severity (high, warning, info in any case), or None."""
    if value.lower() in {s.value for s in Severity}:
        return None
    return f"{name} {value!r} is not a severity: use high, warning or info"


def parse_kinds(value: str) -> frozenset[str] | None:
    """``<CHANNEL>_KINDS`` as a set of finding kinds; None (every kind) for '*' or an empty value.
    Expects a value ``kinds_problem`` accepted."""
    names = [k.strip() for k in value.split(",") if k.strip()]
    if not names or ALL_KINDS in names:
        return None
    return frozenset(names)


def kinds_problem(name: str, value: str) -> str | None:
    """Why ``value`` is not '*' or a comma-separated list of known finding kinds (case matters;
    a near miss gets a 'did you mean'), or None."""
    names = [k.strip() for k in value.split(",") if k.strip()]
    if ALL_KINDS in names:
        return None if len(names) == 1 else f"{name} {value!r} mixes '*' with kinds: use one or the other"
    known = {k.lower(): k for k in routable_kinds()}
    unknown = [k for k in names if k not in known.values()]
    if not names or unknown:
        hints = [f"{k} (did you mean {known[k.lower()]}?)" if k.lower() in known else k for k in unknown]
        return (
            f"{name}: unknown finding kind(s) {', '.join(hints) or repr(value)}; "
            f"use '*' or a comma-separated list of {', '.join(routable_kinds())}"
        )
    return None


def zone(value: str) -> tzinfo:
    """The IANA time zone (raises ValueError when it does not exist)."""
    if value.upper() == "UTC":
        return UTC
    try:
        return ZoneInfo(value)
    except (ZoneInfoNotFoundError, ValueError) as exc:
        raise ValueError(value) from exc


def zone_problem(name: str, value: str) -> str | None:
    """Why ``value`` is not an IANA time zone name (or UTC), or None."""
    try:
        zone(value)
    except ValueError:
        return f"{name} {value!r} is not an IANA time zone such as Europe/Berlin or America/New_York (or UTC)"
    return None


def parse_quiet_hours(value: str, zone_name: str) -> QuietHours:
    """A daily window 'HH:MM-HH:MM' in the IANA zone ``zone_name``. Raises ValueError when the
    text does not match, a time is out of range, the two times are equal or the zone does not exist."""
    match = _QUIET.match(value.strip())
    if not match:
        raise ValueError(value)
    h1, m1, h2, m2 = (int(g) for g in match.groups())
    start, end = time(h1, m1), time(h2, m2)  # ValueError when out of range
    if start == end:
        raise ValueError(value)
    return QuietHours(start, end, zone(zone_name), zone_name)


def quiet_hours_problem(name: str, value: str) -> str | None:
    """Why ``value`` is not a daily window HH:MM-HH:MM with two different times, or None."""
    try:
        parse_quiet_hours(value, "UTC")
    except ValueError:
        return (
            f"{name} {value!r} is not a daily window HH:MM-HH:MM with two different times, e.g. "
            "22:00-07:00 (it may span midnight; the zone is ALERT_TIMEZONE)"
        )
    return None
