"""The local host stand-in (scripts/localhost.py, behind `make serve`): timer schedules as the host
reads them, and running non-HTTP functions on demand as the host's admin API does."""

from __future__ import annotations

import re
import threading
import urllib.error
import urllib.request
from datetime import UTC, datetime
from typing import Any

import pytest

from scripts.localhost import ApiServer, next_run, resolve_schedule


def test_a_schedule_setting_is_read_from_the_app_settings_else_its_default() -> None:
    assert resolve_schedule("%HEARTBEAT_SCHEDULE%", {}) == "0 */30 * * * *"
    assert (
        resolve_schedule("%HEARTBEAT_SCHEDULE%", {"HEARTBEAT_SCHEDULE": "0 */5 * * * *"}) == "0 */5 * * * *"
    )
    with pytest.raises(ValueError, match="NCRONTAB expression with six fields"):
        resolve_schedule("%HEARTBEAT_SCHEDULE%", {"HEARTBEAT_SCHEDULE": "*/5 * * * *"})
    with pytest.raises(ValueError, match="NOT_A_SETTING"):
        resolve_schedule("%NOT_A_SETTING%", {})


def test_ncrontab_puts_seconds_first() -> None:
    at = datetime(2026, 11, 23, 10, 10, 0, tzinfo=UTC)
    assert next_run("0 */30 * * * *", at) == datetime(2026, 11, 23, 10, 30, 0, tzinfo=UTC)
    assert next_run("0 7 * * * *", at) == datetime(2026, 11, 23, 11, 7, 0, tzinfo=UTC)  # minute 7, hourly
    assert next_run("30 0 9 * * 1-5", at) == datetime(2026, 11, 24, 9, 0, 30, tzinfo=UTC)


def _post(url: str, method: str = "POST") -> int:
    request = urllib.request.Request(url, data=b"{}", method=method)
    try:
        with urllib.request.urlopen(request, timeout=60) as answer:
            return int(answer.status)
    except urllib.error.HTTPError as error:
        return error.code


def test_admin_functions_runs_a_timer_now_and_only_timers(functions: dict[str, Any], host: Any) -> None:
    server = ApiServer(functions).start()
    try:
        assert _post(f"{server.url}/admin/functions/heartbeat_monitor") == 202
        assert _post(f"{server.url}/admin/functions/HEARTBEAT_MONITOR") == 202  # names: any case
        assert _post(f"{server.url}/admin/functions/connectors_list") == 404  # HTTP: call its route
        assert _post(f"{server.url}/admin/functions/nope") == 404
        assert _post(f"{server.url}/admin/functions/heartbeat_monitor", "GET") == 405
    finally:
        server.stop()


@pytest.mark.parametrize("expression", ["0 0 0 * * 7", "0 0 0 L * *", "0 0 22-2 * * *", "0 0 0 31 2 *"])
def test_serve_refuses_the_schedules_the_settings_refuse(expression: str) -> None:
    """One schedule checker: a schedule the app's settings call misconfigured never runs locally."""
    with pytest.raises(ValueError, match=re.escape(f"the schedule '{expression}' ")):
        resolve_schedule("%HEARTBEAT_SCHEDULE%", {"HEARTBEAT_SCHEDULE": expression})


def test_a_server_stopped_before_it_started_does_not_hang(functions: dict[str, Any]) -> None:
    """make serve stops what it built when start-up fails later (a bad schedule): it must return."""
    server = ApiServer(functions, port=0)
    done = threading.Event()

    def stop() -> None:
        server.stop()
        done.set()

    threading.Thread(target=stop, daemon=True).start()
    assert done.wait(30), "ApiServer.stop() hung on a server that never started"
