"""GET /api/health is a probe something outside MTD Guard can watch (issue 11): 503 when
misconfigured, when storage does not answer (within seconds, even when it hangs) or when a timer
job has stopped succeeding; each job's last success; nothing a stranger should not read."""

from __future__ import annotations

import socket
from collections.abc import Iterator
from datetime import UTC, datetime, timedelta
from typing import Any

import pytest
from pytest_mock import MockerFixture

from tests.conftest import Host, body
from tests.support.stores import ActsAfterFirstRead

DEAD_STORE = (
    "DefaultEndpointsProtocol=http;AccountName=devstoreaccount1;"
    "AccountKey=Eby8vdM02xNOcqFlqUwJPLlmEtlCDXJ1OUzFT50uSRZ6IFsuFq2UVErCz4I6tq/K1SZFPTOtr/KBHBeksoGMGw==;"
    "TableEndpoint=http://127.0.0.1:{port}/devstoreaccount1;"
)


@pytest.fixture
def silent_port() -> Iterator[int]:
    """A port that accepts connections and never answers (a storage endpoint that hangs)."""
    server = socket.socket()
    server.bind(("127.0.0.1", 0))
    server.listen(64)
    yield server.getsockname()[1]
    server.close()


def probe(host: Host) -> tuple[int, dict[str, Any]]:
    response = host.http("health", "GET", "/api/health")
    return response.status_code, body(response)


def test_each_job_reports_its_last_success_and_goes_stale_after_two_missed_runs(
    host: Host, env: Any, mocker: MockerFixture
) -> None:
    env(HEARTBEAT_SCHEDULE="0 */30 * * * *", ALERT_OUTBOX_SCHEDULE="0 */5 * * * *")
    ran = datetime(2026, 11, 29, 10, 0, 10, tzinfo=UTC)  # just after the 10:00 runs
    clock = mocker.patch("shared.clock.system_now", return_value=ran)
    host.timer("heartbeat_monitor")
    host.timer("alerts_outbox")
    status, answer = probe(host)
    assert status == 200 and answer["status"] == "ok", answer
    assert answer["jobs"] == {
        "heartbeatSweep": {"lastSuccess": "2026-11-29T10:00:10Z", "status": "ok"},
        "alertOutbox": {"lastSuccess": "2026-11-29T10:00:10Z", "status": "ok"},
        "caDrift": {"lastSuccess": None, "status": "neverRun"},
    }

    # 10:29: the outbox (every 5 min) missed the 10:05 and 10:10 runs and more; the sweep
    # (every 30 min) has not missed one yet.
    clock.return_value = ran + timedelta(minutes=29)
    status, answer = probe(host)
    assert status == 503 and answer["status"] == "stale"
    assert answer["jobs"]["alertOutbox"]["status"] == "stale"
    assert answer["jobs"]["heartbeatSweep"]["status"] == "ok"
    clock.return_value = ran + timedelta(minutes=59)  # 10:59: only the 10:30 run missed
    assert probe(host)[1]["jobs"]["heartbeatSweep"]["status"] == "ok"
    clock.return_value = ran + timedelta(minutes=61)  # 11:01: 10:30 and 11:00 missed
    assert probe(host)[1]["jobs"]["heartbeatSweep"]["status"] == "stale"


def _steady_success(host: Host, env: Any, mocker: MockerFixture, **settings: str) -> tuple[datetime, Any]:
    """Half-hourly timer runs at 10:00:10 and 10:30:10, the second steady (a success recorded in
    the sweep record); returns the first run's time and the patched clock."""
    env(HEARTBEAT_SCHEDULE="0 */30 * * * *", **settings)
    ran = datetime(2026, 11, 29, 10, 0, 10, tzinfo=UTC)
    clock = mocker.patch("shared.clock.system_now", return_value=ran)
    host.timer("heartbeat_monitor")
    clock.return_value = ran + timedelta(minutes=30)
    host.timer("heartbeat_monitor")
    return ran, clock


def test_a_failed_sweep_keeps_the_last_success_a_steady_sweep_recorded(
    host: Host, env: Any, mocker: MockerFixture
) -> None:
    # A steady sweep writes its success in its own record (one row, not two); the next record,
    # written by a run that failed, must carry it over or the probe would forget it.
    ran, clock = _steady_success(host, env, mocker)
    steady = {"lastSuccess": "2026-11-29T10:30:10Z", "status": "ok"}
    assert probe(host)[1]["jobs"]["heartbeatSweep"] == steady
    env(GRAPH_ENDPOINT="http://127.0.0.1:9")  # 11:00: Graph unreachable, the run has a problem
    clock.return_value = ran + timedelta(minutes=60)
    host.timer("heartbeat_monitor")
    assert probe(host)[1]["jobs"]["heartbeatSweep"] == steady


def test_a_check_overlapping_the_timer_keeps_the_timers_newer_success(
    host: Host, env: Any, mocker: MockerFixture
) -> None:
    # POST /api/checks/heartbeat reads the sweep record, then the timer records a newer success,
    # then the check writes its record: it must not put the older success back.
    from shared.context import services
    from shared.heartbeat.plan import SWEEP_ROWS
    from shared.heartbeat.sweep import run_heartbeat_sweep

    ran, clock = _steady_success(host, env, mocker)  # the success in the record: 10:30:10

    def timer_runs() -> None:  # right after the check's first read: the 11:00 run records
        clock.return_value = ran + timedelta(minutes=60)
        host.timer("heartbeat_monitor")

    s = services()
    store = ActsAfterFirstRead(s.store._service, SWEEP_ROWS, timer_runs)
    check = run_heartbeat_sweep(s.settings, s.graph, store, s.channels, tenant_id=s.settings.tenant_id)
    assert check.recorded and check.ok
    assert probe(host)[1]["jobs"]["heartbeatSweep"] == {"lastSuccess": "2026-11-29T11:00:10Z", "status": "ok"}


def test_a_run_whose_automatic_restore_fails_is_not_a_success(
    host: Host, env: Any, graph: Any, tenant_id: str, mocker: MockerFixture
) -> None:
    # The restore runs after the sweep has written its record: a record must not claim the run's
    # success while a restore can still fail it (the watchdog's log line would not say success).
    from graphsim import Fault
    from tests.heartbeat.test_drift import lookout
    from tests.support.scenarios import load

    env(HEARTBEAT_SCHEDULE="0 */30 * * * *", CONNECTOR_DRIFT_ACTION="restore")
    ran = datetime(2026, 11, 29, 10, 0, 10, tzinfo=UTC)
    clock = mocker.patch("shared.clock.system_now", return_value=ran)
    load(graph, tenant_id, lookout())
    host.timer("heartbeat_monitor")  # baseline taken
    host.timer("heartbeat_monitor")  # steady: a success, 10:00:10
    graph.put_connector(lookout(androidDeviceBlockedOnMissingPartnerData=False))  # changed by hand
    graph.add_fault(Fault(kind="status", status=403, method="PATCH", times=None))  # restore refused
    for minutes in (30, 60):  # the drift alerted at 10:30, still there (and unrestored) at 11:00
        clock.return_value = ran + timedelta(minutes=minutes)
        host.timer("heartbeat_monitor")
    assert probe(host)[1]["jobs"]["heartbeatSweep"]["lastSuccess"] == "2026-11-29T10:00:10Z"


def test_a_run_with_problems_is_not_a_success(host: Host, env: Any) -> None:
    env(GRAPH_ENDPOINT="http://127.0.0.1:9")  # Graph unreachable: the sweep reports a problem
    host.timer("heartbeat_monitor")
    assert probe(host)[1]["jobs"]["heartbeatSweep"]["status"] == "neverRun"


@pytest.mark.timeout(60)  # a hang guard, not a timing claim: the SDK alone would wait 300 s per try
@pytest.mark.parametrize("hangs", [False, True])
def test_storage_that_refuses_or_hangs_is_503_within_the_probe_time(
    host: Host, env: Any, silent_port: int, hangs: bool
) -> None:
    port = silent_port
    if not hangs:
        closed = socket.socket()
        closed.bind(("127.0.0.1", 0))
        port = closed.getsockname()[1]
        closed.close()  # nothing listens there: refused
    env(AzureWebJobsStorage=DEAD_STORE.format(port=port))
    status, answer = probe(host)
    assert status == 503 and answer["status"] == "storageUnavailable"
    assert answer["storage"] == "unreachable" and answer["jobs"] == {}
    assert "127.0.0.1" not in str(answer) and "devstoreaccount1" not in str(answer)


def test_a_misconfigured_app_is_503_and_names_no_value(host: Host, env: Any) -> None:
    env(ALERT_WEBHOOK_URL="ftp://user:pa55@hooks.contoso.com/x?token=t0ken", DEFAULT_THRESHOLD_DAYS="seven")
    status, answer = probe(host)
    assert status == 503
    assert answer == {
        "status": "misconfigured",
        "configurationProblems": 2,
        "storage": "notChecked",
        "jobs": {},
    }
