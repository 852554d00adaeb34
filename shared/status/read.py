"""I/O entry of the status page: read the stored state it shows (no Graph call) and build the page.

Reads, all from Table Storage: each job's last success (shared/job_runs.py), the last heartbeat
sweep and every connector's status and history within the retention window (shared/heartbeat),
the findings (shared/findings) and the alerts with their deliveries (shared/alerting). Raises
StoreError when storage is unreachable.
"""

from __future__ import annotations

from collections.abc import Sequence
from datetime import datetime, timedelta
from typing import TYPE_CHECKING

from shared.alerting.stored import query_alerts
from shared.findings.stored import stored_findings
from shared.heartbeat.health import HealthPolicy
from shared.heartbeat.plan import LEGACY_OBSERVATION_ROWS, OBSERVATION_ROWS, Observation, connector_key
from shared.heartbeat.sweep import last_sweep, stored_statuses
from shared.job_runs import Job, last_successes
from shared.status.view import StatusPage, Stored, build
from shared.store.rows import inverted_ticks, lt

if TYPE_CHECKING:
    from shared.settings import Settings
    from shared.store.state import StateStore

# A chart draws at most this many of a connector's newest observations: 90 days of the default
# half-hourly sweep is 4,320; a page must stay quick to read and to draw.
MAX_OBSERVATIONS = 5000


def histories_since(
    store: StateStore, tenant_id: str, connector_ids: Sequence[str], since: datetime
) -> dict[str, list[Observation]]:
    """Each connector's observations after ``since``, newest first, at most ``MAX_OBSERVATIONS``
    each, by lower-case connector id (every id given has an entry, empty when nothing was seen).

    History RowKeys start with inverted ticks (``obs|<ticks>|<connector>``), so everything newer
    than ``since`` is ONE range read for all connectors. Rows of the layout before it
    (``<connector>|<ticks>``, read until they age out) are one range read per connector."""
    found: dict[str, list[Observation]] = {c.lower(): [] for c in connector_ids}
    newer = lt("RowKey", OBSERVATION_ROWS.row_key(inverted_ticks(since)))
    cap = MAX_OBSERVATIONS * max(len(found), 1)
    for seen in store.query(OBSERVATION_ROWS, tenant_id, newer, limit=cap):
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


def read_status(settings: Settings, store: StateStore, *, tenant_id: str, now: datetime) -> StatusPage:
    """The status page of ``tenant_id`` at ``now`` (UTC), from what the store holds."""
    since = now - timedelta(days=settings.history_retention_days)
    sweep = last_sweep(store, tenant_id)
    statuses = tuple(stored_statuses(store, tenant_id).values())
    stored = Stored(
        tenant_id=tenant_id,
        now=now,
        retention_days=settings.history_retention_days,
        policy=HealthPolicy(settings.default_threshold_days, settings.early_warning_hours),
        schedules={
            Job.HEARTBEAT: settings.heartbeat_schedule,
            Job.CA_DRIFT: settings.ca.schedule,
            Job.OUTBOX: settings.alerting.outbox_schedule,
        },
        last_successes=last_successes(store, tenant_id),
        last_sweep_at=sweep.checked_at if sweep else None,
        sweep_problems=tuple(sweep.problems) if sweep else (),
        statuses=statuses,
        history=histories_since(store, tenant_id, [s.id for s in statuses], since),
        findings=tuple(stored_findings(store, tenant_id).values()),
        alerts=tuple(query_alerts(store, tenant_id)),
    )
    return build(stored)
