"""Planning a heartbeat sweep: from what Graph says now and what was stored before, to the new
connector statuses, findings and alerts. Pure: the monitor module does the reading and writing.
"""

from __future__ import annotations

from dataclasses import dataclass, field, fields, replace
from datetime import datetime
from operator import attrgetter

from shared import catalog
from shared.alerting.alerts import Alert, finding_alert, new_alert
from shared.configure.drift import raised_while_silent
from shared.configure.fields import connector_settings
from shared.findings.kinds import KINDS, heartbeat_remediation
from shared.findings.model import (
    Finding,
    FindingKind,
    FindingStatus,
    Severity,
    finding_id,
    observe,
    resolve,
    seen_again,
)
from shared.graph.connectors import ConnectorReading, parse_timestamp
from shared.graph.entries import bounded
from shared.heartbeat.health import Health, HealthPolicy, Verdict, judge
from shared.store.rows import HISTORY_TABLE, RowDelete, RowKind, Write, inverted_ticks, safe_key


@dataclass(frozen=True)
class ConnectorStatus:
    """The latest judgement of one connector: what the API serves and history keeps."""

    tenant_id: str
    id: str
    partner: str
    partner_known: bool
    partner_state: str | None
    last_heartbeat: str | None  # as Graph sent it
    threshold_days: int
    threshold_from_connector: bool
    heartbeat_age_hours: float | None
    health: Health
    reason: str
    checked_at: datetime
    health_since: datetime  # when this health began: "unresponsive since ..."
    # the managed settings Graph listed (Graph property -> value, configure.fields.FIELDS): the
    # read-back of GET /api/connectors and the "previous" of the next sweep's drift check
    settings: dict[str, bool | int] = field(default_factory=dict)


# What time alone changes in a status: a sweep writes a connector's row (and its history
# observation) only when something else changed, so a steady sweep writes no status at all.
_AGEING = ("checked_at", "heartbeat_age_hours", "reason")


def unchanged(stored: ConnectorStatus | None, judged: ConnectorStatus) -> bool:
    """True when ``judged`` says nothing ``stored`` did not: the same health since the same moment,
    partner state, last heartbeat, threshold and settings, only older (its age, its reason's
    wording and the check time move with the clock). A status stored while Graph failed ("not
    re-checked") is never unchanged: the re-check replaces it."""
    if stored is None or stored.reason.startswith(NOT_RECHECKED):
        return False
    return same_facts(stored, judged)


def same_facts(stored: ConnectorStatus | None, judged: ConnectorStatus) -> bool:
    """``unchanged`` without its exception for a status stored while Graph failed: the facts
    alone (a connector checked again after an outage, with nothing new, keeps its finding as is)."""
    return stored is not None and _facts(stored) == _facts(judged)


# One C call reading every fact as a tuple (a sweep compares 1,000 connectors twice each).
_facts = attrgetter(*(f.name for f in fields(ConnectorStatus) if f.name not in _AGEING))


def as_of(status: ConnectorStatus, sweep: SweepRecord | None) -> ConnectorStatus:
    """``status`` as the last sweep saw it: a sweep that found nothing new leaves the stored row as
    written (``unchanged``), so its age, reason and check time are re-judged here at the sweep's
    time with the sweep's own policy. Left as stored when it is already that recent, when it was
    not re-checked, when the record predates kept policies, or when the re-judged health differs
    (the sweep would have written it: it was not that sweep's verdict)."""
    policy = sweep.policy if sweep is not None else None
    if sweep is None or policy is None or sweep.checked_at <= status.checked_at:
        return status
    if status.reason.startswith(NOT_RECHECKED):
        return status
    raw = status.last_heartbeat
    parsed = parse_timestamp(raw) if raw is not None else None
    reading = ConnectorReading(
        id=status.id,
        partner_state=status.partner_state,
        last_heartbeat=parsed,
        last_heartbeat_raw=raw,
        heartbeat_unreadable=raw is not None and parsed is None,
        threshold_days=status.threshold_days if status.threshold_from_connector else None,
    )
    verdict = judge(reading, sweep.checked_at, policy)
    if verdict.health is not status.health:
        return status
    return replace(
        status,
        checked_at=sweep.checked_at,
        heartbeat_age_hours=verdict.heartbeat_age_hours,
        reason=verdict.reason,
    )


def connector_key(connector_id: str) -> str:
    """A connector's storage key: its id in lower case, hashed when it is no plain GUID-like
    text (``safe_key``), so an id with '/' or of any length is stored; GUIDs keep their keys."""
    return safe_key(connector_id.lower())


CONNECTOR_STATUS_ROWS = RowKind(
    ConnectorStatus,
    "connector",
    key=lambda s: connector_key(s.id),
    layout="latest status of a connector (the id, as Graph sent it, is a column)",
)


@dataclass(frozen=True)
class SweepRecord:
    """The last sweep's summary: row ``sweep|<name>`` (``sweep|heartbeat``)."""

    tenant_id: str
    name: str  # "heartbeat"
    checked_at: datetime
    connectors: int
    problems: list[str]
    transient_since: datetime | None = None  # first of the sweeps Graph throttled or failed in a row
    # The policy this sweep judged with (settings), so a reader re-judges a status row at this
    # sweep's time exactly as the sweep did (``as_of``); None in records written before it.
    default_threshold_days: int | None = None
    early_warning_hours: int | None = None
    # The heartbeat timer job's last success known to this record: this sweep's time when it was
    # one (nothing went wrong, nothing left to deliver), else carried over from the record before.
    # A steady run so writes one row, not this and a job row; readers take the newer of the two
    # (``job_runs.successes``). None in records written before it was kept.
    succeeded_at: datetime | None = None
    # The version this record was read at: a sweep writes its record over that version only, so
    # a run that read an older record (a manual check beside the timer) cannot put back an older
    # success; it plans again from the newer record instead (StoreConflict).
    etag: str | None = field(default=None, compare=False, repr=False, metadata={"stored": False})

    @property
    def policy(self) -> HealthPolicy | None:
        """The sweep's judging policy, None for a record written before it was kept."""
        if self.default_threshold_days is None or self.early_warning_hours is None:
            return None
        return HealthPolicy(self.default_threshold_days, self.early_warning_hours)


SWEEP_ROWS = RowKind(
    SweepRecord,
    "sweep",
    key=lambda r: r.name,
    layout="the last sweep's summary; written only over the version it was read at",
    write=Write.IF_UNCHANGED,
    etag=lambda r: r.etag,
)


@dataclass(frozen=True)
class Observation:
    """One history row: what a sweep saw for one connector."""

    connector_id: str
    checked_at: datetime
    health: str
    partner_state: str | None
    last_heartbeat: str | None
    heartbeat_age_hours: float | None
    threshold_days: int
    reason: str


def history_key(connector_id: str, checked_at: datetime) -> str:
    """The history RowKey of a connector's observation at ``checked_at``: ``obs|<inverted
    ticks>|<connector key>``, so everything older than a moment is ONE RowKey range (what the
    daily prune deletes) and the newest rows come first."""
    return OBSERVATION_ROWS.row_key(f"{inverted_ticks(checked_at)}|{connector_key(connector_id)}")


OBSERVATION_ROWS = RowKind(
    Observation,
    "obs",
    key=lambda o: f"{inverted_ticks(o.checked_at)}|{connector_key(o.connector_id)}",
    layout="obs|<inverted ticks>|<connector key>: what one sweep saw for one connector, newest "
    "first; column connector: the connector key (a connector's history is filtered on it)",
    table=HISTORY_TABLE,
    columns=lambda o: {"connector": connector_key(o.connector_id)},
)


@dataclass(frozen=True)
class LegacyObservation(Observation):
    """An observation written before the ``obs|`` layout, RowKey ``<connector key>|<inverted
    ticks>``: still read (a connector's history) and pruned once past the retention, never written.
    Every such key sorts before ``obs|`` (connector keys are hex GUIDs or ``h-`` hashes)."""


LEGACY_OBSERVATION_ROWS = RowKind(
    LegacyObservation,
    "",
    key=lambda o: f"{connector_key(o.connector_id)}|{inverted_ticks(o.checked_at)}",
    layout="<connector key>|<inverted ticks>: an observation in the layout before obs| (read, pruned)",
    table=HISTORY_TABLE,
)


@dataclass(frozen=True)
class SweepPlan:
    """What one sweep judged and writes: every status (written unless ``unchanged``), the findings
    that changed, the alerts to raise, and the connectors Graph no longer lists."""

    statuses: list[ConnectorStatus]
    findings: list[Finding]  # only those that changed
    alerts: list[Alert]
    removed: list[RowDelete] = field(default_factory=list)  # status rows of connectors Graph no longer lists
    # lower-case ids of the statuses with nothing new but their age (``unchanged``): not written
    unchanged: frozenset[str] = frozenset()


def _details(status: ConnectorStatus, previous: Health | None) -> dict[str, object]:
    return {
        "connectorId": status.id,
        "partner": status.partner,
        "previousHealth": previous.value if previous else None,
        "health": status.health.value,
        "thresholdDays": status.threshold_days,
        "lastHeartbeatDateTime": status.last_heartbeat,
    }


_HEADLINES = {
    Health.HEALTHY: "connector recovered",
    Health.WARNING: "heartbeat is getting old",
    Health.UNRESPONSIVE: "is unresponsive: Intune ignores its compliance data",
    Health.NOT_SET_UP: "connector is not set up on the partner side",
    Health.ERROR: "connector reports an error",
    Health.UNKNOWN: "connector cannot be judged",
}


def _title(status: ConnectorStatus, previous: Health | None) -> str:
    before = f" (was {previous.value})" if previous and status.health is not Health.HEALTHY else ""
    return f"{status.partner} {_HEADLINES[status.health]}{before}"


def plan_connector(
    reading: ConnectorReading,
    previous: ConnectorStatus | None,
    finding: Finding | None,
    *,
    tenant_id: str,
    now: datetime,
    policy: HealthPolicy,
    channels: list[str],
) -> tuple[ConnectorStatus, Finding | None, Alert | None]:
    """Judge one connector and decide whether its finding and an alert change."""
    partner = catalog.by_id(reading.id)
    verdict = judge(reading, now, policy)
    changed = previous is None or previous.health is not verdict.health
    raised = _raised_while_silent(previous, verdict)
    if raised:  # not a recovery: Intune was told to wait longer
        verdict = replace(verdict, reason=f"{raised} (not a recovery); {verdict.reason}")
    status = ConnectorStatus(
        tenant_id=tenant_id,
        id=reading.id,
        partner=partner.name,
        partner_known=partner.known,
        partner_state=reading.partner_state,
        last_heartbeat=reading.last_heartbeat_raw,
        threshold_days=verdict.threshold_days,
        threshold_from_connector=verdict.threshold_from_connector,
        heartbeat_age_hours=verdict.heartbeat_age_hours,
        health=verdict.health,
        reason=verdict.reason,
        checked_at=now,
        health_since=now if changed or previous is None else previous.health_since,
        settings=connector_settings(reading.toggles, reading.threshold_days),
    )
    remedy = heartbeat_remediation(reading.id, verdict.health.value, verdict.remediation)
    new_finding = _next_finding(status, finding, verdict.severity, remedy, now)
    if same_facts(previous, status) and seen_again(new_finding, finding):
        # Nothing but time moved: the stored finding stays as written, its message true as of
        # its lastSeen (GET /api/connectors has the age as of the last sweep).
        new_finding = finding
    # A first sighting of a healthy connector is not news; any other change of health is, unless a
    # person acknowledged the problem and it merely moved between unhealthy states.
    newsworthy = changed and not (previous is None and verdict.health is Health.HEALTHY)
    if (
        finding is not None
        and finding.status is FindingStatus.ACKNOWLEDGED
        and verdict.health is not Health.HEALTHY
    ):
        newsworthy = False
    alert = None
    if newsworthy and new_finding is not None:
        alert = new_alert(
            tenant_id=tenant_id,
            kind=FindingKind.HEARTBEAT,
            finding_id=new_finding.id,
            severity=verdict.severity,
            title=f"{status.partner} unresponsive threshold was raised while the partner was silent"
            if raised
            else _title(status, previous.health if previous else None),
            reason=verdict.reason,
            detected_at=now,
            details=_details(status, previous.health if previous else None),
            channels=channels,
        )
    return status, new_finding if new_finding != finding else None, alert


def _raised_while_silent(previous: ConnectorStatus | None, verdict: Verdict) -> str | None:
    """The sentence when this sweep sees a higher threshold than the last one while the partner's
    silence had passed the old threshold (configure.drift.raised_while_silent), else None."""
    if previous is None or verdict.heartbeat_age_hours is None:
        return None
    return raised_while_silent(previous.threshold_days, verdict.threshold_days, verdict.heartbeat_age_hours)


def _next_finding(
    status: ConnectorStatus,
    finding: Finding | None,
    severity: Severity,
    remediation: str,
    now: datetime,
) -> Finding | None:
    if status.health is Health.HEALTHY:
        if finding is not None and finding.is_active:
            return resolve(finding, message=f"{status.partner}: {status.reason}", now=now)
        return finding
    return observe(
        finding,
        tenant_id=status.tenant_id,
        kind=FindingKind.HEARTBEAT,
        resource_id=status.id,
        resource_name=status.partner,
        severity=severity,
        message=f"{status.partner}: {status.reason}",
        remediation=remediation,
        now=now,
    )


def plan_sweep(
    readings: list[ConnectorReading],
    previous: dict[str, ConnectorStatus],
    findings: dict[str, Finding],
    *,
    tenant_id: str,
    now: datetime,
    policy: HealthPolicy,
    channels: list[str],
    complete: bool = True,
) -> SweepPlan:
    """Judge every connector Graph listed against its previous status and finding, and plan the
    removal of those it no longer lists. ``previous`` is keyed by lowercase connector id, ``findings``
    by finding id; ``channels`` are the alert channel names. ``complete`` False (paging stopped
    early): connectors not listed may be on unread pages, so none is planned as removed; their
    stored status stays. Pure: never raises for what Graph sent."""
    statuses: list[ConnectorStatus] = []
    changed: list[Finding] = []
    alerts: list[Alert] = []
    quiet: set[str] = set()
    for reading in readings:
        key = reading.id.lower()
        status, finding, alert = plan_connector(
            reading,
            previous.get(key),
            findings.get(finding_id(FindingKind.HEARTBEAT, reading.id)),
            tenant_id=tenant_id,
            now=now,
            policy=policy,
            channels=channels,
        )
        statuses.append(status)
        if finding is not None:
            changed.append(finding)
        if alert is not None:
            alerts.append(alert)
        if unchanged(previous.get(key), status):
            quiet.add(key)
    seen = {r.id.lower() for r in readings}
    removed: list[RowDelete] = []
    for key in sorted(k for k in previous if k not in seen and complete):
        gone = previous[key]
        finding, alert = plan_removal(
            gone, findings.get(finding_id(FindingKind.HEARTBEAT, gone.id)), now, channels
        )
        removed.append(CONNECTOR_STATUS_ROWS.delete_of(gone))
        changed += [finding] if finding else []
        alerts.append(alert)
    return SweepPlan(statuses, changed, alerts, removed, frozenset(quiet))


NOT_RECHECKED = "not re-checked: "
_LAST_CHECK = " Last check: "


def not_rechecked(status: ConnectorStatus, problem: str) -> ConnectorStatus:
    """``status`` kept as last judged (health, since, checked at), its reason saying why this sweep
    could not re-check it: 'not re-checked: <problem>. Last check: <the judged reason>'."""
    judged = status.reason
    if judged.startswith(NOT_RECHECKED):
        judged = judged.split(_LAST_CHECK, 1)[-1]
    return replace(status, reason=f"{NOT_RECHECKED}{problem}.{_LAST_CHECK}{judged}")


def plan_removal(
    gone: ConnectorStatus, finding: Finding | None, now: datetime, channels: list[str]
) -> tuple[Finding | None, Alert]:
    """A connector deleted in Intune: MTD data from that partner stops counting. Said once."""
    reason = (
        f"the {gone.partner} connector no longer exists in Intune (last seen "
        f"{gone.checked_at:%Y-%m-%d %H:%M} UTC): devices are no longer judged with this partner's risk data"
    )
    closed = resolve(finding, message=reason, now=now) if finding is not None and finding.is_active else None
    alert = new_alert(
        tenant_id=gone.tenant_id,
        kind=FindingKind.HEARTBEAT,
        finding_id=finding_id(FindingKind.HEARTBEAT, gone.id),
        severity=Severity.WARNING,
        title=f"{gone.partner} connector was removed",
        reason=reason,
        detected_at=now,
        details={
            "connectorId": gone.id,
            "partner": gone.partner,
            "previousHealth": gone.health.value,
            "health": "removed",
            "thresholdDays": gone.threshold_days,
            "lastHeartbeatDateTime": gone.last_heartbeat,
        },
        channels=channels,
    )
    return closed, alert


_ACCESS = KINDS[FindingKind.GRAPH_ACCESS]


TRANSIENT_REMEDIATION = (
    "Microsoft Graph keeps throttling or failing transiently (429, 503, 504, timeouts): check "
    "Microsoft 365 service health (admin center > Health > Service health) for Intune and "
    "Microsoft Graph, and whether another app of this tenant uses up Graph's throttling limits; "
    "MTD Guard retries every sweep and resolves this by itself when Graph answers"
)


def plan_graph_access(
    problem: str | None,
    existing: Finding | None,
    *,
    tenant_id: str,
    now: datetime,
    channels: list[str],
    transient: bool = False,
) -> tuple[Finding | None, Alert | None]:
    """The tenant-level finding for 'cannot read connectors': opened once, resolved once.
    ``transient`` (throttling or a service fault past the grace): warning severity, a remediation
    about throttling and service health instead of access."""
    resource = f"tenant-{tenant_id}"
    if problem is None:
        if existing is None or not existing.is_active:
            return None, None
        done = resolve(existing, message="Microsoft Graph answers again", now=now)
        return done, finding_alert(done, "Microsoft Graph access restored", now, channels)
    finding = observe(
        existing,
        tenant_id=tenant_id,
        kind=FindingKind.GRAPH_ACCESS,
        resource_id=resource,
        resource_name=f"tenant {tenant_id}",
        # above the kind's default when access is broken: no connector is monitored at all
        severity=Severity.WARNING if transient else Severity.HIGH,
        message=problem,
        remediation=(TRANSIENT_REMEDIATION if transient else _ACCESS.remediation)
        + "; until then connectors are not monitored.",
        now=now,
    )
    opened = existing is None or not existing.is_active
    alert = finding_alert(finding, "Cannot monitor MTD connectors", now, channels) if opened else None
    return finding, alert


_ODD = KINDS[FindingKind.GRAPH_DATA]


def plan_odd_data(
    unjudgeable: list[str],
    anomaly: str | None,
    existing: Finding | None,
    *,
    tenant_id: str,
    now: datetime,
    channels: list[str],
    listing: str = "connectors",
    entry: str = "connector",
) -> tuple[Finding | None, Alert | None]:
    """ONE tenant-level warning finding for everything odd in Graph's connector list: entries
    that are not judgeable connectors (``unjudgeable``) and a paging ``anomaly``. Opened (and
    alerted) once, refreshed while it lasts, resolved (and alerted) when a sweep sees none.
    Another job's lists (``listing``, e.g. "conditional-access"; ``entry`` names what an entry
    is) get their own finding, so one job reading cleanly never resolves the other's."""
    resource = f"tenant-{tenant_id}.{listing}"
    clean = f"Graph's {entry} list reads cleanly again"
    if not unjudgeable and anomaly is None:
        if existing is None or not existing.is_active:
            return None, None
        done = resolve(existing, message=clean, now=now)
        return done, finding_alert(done, clean, now, channels)
    parts = []
    if unjudgeable:
        parts.append(f"Graph returned a {entry} MTD Guard cannot judge: " + "; ".join(unjudgeable[:5]))
        if len(unjudgeable) > 5:
            parts[-1] += f"; and {len(unjudgeable) - 5} more"
    if anomaly:
        parts.append(anomaly)
    finding = observe(
        existing,
        tenant_id=tenant_id,
        kind=FindingKind.GRAPH_DATA,
        resource_id=resource,
        resource_name=f"{entry} list of tenant {tenant_id}",
        severity=_ODD.severity,
        message=bounded(". ".join(parts), 4000),
        remediation=_ODD.remediation,
        now=now,
    )
    opened = existing is None or not existing.is_active
    title = f"Graph returned {entry} data MTD Guard cannot judge"
    return finding, finding_alert(finding, title, now, channels) if opened else None
