"""GET /api/status served by the real function against Azurite: what a person reads, and that the
HTML keeps its accessibility promises (captions, header cells, text alternatives) and its policy."""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

from pytest_mock import MockerFixture

from graphsim import Fault, GraphSimulator
from tests.api.test_authorization import principal_header
from tests.conftest import DEFENDER, LOOKOUT, ZIMPERIUM, Host
from tests.heartbeat.test_round_trips import wire  # noqa: F401 (the fixture)
from tests.heartbeat.test_sweep import sweep
from tests.posture.test_chain import Chain, chain  # noqa: F401 (the fixture)
from tests.posture.test_chain import run as run_chain
from tests.status import known
from tests.status.htmlcheck import Element, parse
from tests.support.scenarios import connector, load


def page(host: Host, **params: str) -> tuple[int, dict[str, str], str]:
    response = host.http("status_page", "GET", "/api/status", params=params)
    headers = {**dict(response.headers), "Content-Type": response.mimetype}
    return response.status_code, headers, response.get_body().decode()


def _text(e: Element) -> str:
    return e.text + "".join(_text(c) for c in e.children)


def test_the_known_scenario_reads_worst_first_with_its_heartbeat_age_drawn_over_time(
    host: Host, graph: GraphSimulator, tenant_id: str, mocker: MockerFixture
) -> None:
    known.run(host, graph, tenant_id, mocker)
    status, headers, html = page(host, code="any-function-key")  # ?code= is the host's, not refused
    assert status == 200
    assert headers["Content-Type"].startswith("text/html")
    doc = parse(html)
    assert tenant_id in _text(doc.all("header")[0])
    connectors = next(t for t in doc.all("table") if "connectors" in _text(t.own("caption")[0]).lower())
    rows = connectors.all("tbody")[0].own("tr")
    partners = [_text(r.own("th")[0]).strip() for r in rows]
    health = [_text(r.own("td")[0]).strip() for r in rows]
    assert partners == ["Lookout for Work", "Zimperium", "Microsoft Defender for Endpoint"]
    assert health == ["Unresponsive", "Not set up", "Healthy"]
    charts = {s.attrs["aria-labelledby"].split()[0]: s for s in doc.all("svg")}
    assert len(charts) == 3
    lookout = next(s for k, s in charts.items() if LOOKOUT in k)
    vertices = [v for line in lookout.all("polyline") for v in line.attrs["points"].split()]
    assert len(vertices) == known.DRAWN[LOOKOUT]
    zimperium = next(s for k, s in charts.items() if ZIMPERIUM in k)
    assert not zimperium.all("polyline")
    assert len([x for x in zimperium.all("line") if x.attrs.get("class") == "gap"]) == known.DRAWN[ZIMPERIUM]
    # The threshold line two thirds of the way up the plot (from the scenario: 48 h of 72 h).
    plot = next(r for r in lookout.all("rect") if r.attrs.get("class") == "plot")
    top, height = float(plot.attrs["y"]), float(plot.attrs["height"])
    threshold = next(x for x in lookout.all("line") if x.attrs.get("class") == "threshold")
    assert abs((top + height - float(threshold.attrs["y1"])) / height - known.THRESHOLD_FRACTION) < 0.01
    warning = next(x for x in lookout.all("line") if x.attrs.get("class") == "warning")
    assert abs((top + height - float(warning.attrs["y1"])) / height - known.WARNING_FRACTION) < 0.01
    # The text alternative gives the key figures.
    desc = _text(lookout.own("desc")[0])
    assert "3 observations" in desc and "threshold 2 days" in desc.lower() and "2.4 days" in desc
    findings = next(t for t in doc.all("table") if "findings" in _text(t.own("caption")[0]).lower())
    assert "Lookout for Work" in _text(findings)


def test_every_table_has_a_caption_and_header_cells_every_chart_a_title_and_nothing_is_fetched(
    host: Host, graph: GraphSimulator, tenant_id: str, mocker: MockerFixture
) -> None:
    known.run(host, graph, tenant_id, mocker)
    status, headers, html = page(host)
    assert status == 200
    doc = parse(html)
    assert doc.all("html")[0].attrs.get("lang") == "en"
    assert _text(doc.all("title")[0]).strip().startswith("MTD Guard status")
    for table in doc.all("table"):
        assert table.own("caption"), "a table without a caption"
        header_cells = table.all("th")
        assert header_cells and all(th.attrs.get("scope") in ("col", "row") for th in header_cells)
    for svg in doc.all("svg"):
        assert svg.attrs.get("role") == "img"
        assert _text(svg.own("title")[0]).strip() and _text(svg.own("desc")[0]).strip()
        assert set(svg.attrs["aria-labelledby"].split()) == {
            svg.own("title")[0].attrs["id"],
            svg.own("desc")[0].attrs["id"],
        }
    assert [h.tag for h in doc.all("h1")] == ["h1"] and len(doc.all("h2")) >= 4
    # Nothing from elsewhere: no script, no external reference, one inline stylesheet.
    assert not doc.all("script") and not doc.all("link") and len(doc.all("style")) == 1
    assert "http://" not in html.replace("http://www.w3.org/2000/svg", "") and "https://" not in html
    policy = headers["Content-Security-Policy"]
    assert "default-src 'none'" in policy and "script-src" not in policy and "'unsafe-inline'" not in policy
    assert "@media print" in _text(doc.all("style")[0])


def test_an_empty_tenant_gets_a_page_that_says_nothing_ran_yet(host: Host) -> None:
    status, _, html = page(host)
    assert status == 200
    assert "No connector stored yet" in html and "Never run" in html and "No open finding" in html


def test_the_page_takes_no_other_query_parameter(host: Host) -> None:
    status, headers, body = page(host, refresh="1")
    assert status == 400 and headers["Content-Type"] == "application/problem+json"
    assert "refresh" in body


def test_a_reader_role_is_enough_behind_app_service_authentication(host: Host, env: Any) -> None:
    env(REQUIRE_ENTRA_ROLE="true", WEBSITE_AUTH_ENABLED="True")
    anonymous = host.http("status_page", "GET", "/api/status")
    assert anonymous.status_code == 401 and anonymous.mimetype == "application/problem+json"
    reader = principal_header("MtdGuard.Reader")
    signed_in = host.http("status_page", "GET", "/api/status", headers=reader)
    assert signed_in.status_code == 200 and signed_in.mimetype == "text/html"


def _table(doc: Element, caption_word: str) -> Element:
    return next(t for t in doc.all("table") if caption_word in _text(t.own("caption")[0]).lower())


def _rows(table: Element) -> dict[str, list[str]]:
    """Each body row's cells as read, by its row header."""
    rows = table.all("tbody")[0].own("tr")
    return {_text(r.own("th")[0]).strip(): [" ".join(_text(d).split()) for d in r.own("td")] for r in rows}


def test_settings_drift_reads_per_connector_in_the_admin_centers_words(
    host: Host, graph: GraphSimulator, tenant_id: str, env: Any
) -> None:
    enforcing: dict[str, Any] = {
        "androidEnabled": True,
        "iosEnabled": True,
        "partnerUnsupportedOsVersionBlocked": True,
    }
    defender = connector(DEFENDER, "now-1h", threshold=7, **enforcing)
    load(graph, tenant_id, connector(LOOKOUT, "now-1h", threshold=7, **enforcing), defender)
    sweep(host)  # CONNECTOR_BASELINE=first-seen: both get the settings they have as their baseline
    env(CONNECTOR_BASELINE="explicit")  # Zimperium, met later, gets none
    load(
        graph,
        tenant_id,
        connector(LOOKOUT, "now-1h", threshold=30, **{**enforcing, "iosEnabled": False}),
        defender,
        connector(ZIMPERIUM, "now-1h", threshold=7, **enforcing),
    )
    sweep(host)
    status, _, html = page(host)
    assert status == 200
    drift = _rows(_table(parse(html), "baseline"))
    assert set(drift) == {"Lookout for Work", "Microsoft Defender for Endpoint", "Zimperium"}
    state, changes, baseline = drift["Lookout for Work"]
    assert state == "Drifted, high severity: enforcement is weaker"
    assert "Connect iOS/iPadOS devices to Lookout for Work (compliance evaluation): On -> Off" in changes
    assert "Number of days until partner is unresponsive: 7 -> 30 (weakens enforcement)" in changes
    assert "by MTD Guard (taken when a sweep first saw the connector)" in baseline
    assert drift["Microsoft Defender for Endpoint"][0] == "Matches baseline"
    assert drift["Zimperium"][0] == "No baseline yet" and drift["Zimperium"][2] == "no baseline yet"


def test_the_enforcement_chain_reads_per_platform_with_its_weakest_link(
    host: Host,
    chain: Chain,  # noqa: F811 (the fixture imported above)
    graph: GraphSimulator,
) -> None:
    status, _, html = page(host)
    assert "Not checked yet" in html  # before any chain run
    chain.connectors[1] = {
        **chain.connectors[1],
        "partnerState": "unresponsive",
        "lastHeartbeatDateTime": "now-9d",
    }
    chain.push()
    graph.add_fault(
        Fault(kind="status", status=403, path="/deviceAppManagement/iosManagedAppProtections", times=None)
    )
    run_chain(host)
    status, _, html = page(host)
    assert status == 200
    table = _table(parse(html), "enforcement chain")
    headers = [_text(th).strip() for th in table.all("thead")[0].all("th")]
    assert headers == [
        "Platform",
        "Connector",
        "Compliance policy with Device Threat Level",
        "App protection",
        "Conditional Access",
        "Weakest link",
    ]
    cells = {
        _text(r.own("th")[0]).strip(): [
            (_text(_span(d, "tone")).strip(), " ".join(_text(_span(d, "why")).split())) for d in r.own("td")
        ]
        for r in table.all("tbody")[0].own("tr")
    }
    assert list(cells) == ["Android", "iOS/iPadOS", "Windows", "macOS"]
    state = {platform: [s for s, _ in row] for platform, row in cells.items()}
    # one 403 on the app protection read: MTD Guard cannot see either platform's policies
    assert state["Android"] == ["ok", "ok", "cannot see", "ok", "App protection"]
    assert state["Windows"] == ["ok", "ok", "not applicable", "ok", "none"]
    assert state["iOS/iPadOS"] == ["ok", "ok", "cannot see", "ok", "App protection"]
    grant = "grant the application permission DeviceManagementApps.Read.All"
    assert cells["iOS/iPadOS"][2][1].startswith("G" + grant[1:])  # the state word says "cannot see"
    assert cells["iOS/iPadOS"][4][1].startswith(f"Cannot see: {grant}")
    assert state["macOS"][0] == "broken" and state["macOS"][4] == "Connector"
    assert cells["macOS"][4][1].startswith("The Jamf Trust (formerly Wandera) connector is unresponsive")


def _span(cell: Element, cls: str) -> Element:
    return next(s for s in cell.all("span") if cls in s.attrs.get("class", "").split())


def test_the_page_reads_the_state_partition_once_and_never_calls_graph(
    host: Host,
    wire: Callable[..., Any],  # noqa: F811 (the fixture imported above)
    graph: GraphSimulator,
    tenant_id: str,
) -> None:
    graph_proxy, table_proxy = wire()
    load(graph, tenant_id, connector(LOOKOUT, "now-2h"), connector(DEFENDER, "now-9d"))
    host.timer("heartbeat_monitor")
    host.timer("ca_drift_monitor")  # a posture stored too
    graph_proxy.clear()
    table_proxy.clear()
    status, _, html = page(host)
    assert status == 200 and "Enforcement chain per platform" in html
    assert graph_proxy.requests == []
    reads = [f"{r.method} {r.path.split('?')[0]}" for r in table_proxy.requests]
    # 1: the state partition (job runs, sweep record, statuses, baselines, findings, alerts,
    # posture); 2: every connector's history; then, until it ages out, one range per connector of
    # the history layout before issue 15.
    assert reads == [
        "GET /devstoreaccount1/mtdguardstate()",
        "GET /devstoreaccount1/mtdguardhistory()",
        "GET /devstoreaccount1/mtdguardhistory()",
        "GET /devstoreaccount1/mtdguardhistory()",
    ]
