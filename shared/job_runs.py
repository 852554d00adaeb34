"""When each timer job last succeeded, and whether that is too long ago: what /api/health reports
so that something outside MTD Guard can notice it has stopped watching.

A timer writes its ``JobRun`` row after a run that ended without problems (functions/jobs.py),
except a steady heartbeat run, which records its success in the sweep's own record (one row
written instead of two: ``SweepRecord.succeeded_at``); readers take the newer of the two. A
job is ``stale`` once the second scheduled run after its last success has passed (for a regular
schedule: older than twice its interval), ``neverRun`` before its first success. Freshness is
pure; the schedule is read the way the Functions host reads it (shared/ncrontab.py).
"""

from __future__ import annotations

from collections.abc import Iterable, Mapping
from dataclasses import dataclass
from datetime import datetime
from enum import StrEnum
from typing import TYPE_CHECKING

from shared import ncrontab
from shared.store.rows import RowKind

if TYPE_CHECKING:
    from shared.settings import Settings
    from shared.store.state import StateStore


class Job(StrEnum):
    """The timer jobs, named as /api/health reports them."""

    HEARTBEAT = "heartbeatSweep"  # heartbeat_monitor, HEARTBEAT_SCHEDULE
    CA_DRIFT = "caDrift"  # ca_drift_monitor, CA_DRIFT_SCHEDULE
    OUTBOX = "alertOutbox"  # alerts_outbox, ALERT_OUTBOX_SCHEDULE


class Freshness(StrEnum):
    """A job's state as /api/health reports it."""

    OK = "ok"
    STALE = "stale"  # the second scheduled run after its last success has passed
    NEVER_RUN = "neverRun"  # no success recorded yet (a new deployment)


@dataclass(frozen=True)
class JobRun:
    """A timer job's last success: row ``job|<job>``. ``succeeded_at`` is UTC."""

    tenant_id: str
    job: str
    succeeded_at: datetime


def schedules(settings: Settings) -> dict[Job, str]:
    """Each timer job's NCRONTAB schedule, as the settings give it (GET /api/health and the status
    page judge freshness against these)."""
    return {
        Job.HEARTBEAT: settings.heartbeat_schedule,
        Job.CA_DRIFT: settings.ca.schedule,
        Job.OUTBOX: settings.alerting.outbox_schedule,
    }


JOB_RUN_ROWS = RowKind(JobRun, "job", key=lambda r: r.job, layout="each timer job's last successful run")


def record_success(store: StateStore, tenant_id: str, job: Job, at: datetime) -> None:
    """Remember that ``job`` succeeded at ``at``; raises StoreError when storage is unreachable."""
    store.commit(tenant_id, [[JobRun(tenant_id, job.value, at)]])


def successes(
    rows: Iterable[JobRun], carried: Mapping[Job, datetime | None] | None = None
) -> dict[Job, datetime]:
    """Each job's last success from its stored rows (rows of jobs this version does not know are
    skipped), or from ``carried`` (a success another row holds, such as the heartbeat's in its
    sweep record) when that is newer. Jobs that never succeeded are absent."""
    known = {j.value: j for j in Job}
    found = {known[r.job]: r.succeeded_at for r in rows if r.job in known}
    for job, at in (carried or {}).items():
        if at is not None and (job not in found or at > found[job]):
            found[job] = at
    return found


def freshness(last: datetime | None, schedule: str, now: datetime) -> Freshness:
    """Whether a job whose last success was at ``last`` (None: never) is on time at ``now``, given its
    NCRONTAB ``schedule`` as set. Stale once two scheduled runs after ``last`` have passed."""
    if last is None:
        return Freshness.NEVER_RUN
    normalized = ncrontab.normalize(schedule)
    second_run = ncrontab.next_occurrence(normalized, ncrontab.next_occurrence(normalized, last))
    return Freshness.STALE if now > second_run else Freshness.OK
