"""GET /api/health: a probe something outside MTD Guard can watch (an availability test, a load
balancer). Anonymous, so it says what is wrong in words and counts, never a setting's value.

503 when the settings are invalid, when the state store does not answer one small read within
``STORAGE_PROBE_SECONDS``, or when a timer job has stopped succeeding (``stale``); 200 otherwise.
Graph is not probed: a Graph outage is what the jobs report as findings, and must not make the
watcher look dead.
"""

from __future__ import annotations

import logging
import queue
import threading
from collections.abc import Callable
from datetime import datetime
from typing import Any, TypeVar

import azure.functions as func

from functions.http import json_response
from shared import settings
from shared.clock import now_utc
from shared.context import services
from shared.job_runs import Freshness, Job, freshness, schedules
from shared.settings import Settings, SettingsError
from shared.store.errors import StoreError

bp = func.Blueprint()
log = logging.getLogger(__name__)

STORAGE_PROBE_SECONDS = 5.0  # the SDK's own timeouts are minutes: the probe answers before that
T = TypeVar("T")


class ProbeTimeout(Exception):
    """The probed call did not answer in time."""


def _within(seconds: float, call: Callable[..., T], *args: Any) -> T:
    """``call(*args)``'s result, or ProbeTimeout after ``seconds``. The call runs on a daemon
    thread: a store that hangs keeps it until the SDK gives up, never the answer, nor the exit."""
    box: queue.Queue[tuple[bool, Any]] = queue.Queue(maxsize=1)

    def run() -> None:
        try:
            box.put((True, call(*args)))
        except Exception as exc:
            box.put((False, exc))

    threading.Thread(target=run, name="health-probe", daemon=True).start()
    try:
        ok, value = box.get(timeout=seconds)
    except queue.Empty:
        raise ProbeTimeout(f"no answer within {seconds:g} s") from None
    if not ok:
        raise value
    result: T = value
    return result


@bp.function_name("health")
@bp.route(route="health", methods=["GET"], auth_level=func.AuthLevel.ANONYMOUS)
def health(req: func.HttpRequest) -> func.HttpResponse:
    """GET /api/health (anonymous, no function key): Liveness. 200 ``ok``; 503 ``misconfigured``
    (with the number of settings problems), ``storageUnavailable`` or ``stale``. ``jobs`` gives
    each timer job's last successful run and whether it is stale (older than two scheduled runs).
    """
    from functions import views
    from shared.status.read import job_successes

    problems = settings.problems()
    if auth := settings.authentication_problem():
        problems.append(auth)
    storage_ok: bool | None = None
    jobs: dict[Job, tuple[datetime | None, Freshness]] = {}
    if not problems:
        try:
            s = services()
            last = _within(STORAGE_PROBE_SECONDS, job_successes, s.store, s.settings.tenant_id)
            storage_ok = True
            jobs = _judge(s.settings, last, now_utc())
        except (StoreError, ProbeTimeout) as exc:
            # Logged for the operator; the anonymous answer says only "unreachable".
            log.warning("health: state storage did not answer: %s", exc)
            storage_ok = False
        except SettingsError:  # changed since problems() was read: report it as such
            problems.append("settings changed while probing")
    answer = views.liveness(problems, storage_ok, jobs)
    return json_response(answer, status=200 if answer["status"] == "ok" else 503)


def _judge(
    s: Settings, last: dict[Job, datetime], now: datetime
) -> dict[Job, tuple[datetime | None, Freshness]]:
    return {
        job: (last.get(job), freshness(last.get(job), schedule, now))
        for job, schedule in schedules(s).items()
    }
