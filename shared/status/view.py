"""Pure: what the status page says, from stored state already read (shared/status/read.py).

Every ordering and sentence of the page is decided here, so it is tested without a browser or a
store: connectors worst first, open findings worst first (the order of GET /api/findings), each
job's freshness, alerts still pending or given up on, per channel. The template only lays it out.
"""

from __future__ import annotations

import itertools
from collections.abc import Iterable, Mapping
from dataclasses import dataclass, field, replace
from datetime import datetime, timedelta

from shared.alerting.alerts import Alert, DeliveryStatus
from shared.configure.baseline import Baseline
from shared.findings import query as finding_query
from shared.findings.kinds import title_of
from shared.findings.model import Finding, FindingStatus
from shared.heartbeat.health import Health, HealthPolicy, describe_age, warning_point_hours
from shared.heartbeat.plan import ConnectorStatus, Observation
from shared.job_runs import Freshness, Job, freshness
from shared.posture.model import Posture
from shared.status import chart
from shared.status.enforcement_chain import ChainSection, chain_section
from shared.status.settings_drift import DriftLine, drift_lines

# Worst first: Intune ignores the partner, then broken, then about to be ignored, then unknowable.
HEALTH_ORDER: tuple[Health, ...] = (
    Health.UNRESPONSIVE,
    Health.ERROR,
    Health.WARNING,
    Health.UNKNOWN,
    Health.NOT_SET_UP,
    Health.HEALTHY,
)
# The word shown with each health (colour is never the only signal) and its CSS tone.
HEALTH_WORDS: dict[Health, tuple[str, str]] = {
    Health.UNRESPONSIVE: ("Unresponsive", "bad"),
    Health.ERROR: ("Error", "bad"),
    Health.WARNING: ("Warning", "warn"),
    Health.UNKNOWN: ("Unknown", "warn"),
    Health.NOT_SET_UP: ("Not set up", "warn"),
    Health.HEALTHY: ("Healthy", "good"),
}
JOB_NAMES: dict[Job, str] = {
    Job.HEARTBEAT: "Heartbeat sweep (heartbeat_monitor)",
    Job.CA_DRIFT: "Conditional Access drift (ca_drift_monitor)",
    Job.OUTBOX: "Alert delivery (alerts_outbox)",
}
FRESHNESS_WORDS: dict[Freshness, tuple[str, str]] = {
    Freshness.OK: ("On time", "good"),
    Freshness.STALE: ("Stale: two scheduled runs missed", "bad"),
    Freshness.NEVER_RUN: ("Never run", "warn"),
}
MAX_UNDELIVERED = 50  # alert rows listed on the page; the counts cover them all


@dataclass(frozen=True)
class JobLine:
    name: str
    schedule: str
    last_success: datetime | None
    state: str  # words
    tone: str


@dataclass(frozen=True)
class ConnectorLine:
    anchor: str  # the chart's HTML id
    partner: str
    health: str  # words
    tone: str
    reason: str
    partner_state: str
    threshold: str  # "7 days (connector)" / "7 days (default)"
    last_heartbeat: str  # "8.2 days ago" / "never"
    health_since: datetime
    chart: chart.Chart | None
    chart_title: str
    chart_description: str  # the key figures, for people who cannot see the chart


@dataclass(frozen=True)
class FindingLine:
    severity: str
    status: str
    kind: str
    resource: str
    message: str
    remediation: str
    first_seen: datetime
    last_seen: datetime


@dataclass(frozen=True)
class ChannelLine:
    channel: str
    pending: int
    held: int
    dead: int


@dataclass(frozen=True)
class UndeliveredLine:
    channel: str
    status: str
    severity: str
    title: str
    detected_at: datetime
    attempts: int
    last_error: str


@dataclass(frozen=True)
class StatusPage:
    """Everything the status page shows; times are UTC."""

    tenant_id: str
    generated_at: datetime
    last_sweep_at: datetime | None
    sweep_problems: tuple[str, ...]
    window_start: datetime
    retention_days: int
    jobs: tuple[JobLine, ...]
    connectors: tuple[ConnectorLine, ...]
    drift: tuple[DriftLine, ...]  # the connectors' settings against their baselines, same order
    chain: ChainSection  # the enforcement chain per platform, from the stored posture
    findings: tuple[FindingLine, ...]
    channels: tuple[ChannelLine, ...]
    undelivered: tuple[UndeliveredLine, ...]
    undelivered_total: int


@dataclass(frozen=True)
class Stored:
    """What read.py fetched: the inputs of ``build``."""

    tenant_id: str
    now: datetime
    retention_days: int
    policy: HealthPolicy
    schedules: Mapping[Job, str]
    last_successes: Mapping[Job, datetime]
    last_sweep_at: datetime | None
    sweep_problems: tuple[str, ...]
    statuses: tuple[ConnectorStatus, ...]
    history: Mapping[str, list[Observation]]  # by connector id in lower case
    findings: tuple[Finding, ...]
    alerts: tuple[Alert, ...]
    baselines: Mapping[str, Baseline] = field(default_factory=dict)  # by lower-case connector id
    posture: Posture | None = None  # the chain run's last snapshot; None before the first


def worst_first(statuses: Iterable[ConnectorStatus]) -> list[ConnectorStatus]:
    """Connectors by health (``HEALTH_ORDER``), then the oldest heartbeat first (never: last), then
    partner name."""

    def key(s: ConnectorStatus) -> tuple[int, float, str]:
        age = s.heartbeat_age_hours
        return (HEALTH_ORDER.index(s.health), -age if age is not None else 0.0, s.partner.lower())

    return sorted(statuses, key=key)


def window_start(stored: Stored) -> datetime:
    """Where the charts' time axis starts: the retention window's start, or the oldest observation
    kept when it is later (a new deployment's few hours are not squeezed into 90 days); the window's
    start whenever a row older than it is kept (the prune keeps each connector's newest)."""
    retention_start = stored.now - timedelta(days=stored.retention_days)
    every = [o.checked_at for seen in stored.history.values() for o in seen]
    if any(at < retention_start for at in every):  # the prune's kept rows: the whole window is known
        return retention_start
    kept = [at for at in every if at >= retention_start]
    oldest = min(kept, default=stored.now - timedelta(hours=1))
    return max(retention_start, min(oldest, stored.now - timedelta(minutes=1)))


def _days(n: int) -> str:
    return f"{n} day" if n == 1 else f"{n} days"


def hours_at_or_above(points: list[chart.Point], threshold_hours: float) -> float:
    """How long the drawn line (``age_points``, oldest first) is at or above ``threshold_hours``,
    in hours: the age grows linearly between two points, so a segment crossing the threshold
    counts from the crossing on; gaps and drops count nothing."""
    total = 0.0
    for a, b in itertools.pairwise(points):
        if a.age_hours is None or b.age_hours is None or b.at <= a.at:
            continue
        span = (b.at - a.at).total_seconds() / 3600
        low, high = sorted((a.age_hours, b.age_hours))
        if low >= threshold_hours:
            total += span
        elif high > threshold_hours:
            total += span * (high - threshold_hours) / (high - low)
    return total


def age_points(
    seen: Iterable[Observation],
    until: datetime | None,
    opened: tuple[datetime, Observation | None] | None = None,
) -> list[chart.Point]:
    """A connector's heartbeat age over time (oldest first) from its observations and the last
    sweep's time ``until``. A sweep stores an observation only when something changed; in between
    the age grows with the clock, so each observation's age is carried forward to the next one (a
    new heartbeat there drops it) and the newest to ``until``. An observation without an age (no
    heartbeat) is a gap. ``opened``: the window's start and the newest observation before it
    (kept by the daily prune), which gives the age the window opens with."""
    ordered = sorted(seen, key=lambda o: o.checked_at)
    if opened is not None:
        start, before = opened
        if before is not None and (not ordered or ordered[0].checked_at > start):
            age = before.heartbeat_age_hours
            grown = None if age is None else age + (start - before.checked_at).total_seconds() / 3600
            ordered.insert(0, replace(before, checked_at=start, heartbeat_age_hours=grown))
    points: list[chart.Point] = []
    for i, o in enumerate(ordered):
        points.append(chart.Point(o.checked_at, o.heartbeat_age_hours))
        later = ordered[i + 1] if i + 1 < len(ordered) else None
        after = later.checked_at if later is not None else until
        if o.heartbeat_age_hours is None or after is None or after <= o.checked_at:
            continue
        grown = o.heartbeat_age_hours + (after - o.checked_at).total_seconds() / 3600
        if (
            later is not None
            and later.heartbeat_age_hours is not None
            and abs(later.heartbeat_age_hours - grown) < 1e-6
        ):
            continue  # no heartbeat in between: the next observation continues the line
        points.append(chart.Point(after, grown))
    return points


def connector_line(
    status: ConnectorStatus, seen: list[Observation], stored: Stored, start: datetime
) -> ConnectorLine:
    """One connector's row and chart. The chart's text alternative gives the key figures."""
    words, tone = HEALTH_WORDS.get(status.health, (status.health.value, "warn"))
    threshold_hours = status.threshold_days * 24.0
    warning_hours = warning_point_hours(status.threshold_days, stored.policy)
    kept = [o for o in seen if start <= o.checked_at <= stored.now]
    before = max((o for o in seen if o.checked_at < start), key=lambda o: o.checked_at, default=None)
    points = [p for p in age_points(kept, stored.last_sweep_at, opened=(start, before)) if p.at <= stored.now]
    ages = [p.age_hours for p in points if p.age_hours is not None]
    drawn = (
        chart.build(
            points,
            start=start,
            end=stored.now,
            threshold_hours=threshold_hours,
            warning_hours=warning_hours,
        )
        if points
        else None
    )
    over = hours_at_or_above(points, threshold_hours)
    source = "connector" if status.threshold_from_connector else "default"
    latest = "never" if status.heartbeat_age_hours is None else describe_age(status.heartbeat_age_hours)
    description = (
        f"{len(kept)} observations (one per change) from {start:%d %b %H:%M}"
        f" to {stored.now:%d %b %H:%M} UTC. "
        f"Latest heartbeat age {latest}; largest {describe_age(max(ages)) if ages else 'none'}. "
        f"Threshold {_days(status.threshold_days)}, warning from {describe_age(warning_hours)}; "
        f"at or above the threshold for {describe_age(over)} of the time drawn."
    )
    return ConnectorLine(
        anchor=f"chart-{status.id.lower()}",
        partner=status.partner,
        health=words,
        tone=tone,
        reason=status.reason,
        partner_state=status.partner_state or "(none)",
        threshold=f"{_days(status.threshold_days)} ({source})",
        last_heartbeat=latest if status.heartbeat_age_hours is None else f"{latest} ago",
        health_since=status.health_since,
        chart=drawn,
        chart_title=f"Heartbeat age of {status.partner} over time, with its threshold and warning point",
        chart_description=description,
    )


def _jobs(stored: Stored) -> tuple[JobLine, ...]:
    lines = []
    for job, schedule in stored.schedules.items():
        last = stored.last_successes.get(job)
        words, tone = FRESHNESS_WORDS[freshness(last, schedule, stored.now)]
        lines.append(JobLine(JOB_NAMES[job], schedule, last, words, tone))
    return tuple(lines)


def _findings(found: Iterable[Finding]) -> tuple[FindingLine, ...]:
    active = sorted((f for f in found if f.status is not FindingStatus.RESOLVED), key=finding_query.sort_key)
    return tuple(
        FindingLine(
            severity=f.severity.value,
            status=f.status.value,
            kind=title_of(f.kind) or f.kind,
            resource=f.resource_name,
            message=f.message,
            remediation=f.remediation,
            first_seen=f.first_seen,
            last_seen=f.last_seen,
        )
        for f in active
    )


_OPEN = (DeliveryStatus.PENDING, DeliveryStatus.HELD, DeliveryStatus.DEAD)


def _deliveries(alerts: Iterable[Alert]) -> tuple[tuple[ChannelLine, ...], list[UndeliveredLine]]:
    counts: dict[str, dict[DeliveryStatus, int]] = {}
    lines: list[UndeliveredLine] = []
    for a in alerts:
        for name, d in a.deliveries.items():
            per = counts.setdefault(name, dict.fromkeys(_OPEN, 0))
            if d.status in _OPEN:
                per[d.status] += 1
                lines.append(
                    UndeliveredLine(
                        name,
                        d.status.value,
                        a.severity.value,
                        a.title,
                        a.detected_at,
                        d.attempts,
                        d.last_error or "",
                    )
                )
    channels = tuple(
        ChannelLine(name, c[DeliveryStatus.PENDING], c[DeliveryStatus.HELD], c[DeliveryStatus.DEAD])
        for name, c in sorted(counts.items())
    )
    # Given up first (a person must act), then the oldest still waiting.
    lines.sort(key=lambda u: (u.status != DeliveryStatus.DEAD.value, u.detected_at, u.channel))
    return channels, lines


def build(stored: Stored) -> StatusPage:
    """The status page for ``stored``: pure, the same input always says the same."""
    start = window_start(stored)
    ordered = worst_first(stored.statuses)
    connectors = tuple(
        connector_line(s, stored.history.get(s.id.lower(), []), stored, start) for s in ordered
    )
    found = {f.id: f for f in stored.findings}
    channels, undelivered = _deliveries(stored.alerts)
    return StatusPage(
        tenant_id=stored.tenant_id,
        generated_at=stored.now,
        last_sweep_at=stored.last_sweep_at,
        sweep_problems=stored.sweep_problems,
        window_start=start,
        retention_days=stored.retention_days,
        jobs=_jobs(stored),
        connectors=connectors,
        drift=drift_lines(ordered, stored.baselines, found),
        chain=chain_section(stored.posture),
        findings=_findings(stored.findings),
        channels=channels,
        undelivered=tuple(undelivered[:MAX_UNDELIVERED]),
        undelivered_total=len(undelivered),
    )
