"""The watcher of the watcher (issue 11, "Health"): infra/modules/watchdog.bicep alerts when no
heartbeat sweep has succeeded for a while, on the very line a successful heartbeat timer run logs."""

from __future__ import annotations

import logging
import re
from collections.abc import Callable

import pytest

from functions.jobs import SUCCESS_LOG
from graphsim import Fault, GraphSimulator
from shared.job_runs import Job
from tests.conftest import LOOKOUT, Host
from tests.infra import bicep
from tests.infra.layout import INFRA
from tests.support.scenarios import connector, load

WATCHDOG = INFRA / "modules" / "watchdog.bicep"


def _searched_line() -> str:
    query = bicep.read(WATCHDOG).var("successQuery")
    assert isinstance(query, bicep.Str)
    found = re.fullmatch(r'traces \| where message == "(?P<line>[^"]+)"', query.value)
    assert found, query.value
    return found["line"]


def test_the_rule_looks_for_the_line_a_successful_heartbeat_run_logs() -> None:
    assert _searched_line() == SUCCESS_LOG % Job.HEARTBEAT.value


def test_silence_and_e_mail_are_parameters_with_the_documented_defaults() -> None:
    main = bicep.read(INFRA / "main.bicep")
    silence = main.params["watchdogSilenceHours"]
    assert (silence.type, silence.default) == ("int", 2)
    assert (silence.decorators["minValue"], silence.decorators["maxValue"]) == (1, 48)
    email = main.params["watchdogEmail"]
    assert (email.type, email.default) == ("string", bicep.Str(""))
    text = bicep.strip_comments((INFRA / "main.bicep").read_text())
    assert "silenceHours: watchdogSilenceHours" in text and "alertEmail: watchdogEmail" in text
    assert "applicationInsightsId: monitoring.outputs.applicationInsightsId" in text


def test_no_e_mail_means_no_action_group_and_a_rule_that_routes_nowhere() -> None:
    text = bicep.strip_comments(WATCHDOG.read_text())
    assert (
        "resource actionGroup 'Microsoft.Insights/actionGroups@2023-01-01' = if (!empty(alertEmail))" in text
    )
    assert "actionGroups: empty(alertEmail) ? [] : [" in text
    # Fires on no success at all in the window, and resolves itself when sweeps succeed again.
    for line in (
        "windowSize: 'PT${silenceHours}H'",
        "operator: 'LessThan'",
        "threshold: 1",
        "autoMitigate: true",
    ):
        assert line in text


@pytest.mark.parametrize("graph_fails", [False, True])
def test_the_heartbeat_timer_logs_the_line_only_when_its_sweep_succeeded(
    host: Host,
    env: Callable[..., None],
    graph: GraphSimulator,
    tenant_id: str,
    caplog: pytest.LogCaptureFixture,
    graph_fails: bool,
) -> None:
    caplog.set_level(logging.INFO)  # host.json sends Information and above to Application Insights
    load(graph, tenant_id, connector(LOOKOUT, "now-1h"))
    if graph_fails:
        graph.add_fault(Fault(kind="status", status=403))
    host.timer("heartbeat_monitor")
    logged = [r.getMessage() for r in caplog.records if r.getMessage() == _searched_line()]
    assert len(logged) == (0 if graph_fails else 1)
