"""I/O entry of the status page: read the stored state it shows (no Graph call) and build the page.

Reads, all from Table Storage, in two round trips: ONE read of the tenant's state partition
(``STATUS_READS``: each job's last success (shared/job_runs.py), the last heartbeat sweep and every
connector's status (shared/heartbeat), the connectors' baselines (shared/configure), the findings
(shared/findings), the alerts with their deliveries (shared/alerting) and the enforcement chain's
last posture (shared/posture)), then every connector's history within the retention window.
Raises StoreError when storage is unreachable.
"""

from __future__ import annotations

from collections.abc import Sequence
from datetime import datetime, timedelta
from typing import TYPE_CHECKING

from shared.alerting.alerts import ALERT_ROWS
from shared.configure.baseline import BASELINE_ROWS
from shared.findings.model import FINDING_ROWS
from shared.heartbeat.health import HealthPolicy
from shared.heartbeat.plan import (
    CONNECTOR_STATUS_ROWS,
    LEGACY_OBSERVATION_ROWS,
    OBSERVATION_ROWS,
    SWEEP_ROWS,
    Observation,
    SweepRecord,
    as_of,
    connector_key,
)
from shared.heartbeat.sweep import SWEEP_NAME
from shared.job_runs import JOB_RUN_ROWS, Job, JobRun, schedules, successes
from shared.posture.model import POSTURE_ROWS
from shared.posture.stored import posture_of
from shared.status.view import StatusPage, Stored, build
from shared.store.rows import Select, inverted_ticks, lt

if TYPE_CHECKING:
    from shared.settings import Settings
    from shared.store.state import StateStore

# A chart draws at most this many of a connector's newest observations: 90 days of the default
# half-hourly sweep is 4,320; a page must stay quick to read and to draw.
MAX_OBSERVATIONS = 5000
# What the page reads of the tenant's state partition, in ONE query.
STATUS_READS = (
    Select(JOB_RUN_ROWS),
    Select(SWEEP_ROWS, SWEEP_NAME),
    Select(CONNECTOR_STATUS_ROWS),
    Select(BASELINE_ROWS),
    Select(FINDING_ROWS),
    Select(ALERT_ROWS),
    Select(POSTURE_ROWS),
)


def histories_since(
    store: StateStore, tenant_id: str, connector_ids: Sequence[str], since: datetime
) -> dict[str, list[Observation]]:
    """Each connector's observations (after ``since``, and the newest rows before it that are
    still kept), newest first, at most ``MAX_OBSERVATIONS`` each, by lower-case connector id
    (every id given has an entry, empty when nothing was seen).

    History RowKeys start with inverted ticks (``obs|<ticks>|<connector>``), so everything newer
    than ``since`` is ONE range read for all connectors. Rows of the layout before it
    (``<connector>|<ticks>``, read until they age out) are one range read per connector."""
    found: dict[str, list[Observation]] = {c.lower(): [] for c in connector_ids}
    # All of the new layout: what is older than ``since`` is at most a day's rows the daily prune
    # has not reached yet, and each connector's newest row before the window, which the chart
    # needs for the window's start (a sweep stores an observation only when something changed).
    cap = MAX_OBSERVATIONS * max(len(found), 1)
    for seen in store.query(OBSERVATION_ROWS, tenant_id, limit=cap):
        found.get(seen.connector_id.lower(), []).append(seen)
    for connector_id in connector_ids:
        key = connector_key(connector_id)
        older_layout = lt("RowKey", LEGACY_OBSERVATION_ROWS.row_key(f"{key}|{inverted_ticks(since)}"))
        legacy = store.query(
            LEGACY_OBSERVATION_ROWS, tenant_id, older_layout, under=key, limit=MAX_OBSERVATIONS
        )
        found[connector_id.lower()].extend(legacy)
    return {
        key: sorted(seen, key=lambda o: o.checked_at, reverse=True)[:MAX_OBSERVATIONS]
        for key, seen in found.items()
    }


def job_successes(store: StateStore, tenant_id: str) -> dict[Job, datetime]:
    """Each timer job's last success (jobs that never succeeded are absent): the job rows and the
    heartbeat's sweep record, in one query (GET /api/health). Raises StoreError."""
    found = store.read(tenant_id, (Select(JOB_RUN_ROWS), Select(SWEEP_ROWS, SWEEP_NAME)))
    return _successes([r for r, _ in found[JOB_RUN_ROWS]], next((r for r, _ in found[SWEEP_ROWS]), None))


def _successes(rows: Sequence[JobRun], sweep: SweepRecord | None) -> dict[Job, datetime]:
    # A steady heartbeat run records its success in the sweep record, not in a job row.
    return successes(rows, {Job.HEARTBEAT: sweep.succeeded_at if sweep else None})


def read_status(settings: Settings, store: StateStore, *, tenant_id: str, now: datetime) -> StatusPage:
    """The status page of ``tenant_id`` at ``now`` (UTC), from what the store holds."""
    since = now - timedelta(days=settings.history_retention_days)
    found = {kind: [row for row, _ in rows] for kind, rows in store.read(tenant_id, STATUS_READS).items()}
    sweep = next(iter(found[SWEEP_ROWS]), None)
    statuses = tuple(as_of(s, sweep) for s in found[CONNECTOR_STATUS_ROWS])
    stored = Stored(
        tenant_id=tenant_id,
        now=now,
        retention_days=settings.history_retention_days,
        policy=HealthPolicy(settings.default_threshold_days, settings.early_warning_hours),
        schedules=schedules(settings),
        last_successes=_successes(found[JOB_RUN_ROWS], sweep),
        last_sweep_at=sweep.checked_at if sweep else None,
        sweep_problems=tuple(sweep.problems) if sweep else (),
        statuses=statuses,
        history=histories_since(store, tenant_id, [s.id for s in statuses], since),
        findings=tuple(found[FINDING_ROWS]),
        alerts=tuple(found[ALERT_ROWS]),
        baselines={b.connector_id.lower(): b for b in found[BASELINE_ROWS]},
        posture=posture_of(tenant_id, found[POSTURE_ROWS]),
    )
    return build(stored)
