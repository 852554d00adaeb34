"""The heartbeat sweep, end to end: read Graph, judge, record, alert.

Order matters and is why nothing detected goes unreported: the new statuses, findings and alerts
are committed together first; delivery comes after, from the outbox, and whatever does not get
through stays pending for the next run. A Graph failure is itself a finding (and an alert), not a
crashed function; a storage failure is reported in the result and the next sweep sees the same
change again, because nothing about it was recorded.
"""

from __future__ import annotations

import logging
from dataclasses import dataclass, field
from datetime import datetime, timedelta

from shared.alerting.alerts import Alert
from shared.alerting.channels import Channel
from shared.alerting.outbox import DeliveryReport, deliver_pending
from shared.alerting.stored import prune_alerts
from shared.clock import now_utc
from shared.findings.model import Finding, FindingKind, finding_id
from shared.findings.stored import stored_findings
from shared.graph.errors import READ_CONNECTORS, GraphError
from shared.graph.gateway import GraphGateway
from shared.heartbeat import plan as heartbeat
from shared.heartbeat.health import HealthPolicy
from shared.heartbeat.plan import (
    CONNECTOR_STATUS_ROWS,
    OBSERVATION_ROWS,
    SWEEP_ROWS,
    ConnectorStatus,
    Observation,
    SweepRecord,
    history_key,
)
from shared.settings import Settings
from shared.store.rows import RowDelete, gt
from shared.store.state import StateStore, StoreConflict, StoreError

log = logging.getLogger(__name__)
SWEEP_NAME = "heartbeat"
SWEEP_ATTEMPTS = 2  # a second plan when a finding changed under the first one
PRUNE_EVERY = timedelta(days=1)  # retention is in days: trimming more often only costs reads


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

    @property
    def ok(self) -> bool:
        """Nothing went wrong: Graph read, state recorded, no problem to report."""
        return not self.problems


# -- what the heartbeat keeps in the store ---------------------------------------------------------


def stored_statuses(store: StateStore, tenant_id: str) -> dict[str, ConnectorStatus]:
    """The latest status of every connector seen by the last sweep, by lower-case connector id."""
    return {s.id.lower(): s for s in store.query(CONNECTOR_STATUS_ROWS, tenant_id)}


def last_sweep(store: StateStore, tenant_id: str) -> SweepRecord | None:
    """The last heartbeat sweep's summary, None before the first."""
    return store.get(SWEEP_ROWS, tenant_id, SWEEP_NAME)


def history(store: StateStore, tenant_id: str, connector_id: str, limit: int = 50) -> list[Observation]:
    """A connector's observations, newest first, at most ``limit``."""
    return store.query(OBSERVATION_ROWS, tenant_id, under=connector_id.lower(), limit=limit)


def prune_history(store: StateStore, tenant_id: str, connector_ids: list[str], older_than: datetime) -> int:
    """Delete observations older than the retention; returns how many went.

    Old rows of a connector are a contiguous RowKey range (inverted ticks grow into the past),
    so this reads only what it deletes instead of scanning the tenant's whole history."""
    removed = 0
    for connector_id in connector_ids:
        older = gt("RowKey", OBSERVATION_ROWS.row_key(history_key(connector_id, older_than)))
        removed += store.delete_where(OBSERVATION_ROWS, tenant_id, older, under=connector_id.lower())
    return removed


def run_heartbeat_sweep(
    settings: Settings,
    gateway: GraphGateway,
    store: StateStore,
    channels: list[Channel],
    *,
    tenant_id: str,
    now: datetime | None = None,
) -> SweepResult:
    """One heartbeat sweep of ``tenant_id`` at ``now`` (default: the clock): every connector
    judged, statuses/findings/alerts committed, history appended, pending alerts delivered.

    Never raises for Graph or storage failures: a Graph failure becomes the graphAccess finding,
    a storage failure leaves ``recorded`` False; both are listed in ``problems``.
    """
    now = now or now_utc()
    tenant = tenant_id
    names = [c.name for c in channels]
    for attempt in range(1, SWEEP_ATTEMPTS + 1):
        result = SweepResult(tenant_id=tenant, checked_at=now)
        try:
            _sweep(settings=settings, gateway=gateway, store=store, channels=names, now=now, result=result)
        except StoreConflict as exc:
            # Someone acknowledged or another run updated a finding after this sweep read it:
            # nothing was written for that connector; plan again from what is stored now.
            if attempt < SWEEP_ATTEMPTS:
                log.info("heartbeat sweep for %s: state changed meanwhile, planning again", tenant)
                continue
            result.problems.append(str(exc))
        except StoreError as exc:
            result.problems.append(str(exc))
            log.error("heartbeat sweep for %s not recorded: %s", tenant, exc)
        break
    # Deliver even when this sweep failed: earlier alerts may still be waiting.
    try:
        result.delivery = deliver_pending(store, channels, now, tenant_id=tenant)
    except StoreError as exc:
        result.problems.append(f"alerts not delivered this run: {exc}")
    return result


def _sweep(
    *,
    settings: Settings,
    gateway: GraphGateway,
    store: StateStore,
    channels: list[str],
    now: datetime,
    result: SweepResult,
) -> None:
    tenant = result.tenant_id
    access_id = finding_id(FindingKind.GRAPH_ACCESS, f"tenant-{tenant}")
    findings = stored_findings(store, tenant)
    try:
        listed = gateway.list_connectors()
    except GraphError as exc:
        problem = exc.describe(READ_CONNECTORS)
        result.problems.append(problem)
        log.error("tenant %s: %s", tenant, problem)
        finding, alert = heartbeat.plan_graph_access(
            problem, findings.get(access_id), tenant_id=tenant, now=now, channels=channels
        )
        last = last_sweep(store, tenant)
        record = SweepRecord(
            tenant, SWEEP_NAME, now, 0, list(result.problems), last.pruned_at if last else None
        )
        _record_access(store, tenant, [x for x in (finding, alert) if x is not None], record, result)
        result.alerts = [alert] if alert else []
        return
    result.problems.extend(listed.problems)
    previous = stored_statuses(store, tenant)
    plan = heartbeat.plan_sweep(
        listed.readings,
        previous,
        findings,
        tenant_id=tenant,
        now=now,
        policy=HealthPolicy(settings.default_threshold_days, settings.early_warning_hours),
        channels=channels,
    )
    access_finding, access_alert = heartbeat.plan_graph_access(
        None, findings.get(access_id), tenant_id=tenant, now=now, channels=channels
    )
    groups = _groups(plan, access_finding, access_alert)
    last = last_sweep(store, tenant)
    pruned_at = last.pruned_at if last else None
    prune_due = pruned_at is None or now - pruned_at >= PRUNE_EVERY
    record = SweepRecord(
        tenant, SWEEP_NAME, now, len(plan.statuses), list(result.problems), now if prune_due else pruned_at
    )
    store.commit(tenant, [*groups, [record]])
    result.recorded = True
    result.statuses = plan.statuses
    result.alerts = plan.alerts + ([access_alert] if access_alert else [])
    for alert in result.alerts:
        log.warning("alert %s: %s - %s", alert.severity, alert.title, alert.reason)
    store.commit(tenant, [[_observation(s)] for s in plan.statuses])  # history: batched, not atomic
    if prune_due:
        cutoff = now - timedelta(days=settings.history_retention_days)
        prune_history(store, tenant, [s.id for s in plan.statuses], cutoff)
        prune_alerts(store, tenant, cutoff)


def _groups(
    plan: heartbeat.SweepPlan, access_finding: Finding | None, access_alert: Alert | None
) -> list[list[object]]:
    """One group per connector (status or removal + finding + alert), committed atomically."""
    by_finding = {f.resource_id.lower(): f for f in plan.findings}
    by_alert = {str(a.details.get("connectorId", "")).lower(): a for a in plan.alerts}
    groups: list[list[object]] = []
    heads: list[tuple[str, ConnectorStatus | RowDelete]] = [
        *((s.id.lower(), s) for s in plan.statuses),
        *((gone.key, gone) for gone in plan.removed),
    ]
    for key, head in heads:
        groups.append([head, *(x for x in (by_finding.get(key), by_alert.get(key)) if x is not None)])
    if access_finding is not None:
        groups.append([x for x in (access_finding, access_alert) if x is not None])
    return groups


def _record_access(
    store: StateStore, tenant: str, rows: list[object], record: SweepRecord, result: SweepResult
) -> None:
    """A failed read still records its finding/alert and when the sweep tried, atomically."""
    store.commit(tenant, [rows, [record]] if rows else [[record]])
    result.recorded = True


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
