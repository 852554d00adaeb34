"""What Graph sends can never silence a sweep (issue 10): repeated entries across pages, odd ids,
case twins, entries without an id, repeating nextLinks, and throttling without Retry-After. Each
through the real functions, Azurite and the simulator serving the raw pages."""

from __future__ import annotations

from collections.abc import Iterator
from datetime import UTC, datetime, timedelta
from typing import Any

import pytest
from pytest_mock import MockerFixture

from graphsim import Fault, GraphSimulator, RawPages
from tests.conftest import DEFENDER, LOOKOUT, ZIMPERIUM, Host, body
from tests.heartbeat.test_sweep import sweep
from tests.support.receiver import Receiver

CONNECTORS = "/deviceManagement/mobileThreatDefenseConnectors"
NEVER = "2000-01-01T00:00:00Z"  # Intune's "never" (the .NET minimum date), as in the issue
NOW = "now"  # entry() turns it into a heartbeat five minutes ago, in Graph's format


def entry(cid: Any, heartbeat: str | None = NEVER, state: str = "enabled", **extra: Any) -> dict[str, Any]:
    """A connector entry as Graph's v1.0 JSON carries it (raw: the id may be anything)."""
    if heartbeat == NOW:
        heartbeat = (datetime.now(UTC) - timedelta(minutes=5)).strftime("%Y-%m-%dT%H:%M:%S.0000000Z")
    return {
        "id": cid,
        "partnerState": state,
        "lastHeartbeatDateTime": heartbeat,
        "partnerUnresponsivenessThresholdInDays": 7,
        **extra,
    }


def listed(host: Host) -> dict[str, Any]:
    response = host.http("connectors_list", "GET", "/api/connectors")
    assert response.status_code == 200
    data: dict[str, Any] = body(response)
    return data


def odd_findings(host: Host) -> list[dict[str, Any]]:
    response = host.http("findings_list", "GET", "/api/findings", params={"kind": "graphData"})
    assert response.status_code == 200
    return list(body(response)["findings"])


@pytest.fixture
def alerts(env: Any, receiver: Receiver) -> Iterator[Receiver]:
    env(ALERT_WEBHOOK_URL=receiver.url)
    yield receiver


def test_a_connector_repeated_on_the_next_page_is_judged_once_and_alerts_go_out(
    host: Host, graph: GraphSimulator, alerts: Receiver
) -> None:
    graph.serve_raw_pages(RawPages(CONNECTORS, [[entry(LOOKOUT), entry(ZIMPERIUM)], [entry(LOOKOUT)]]))
    result = sweep(host)
    assert result["recorded"], result["problems"]
    assert sorted(c["id"] for c in listed(host)["connectors"]) == sorted([LOOKOUT, ZIMPERIUM])
    assert {c["health"] for c in result["connectors"]} == {"unresponsive"}
    assert sorted(p["connectorId"] for p in alerts.payloads()) == sorted([LOOKOUT, ZIMPERIUM])
    assert any("listed 2 times" in p and LOOKOUT in p for p in result["problems"])
    assert not any(p.startswith("state storage unavailable") for p in result["problems"])


def test_odd_ids_and_case_twins_do_not_hide_an_unresponsive_connector(
    host: Host, graph: GraphSimulator, alerts: Receiver
) -> None:
    slashed = f"{DEFENDER}/x"
    graph.serve_raw_pages(
        RawPages(
            CONNECTORS,
            [
                [
                    entry(slashed, NOW),
                    entry(ZIMPERIUM.upper()),
                    entry(ZIMPERIUM),
                    entry(LOOKOUT),
                    entry("#?\\" + "long" * 300),
                ]
            ],
        )
    )
    result = sweep(host)
    assert result["recorded"], result["problems"]
    ids = [c["id"] for c in listed(host)["connectors"]]
    assert slashed in ids and LOOKOUT in ids  # the original id, as Graph sent it
    assert [i.lower() for i in ids].count(ZIMPERIUM) == 1  # case twins collapsed
    long_id = next(i for i in ids if i.startswith("#?\\long"))
    assert len(long_id) < 400 and "chars" in long_id  # bounded, with a visible marker
    assert LOOKOUT in [p["connectorId"] for p in alerts.payloads()]
    assert any("letter case" in p for p in result["problems"])


def test_entries_without_an_id_raise_one_warning_finding_and_the_rest_is_judged(
    host: Host, graph: GraphSimulator, alerts: Receiver
) -> None:
    graph.serve_raw_pages(RawPages(CONNECTORS, [[{"partnerState": "enabled"}, "text", entry(LOOKOUT)]]))
    result = sweep(host)
    assert result["recorded"]
    assert [c["id"] for c in result["connectors"]] == [LOOKOUT]
    (finding,) = odd_findings(host)
    assert finding["severity"] == "warning" and finding["status"] == "open"
    assert finding["message"].startswith("Graph returned a connector MTD Guard cannot judge: ")
    assert sorted(p["kind"] for p in alerts.payloads()) == ["graphData", "heartbeat"]
    sweep(host)
    assert len(alerts.payloads()) == 2  # the same oddity again: no second alert

    graph.clear_raw_pages()
    graph.put_connector({"id": LOOKOUT, "lastHeartbeatDateTime": "now-9d", "partnerState": "enabled"})
    sweep(host)
    assert odd_findings(host)[0]["status"] == "resolved"


@pytest.mark.parametrize("links", [[1, 1], [1, 0]], ids=["repeated-link", "cycle"])
def test_a_repeating_next_link_stops_paging_at_once_and_what_was_read_is_judged(
    host: Host, graph: GraphSimulator, links: list[int | None]
) -> None:
    graph.serve_raw_pages(RawPages(CONNECTORS, [[entry(LOOKOUT)], [entry(ZIMPERIUM, NOW)]], links=links))
    result = sweep(host)
    assert result["recorded"]
    assert {c["id"]: c["health"] for c in result["connectors"]} == {
        LOOKOUT: "unresponsive",
        ZIMPERIUM: "healthy",
    }
    assert len([r for r in graph.requests if CONNECTORS in r.path]) <= 3  # not 1,000
    assert any("nextLink" in p for p in result["problems"])
    (finding,) = odd_findings(host)
    assert finding["severity"] == "warning" and "nextLink" in finding["message"]


def test_a_cut_short_list_does_not_announce_unread_connectors_as_removed(
    host: Host, graph: GraphSimulator, alerts: Receiver
) -> None:
    pages = [[entry(DEFENDER, NOW)], [entry(LOOKOUT, NOW)]]
    graph.serve_raw_pages(RawPages(CONNECTORS, pages))
    sweep(host)
    checked = sweep(host)["checkedAt"]  # nothing new: only the sweep's record is written
    again = [[entry(DEFENDER, NOW)], [entry(DEFENDER, NOW)]]
    graph.serve_raw_pages(RawPages(CONNECTORS, again, links=[1, 1]))
    sweep(host)
    connectors = {c["id"]: c for c in listed(host)["connectors"]}
    assert sorted(connectors) == sorted([DEFENDER, LOOKOUT])
    assert "removed" not in [p.get("health") for p in alerts.payloads()]
    # Lookout was on no page read: shown as the last sweep that read it saw it, never as checked now.
    assert connectors[LOOKOUT]["reason"].startswith("not re-checked: not on the pages Microsoft Graph")
    assert connectors[LOOKOUT]["checkedAt"] == checked


def fast_backoff(mocker: MockerFixture) -> None:
    """The SDK's backoff without Retry-After waits seconds per retry (3 s and more): stand in for
    that wait, the retry handler's clock, so the four attempts take no time."""
    from kiota_http.middleware.retry_handler import RetryHandler

    mocker.patch.object(RetryHandler, "_get_delay_time_exp_backoff", return_value=0.0)


def test_throttling_without_retry_after_is_transient_not_an_access_failure(
    host: Host, graph: GraphSimulator, alerts: Receiver, mocker: MockerFixture
) -> None:
    graph.put_connector({"id": LOOKOUT, "lastHeartbeatDateTime": "now-1h", "partnerState": "enabled"})
    first = sweep(host)
    assert first["ok"]
    checked = sweep(host)["checkedAt"]  # nothing new: the status row stays as the first sweep wrote it
    fast_backoff(mocker)
    graph.add_fault(Fault(kind="status", status=429, path=CONNECTORS, times=4))
    throttled = sweep(host)
    assert throttled["problems"] == [
        "Microsoft Graph throttled the connector list (429, no Retry-After) 4 times; retrying next sweep"
    ]
    assert alerts.payloads() == []  # no finding, no alert, no ticket
    lookout = listed(host)["connectors"][0]
    assert lookout["health"] == "healthy"  # last known health kept, not unknown
    assert lookout["reason"].startswith("not re-checked: ")
    assert lookout["checkedAt"] == checked  # the last sweep that read it, not the last write
    assert sweep(host)["ok"]
    assert alerts.payloads() == []  # and no "access restored" either


def test_throttling_beyond_the_grace_raises_one_warning_about_throttling(
    host: Host, env: Any, graph: GraphSimulator, alerts: Receiver, mocker: MockerFixture
) -> None:
    from shared.clock import now_utc

    env(ALERT_WEBHOOK_URL=alerts.url, GRAPH_TRANSIENT_GRACE_MINUTES="60")
    graph.put_connector({"id": LOOKOUT, "lastHeartbeatDateTime": "now-1h", "partnerState": "enabled"})
    sweep(host)
    fast_backoff(mocker)
    graph.add_fault(Fault(kind="status", status=503, path=CONNECTORS))
    start = now_utc()
    clock = mocker.patch("shared.clock.system_now", return_value=start)
    sweep(host)
    clock.return_value = start + timedelta(minutes=30)
    sweep(host)
    assert alerts.payloads() == []
    clock.return_value = start + timedelta(minutes=61)
    late = sweep(host)
    assert [(p["kind"], p["severity"]) for p in alerts.payloads()] == [("graphAccess", "warning")]
    assert "retrying next sweep" in late["problems"][0]
    found = body(host.http("findings_list", "GET", "/api/findings", params={"kind": "graphAccess"}))
    remediation = found["findings"][0]["remediation"]
    assert "service health" in remediation and "access problem" not in remediation
    assert listed(host)["connectors"][0]["health"] == "healthy"
