"""The heartbeat sweep, end to end: read Graph, judge, record, alert.

Order matters and is why nothing detected goes unreported: the new statuses, findings and alerts
are committed together first; delivery comes after, from the outbox, and whatever does not get
through stays pending for the next run. A Graph failure is itself a finding (and an alert), not a
crashed function; a storage failure is reported in the result and the next sweep sees the same
change again, because nothing about it was recorded.
"""

from __future__ import annotations

import logging
from collections.abc import Callable, Sequence
from concurrent.futures import wait
from dataclasses import dataclass, field, replace
from datetime import datetime, timedelta

from shared import logs
from shared.alerting.alerts import ALERT_ROWS, Alert
from shared.alerting.channels import Channel
from shared.alerting.outbox import DeliveryReport, deliver_after_run
from shared.clock import now_utc
from shared.configure.baseline import BASELINE_ROWS, Baseline
from shared.configure.drift import DriftPlan, Seen, close_removed, plan_sweep_drift
from shared.findings.model import FINDING_ROWS, Finding, FindingKind, finding_id
from shared.graph.entries import bounded
from shared.graph.errors import READ_CONNECTORS, READ_INTUNE_AUDIT_EVENTS, GraphError
from shared.graph.gateway import ConnectorList, GraphGateway
from shared.heartbeat import plan as heartbeat
from shared.heartbeat.health import HealthPolicy
from shared.heartbeat.plan import (
    CONNECTOR_STATUS_ROWS,
    LEGACY_OBSERVATION_ROWS,
    OBSERVATION_ROWS,
    SWEEP_ROWS,
    ConnectorStatus,
    LegacyObservation,
    Observation,
    SweepRecord,
    connector_key,
)
from shared.job_runs import Job
from shared.settings import Settings
from shared.store.rows import RowDelete, Select, eq
from shared.store.state import StateStore, StoreConflict, StoreError, StoreRejected

log = logging.getLogger(__name__)
SWEEP_NAME = "heartbeat"
SWEEP_ATTEMPTS = 2  # a second plan when a finding changed under the first one


@dataclass
class SweepResult:
    """What one heartbeat sweep found and did (POST /api/checks/heartbeat answers it)."""

    tenant_id: str
    checked_at: datetime
    statuses: list[ConnectorStatus] = field(default_factory=list)
    alerts: list[Alert] = field(default_factory=list)
    problems: list[str] = field(default_factory=list)  # what went wrong, readable
    delivery: DeliveryReport = field(default_factory=DeliveryReport)
    recorded: bool = False
    drifted: list[str] = field(default_factory=list)  # ids of connectors that differ from their baseline
    success_recorded: bool = False  # the job's success was written with the sweep's own record
    # Storage could not be reached, so nothing of this sweep is recorded (a conflict is not this:
    # another run recorded the same changes first).
    storage_unavailable: bool = False

    @property
    def ok(self) -> bool:
        """Nothing went wrong: Graph read, state recorded, no problem to report."""
        return not self.problems


# -- what the heartbeat keeps in the store ---------------------------------------------------------


def stored_statuses(store: StateStore, tenant_id: str) -> dict[str, ConnectorStatus]:
    """The latest status of every connector seen by the last sweep, as of that sweep (ages and
    reasons re-judged at its time: ``plan.as_of``), by lower-case connector id. One read."""
    found = store.read(tenant_id, (Select(CONNECTOR_STATUS_ROWS), Select(SWEEP_ROWS, SWEEP_NAME)))
    sweep = next((r for r, _ in found[SWEEP_ROWS]), None)
    return {s.id.lower(): heartbeat.as_of(s, sweep) for s, _ in found[CONNECTOR_STATUS_ROWS]}


def last_sweep(store: StateStore, tenant_id: str) -> SweepRecord | None:
    """The last heartbeat sweep's summary, None before the first."""
    return store.get(SWEEP_ROWS, tenant_id, SWEEP_NAME)


# What a sweep reads of the tenant's state partition, in ONE query: the statuses and findings it
# judges against, its own last record, and the alerts still pending (none: nothing to deliver).
SWEEP_READS = (
    Select(CONNECTOR_STATUS_ROWS),
    Select(FINDING_ROWS),
    Select(SWEEP_ROWS, SWEEP_NAME),
    Select(ALERT_ROWS, where=(eq("pending", True),)),
    Select(BASELINE_ROWS),
)


@dataclass(frozen=True)
class SweepState:
    """The tenant's state as one sweep read it (``read_sweep_state``)."""

    previous: dict[str, ConnectorStatus]  # by lower-case connector id
    findings: dict[str, Finding]  # by finding id, each with the ETag it was read at
    last: SweepRecord | None
    pending: bool  # some alert of the tenant has a channel still to deliver
    baselines: dict[str, Baseline]  # by lower-case connector id (configure/baseline.py)


def read_sweep_state(store: StateStore, tenant_id: str) -> SweepState:
    """Everything a sweep needs of the tenant's state, in one round trip (StoreError when
    storage is unreachable)."""
    found = store.read(tenant_id, SWEEP_READS)
    records = [r for r, _ in found[SWEEP_ROWS]]
    return SweepState(
        previous={s.id.lower(): s for s, _ in found[CONNECTOR_STATUS_ROWS]},
        findings={f.id: f for f, _ in found[FINDING_ROWS]},
        last=records[0] if records else None,
        pending=bool(found[ALERT_ROWS]),
        baselines={b.connector_id.lower(): b for b, _ in found[BASELINE_ROWS]},
    )


def history(store: StateStore, tenant_id: str, connector_id: str, limit: int = 50) -> list[Observation]:
    """A connector's observations, newest first, at most ``limit`` (rows of both history layouts,
    until the older one has aged out: see ``LegacyObservation``)."""
    key = connector_key(connector_id)
    found: list[Observation] = store.query(OBSERVATION_ROWS, tenant_id, eq("connector", key), limit=limit)
    legacy: list[LegacyObservation] = store.query(LEGACY_OBSERVATION_ROWS, tenant_id, under=key, limit=limit)
    found.extend(legacy)
    return sorted(found, key=lambda o: o.checked_at, reverse=True)[:limit]


@logs.job_run(Job.HEARTBEAT)
def run_heartbeat_sweep(
    settings: Settings,
    gateway: GraphGateway,
    store: StateStore,
    channels: list[Channel],
    *,
    tenant_id: str,
    now: datetime | None = None,
    job: Job | None = None,
) -> SweepResult:
    """One heartbeat sweep of ``tenant_id`` at ``now`` (default: the clock): every connector
    judged, statuses/findings/alerts committed, history appended, pending alerts delivered.

    Never raises for Graph or storage failures: a Graph failure becomes the graphAccess finding,
    a storage failure leaves ``recorded`` False; both are listed in ``problems``.
    """
    now = now or now_utc()
    tenant = tenant_id
    names = [c.name for c in channels]
    pending = True  # unknown until the state was read
    for attempt in range(1, SWEEP_ATTEMPTS + 1):
        result = SweepResult(tenant_id=tenant, checked_at=now)
        try:
            pending = _sweep(
                settings=settings,
                gateway=gateway,
                store=store,
                channels=names,
                now=now,
                result=result,
                job=job,
            )
        except StoreConflict as exc:
            # Someone acknowledged or another run updated a finding after this sweep read it:
            # nothing was written for that connector; plan again from what is stored now.
            if attempt < SWEEP_ATTEMPTS:
                log.info("heartbeat sweep for %s: state changed meanwhile, planning again", tenant)
                continue
            result.problems.append(str(exc))
        except StoreError as exc:
            result.problems.append(str(exc))
            result.storage_unavailable = True
            log.error("heartbeat sweep for %s not recorded: %s", tenant, exc)
        break
    if settings.configure.restores and result.drifted:
        from shared.configure.restore import restore_drifted  # only with CONNECTOR_RESTORE on

        result.problems += restore_drifted(
            settings, gateway, store, channels, tenant_id=tenant, connector_ids=result.drifted, now=now
        )
    pending = pending or bool(result.alerts)
    result.delivery = deliver_after_run(
        store, channels, now, tenant_id=tenant, problems=result.problems, pending=pending
    )
    return result


def _sweep(
    *,
    settings: Settings,
    gateway: GraphGateway,
    store: StateStore,
    channels: list[str],
    now: datetime,
    result: SweepResult,
    job: Job | None = None,
) -> bool:
    """Plan and commit one sweep; True when alerts were pending before it (delivery is due)."""
    tenant = result.tenant_id
    state, listed = _read_both(gateway, store, tenant)
    if isinstance(listed, GraphError):
        failed = _Failed(listed, state.findings, state.last, state.previous)
        _graph_failed(failed, settings=settings, store=store, channels=channels, now=now, result=result)
        return state.pending
    findings, last, previous = state.findings, state.last, state.previous
    result.problems.extend(listed.problems)
    for problem in listed.problems:
        log.warning("tenant %s: %s", tenant, problem)
    plan = heartbeat.plan_sweep(
        listed.readings,
        previous,
        findings,
        tenant_id=tenant,
        now=now,
        policy=HealthPolicy(settings.default_threshold_days, settings.early_warning_hours),
        channels=channels,
        complete=listed.anomaly is None,
    )
    if listed.anomaly is not None:  # connectors on the pages not read: kept, said not re-checked
        plan.statuses.extend(_unread(previous, listed, last))
    access_finding, access_alert = heartbeat.plan_graph_access(
        None, findings.get(_access_id(tenant)), tenant_id=tenant, now=now, channels=channels
    )
    odd_finding, odd_alert = heartbeat.plan_odd_data(
        listed.unjudgeable,
        listed.anomaly,
        findings.get(finding_id(FindingKind.GRAPH_DATA, f"tenant-{tenant}.connectors")),
        tenant_id=tenant,
        now=now,
        channels=channels,
    )
    drifts = _drift(settings, state, plan, tenant=tenant, now=now, channels=channels)
    drifts = _who_changed(settings, gateway, drifts, last, now)
    groups = _with_drift(_groups(plan, [access_finding, access_alert], [odd_finding, odd_alert]), drifts)
    groups += [[closed] for closed in close_removed(_removed(plan, previous), findings, now)]
    drift_alerts = [d.alert for d in drifts.values()]
    raised = [a for a in [*plan.alerts, *drift_alerts, access_alert, odd_alert] if a is not None]
    # The timer's success goes in the sweep's own record when nothing can still fail it: no problem
    # so far (a group storage refused included), nothing to deliver, no restore to run after it. A
    # steady run so writes that one row and nothing else. Otherwise the timer writes it after the
    # run, as every job does (functions/jobs.py). A history batch failing after this is logged and
    # reported; the job did judge and record the tenant.
    restore_due = settings.configure.restores and any(d.drifted for d in drifts.values())

    def record_now() -> SweepRecord:
        done = job is Job.HEARTBEAT and not (result.problems or state.pending or raised or restore_due)
        return _record(settings, tenant, now, len(plan.statuses), result.problems, last=last, succeeded=done)

    groups, quiet = _without_unchanged(groups, plan.unchanged)
    written, record = _commit_isolated(store, tenant, groups, result, record=record_now)
    changed = [s for s in plan.statuses if id(s) in written]  # what the history appends
    written |= quiet  # judged and stored as it was: part of the sweep's answer, not rewritten
    result.recorded = True
    result.success_recorded = record is not None and id(record) in written and record.succeeded_at == now
    result.statuses = [s for s in plan.statuses if id(s) in written]
    result.drifted = [s.id for s in plan.statuses if id(s) in written and drifts[s.id.lower()].drifted]
    result.alerts = [
        a
        for a in [*plan.alerts, *drift_alerts, access_alert, odd_alert]
        if a is not None and id(a) in written
    ]
    for alert in result.alerts:
        about = logs.fields(
            connector=alert.details.get("connectorId"),
            health=alert.details.get("health"),
            finding_kind=alert.kind,
        )
        log.warning("alert %s: %s - %s", alert.severity, alert.title, alert.reason, extra=about)
    # One line per connector and sweep: what the KQL in docs/operations.md reads.
    for status in result.statuses:
        seen = logs.fields(connector=status.id, health=status.health, finding_kind=FindingKind.HEARTBEAT)
        log.info("connector %s (%s): %s", status.partner, status.health, status.reason, extra=seen)
    # history: what changed, batched, not atomic
    _commit_isolated(store, tenant, [[_observation(s)] for s in changed], result)
    return state.pending


def _read_both(
    gateway: GraphGateway, store: StateStore, tenant: str
) -> tuple[SweepState, ConnectorList | GraphError]:
    """The tenant's state and Graph's connector list, read at the same time: neither round trip
    waits for the other, and Graph's, the slower, leaves first (a StoreError still raises, after
    the Graph read ended)."""
    listing = gateway.begin_list_connectors()  # on the Graph loop, in this run's context
    try:
        state = read_sweep_state(store, tenant)
    except BaseException:
        wait([listing])
        raise
    try:
        return state, listing.result()
    except GraphError as exc:
        return state, exc


def _drift(
    settings: Settings,
    state: SweepState,
    plan: heartbeat.SweepPlan,
    *,
    tenant: str,
    now: datetime,
    channels: list[str],
) -> dict[str, DriftPlan]:
    """Each listed connector's settings against its baseline (configure.drift; no Graph call and no
    read of its own: the baselines came with the sweep's one read of the tenant's state)."""
    seen = [Seen(s.id, s.partner, s.settings, s.heartbeat_age_hours) for s in plan.statuses]
    return plan_sweep_drift(
        seen,
        state.baselines,
        state.findings,
        {key: status.settings for key, status in state.previous.items() if status.settings},
        tenant_id=tenant,
        first_seen=settings.configure.first_seen,
        now=now,
        channels=channels,
    )


def _who_changed(
    settings: Settings,
    gateway: GraphGateway,
    drifts: dict[str, DriftPlan],
    last: SweepRecord | None,
    now: datetime,
) -> dict[str, DriftPlan]:
    """Drifts that alert now, each with who changed it from Intune's audit log (one read, only
    then, only with CONNECTOR_AUDIT_EVENTS=true); a failed read says "cannot see", never fails."""
    if not settings.configure.audit_events:
        return drifts
    from shared.configure import attribution  # only with CONNECTOR_AUDIT_EVENTS on

    if not attribution.needs_attribution(drifts):
        return drifts
    since = attribution.window_start(last.checked_at if last else None, now)
    try:
        events, problem = gateway.list_intune_audit_events(since, now).events, None
    except GraphError as exc:
        events, problem = None, exc.describe(READ_INTUNE_AUDIT_EVENTS)
    return attribution.attribute_all(drifts, events, problem, settings.configure.audit_match)


def _unread(
    previous: dict[str, ConnectorStatus], listed: ConnectorList, last: SweepRecord | None
) -> list[ConnectorStatus]:
    """The stored connectors this sweep's incomplete list did not include: as the last sweep saw
    them, marked not re-checked (readers then show them as of that sweep, never as checked now)."""
    seen = {r.id.lower() for r in listed.readings}
    problem = f"not on the pages Microsoft Graph returned ({listed.anomaly})"
    return [
        heartbeat.not_rechecked(heartbeat.as_of(s, last), problem)
        for key, s in sorted(previous.items())
        if key not in seen
    ]


def _removed(plan: heartbeat.SweepPlan, previous: dict[str, ConnectorStatus]) -> dict[str, str]:
    """Connector id -> partner name of the connectors this sweep plans as removed."""
    gone = {r.key for r in plan.removed}
    return {s.id: s.partner for s in previous.values() if connector_key(s.id) in gone}


def _with_drift(groups: list[list[object]], drifts: dict[str, DriftPlan]) -> list[list[object]]:
    """Each connector's drift rows (baseline, finding, alert) join its status in one batch."""
    for group in groups:
        head = group[0]
        if isinstance(head, ConnectorStatus) and (found := drifts.get(head.id.lower())):
            group.extend(found.rows())
    return groups


def _access_id(tenant: str) -> str:
    return finding_id(FindingKind.GRAPH_ACCESS, f"tenant-{tenant}")


@dataclass(frozen=True)
class _Failed:
    """A failed connector read and what the sweep had read from the store before it."""

    error: GraphError
    findings: dict[str, Finding]
    last: SweepRecord | None
    previous: dict[str, ConnectorStatus]


def _graph_failed(
    failed: _Failed,
    *,
    settings: Settings,
    store: StateStore,
    channels: list[str],
    now: datetime,
    result: SweepResult,
) -> None:
    """Graph could not list the connectors. Access failures (401, 403, 404, ...) raise the high
    finding at once; throttling and service faults only once they outlast the grace, at warning.
    Either way every connector keeps its last known health, its reason saying it was not re-checked."""
    tenant = result.tenant_id
    exc, last = failed.error, failed.last
    since: datetime | None = None
    if exc.transient:
        problem = exc.transient_summary("the connector list")
        since = last.transient_since if last and last.transient_since else now
        due = now - since >= timedelta(minutes=settings.graph_transient_grace_minutes)
        log.warning("tenant %s: %s", tenant, problem)
    else:
        problem, due = exc.describe(READ_CONNECTORS), True
        log.error("tenant %s: %s", tenant, problem)
    result.problems.append(problem)
    finding, alert = (None, None)
    if due:
        finding, alert = heartbeat.plan_graph_access(
            problem,
            failed.findings.get(_access_id(tenant)),
            tenant_id=tenant,
            now=now,
            channels=channels,
            transient=exc.transient,
        )
    # As of the last sweep that read them (its age and check time), then marked not re-checked.
    kept = [heartbeat.not_rechecked(heartbeat.as_of(s, last), problem) for s in failed.previous.values()]
    rows = [x for x in (finding, alert) if x is not None]
    groups: list[Sequence[object]] = [[s] for s in kept]

    def record_now() -> SweepRecord:
        return replace(_record(settings, tenant, now, 0, result.problems, last=last), transient_since=since)

    _commit_isolated(store, tenant, [*groups, *([rows] if rows else [])], result, record=record_now)
    result.recorded = True
    result.statuses = kept
    result.alerts = [alert] if alert else []


def _commit_isolated(
    store: StateStore,
    tenant: str,
    groups: Sequence[Sequence[object]],
    result: SweepResult,
    *,
    record: Callable[[], SweepRecord] | None = None,
) -> tuple[set[int], SweepRecord | None]:
    """Commit the groups, then the sweep's record (``record()`` builds it) in the same batches;
    when storage refuses a batch for one row's sake (StoreRejected), commit them one group at a
    time and leave out, named in the problems, only the groups refused on their own, and build
    the record again after them, so it holds those problems (and no success). Returns the ``id()``
    of every row written and the record built (None without ``record``). A real outage (any other
    StoreError) still raises: nothing is hidden."""
    first = record() if record is not None else None
    everything = [*groups, *([[first]] if first is not None else [])]
    try:
        store.commit(tenant, everything)
        return {id(row) for group in everything for row in group}, first
    except StoreRejected as exc:
        log.warning("tenant %s: a batch was refused (%s); writing it group by group", tenant, exc)
    written: set[int] = set()
    for group in groups:
        try:
            store.commit(tenant, [group])
        except StoreRejected as exc:
            result.problems.append(f"not recorded: {_describe_group(group)}: {exc}")
            continue
        written.update(id(row) for row in group)
    if record is None:
        return written, None
    again = record()  # after the groups: one refused is a problem, so the run is no success
    try:
        store.commit(tenant, [[again]])
        written.add(id(again))
    except StoreRejected as exc:
        result.problems.append(f"not recorded: {_describe_group([again])}: {exc}")
    return written, again


def _describe_group(group: Sequence[object]) -> str:
    head = group[0] if group else None
    if isinstance(head, ConnectorStatus):
        return f"connector {head.id}"
    if isinstance(head, Observation):
        return f"history of connector {head.connector_id}"
    return type(head).__name__


_STORED_PROBLEMS = 20  # the sweep record is one row: its problems must fit in it


def _stored_problems(problems: list[str]) -> list[str]:
    kept = [bounded(p, 1000) for p in problems[:_STORED_PROBLEMS]]
    if len(problems) > _STORED_PROBLEMS:
        kept.append(f"and {len(problems) - _STORED_PROBLEMS} more problems")
    return kept


def _record(
    settings: Settings,
    tenant: str,
    now: datetime,
    connectors: int,
    problems: list[str],
    *,
    last: SweepRecord | None,
    succeeded: bool = False,
) -> SweepRecord:
    """The sweep's summary row, with the policy it judged with (what ``plan.as_of`` re-judges by)
    and the heartbeat job's last success: ``now`` when this run is one, else the ``last`` record's."""
    return SweepRecord(
        tenant,
        SWEEP_NAME,
        now,
        connectors,
        _stored_problems(problems),
        default_threshold_days=settings.default_threshold_days,
        early_warning_hours=settings.early_warning_hours,
        succeeded_at=now if succeeded else (last.succeeded_at if last else None),
        etag=last.etag if last else None,  # over the record read, or new: see SweepRecord.etag
    )


def _without_unchanged(
    groups: list[list[object]], unchanged: frozenset[str]
) -> tuple[list[list[object]], set[int]]:
    """The groups to write, leaving out each connector whose status alone is in it and has nothing
    new (``plan.unchanged``); and the ``id()`` of the statuses left out."""
    kept: list[list[object]] = []
    quiet: set[int] = set()
    for group in groups:
        head = group[0]
        if len(group) == 1 and isinstance(head, ConnectorStatus) and head.id.lower() in unchanged:
            quiet.add(id(head))
        else:
            kept.append(group)
    return kept, quiet


def _groups(plan: heartbeat.SweepPlan, *tenant_level: list[Finding | Alert | None]) -> list[list[object]]:
    """One group per connector (status or removal + finding + alert), committed atomically, and
    one per tenant-level finding with its alert."""
    by_finding = {f.resource_id.lower(): f for f in plan.findings}
    by_alert = {str(a.details.get("connectorId", "")).lower(): a for a in plan.alerts}
    groups: list[list[object]] = []
    heads: list[tuple[str, ConnectorStatus | RowDelete]] = [
        *((s.id.lower(), s) for s in plan.statuses),
        *((gone.key, gone) for gone in plan.removed),
    ]
    for key, head in heads:
        groups.append([head, *(x for x in (by_finding.get(key), by_alert.get(key)) if x is not None)])
    for pair in tenant_level:
        rows: list[object] = [x for x in pair if x is not None]
        if rows:
            groups.append(rows)
    return groups


def _observation(status: ConnectorStatus) -> Observation:
    return Observation(
        connector_id=status.id,
        checked_at=status.checked_at,
        health=status.health.value,
        partner_state=status.partner_state,
        last_heartbeat=status.last_heartbeat,
        heartbeat_age_hours=status.heartbeat_age_hours,
        threshold_days=status.threshold_days,
        reason=status.reason,
    )
