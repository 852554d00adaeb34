"""Generated connector collections through the real sweep (issue 10): whatever Graph lists, every
well-formed connector is judged as the pure rule judges it, served by GET /api/connectors, and each
unresponsive one yields exactly one alert. One Azurite and one simulator for every example; each
example gets its own tenant (a fresh partition), so no state leaks between examples.

Odd inputs generated: ids that are GUIDs, GUIDs in upper or mixed case (case twins), GUIDs
with '/', '#', '?', '\\', ' ', '|' or '%2F' appended, any text (control characters, non-Latin
scripts, emoji), ids of 201-400 characters, blank ids, missing ids, non-string ids, entries that are
not objects (strings, numbers, null), entries repeated on the same or a later page, random page
splits (1 to 6 pages, empty pages), a last page linking back to an earlier one (a cycle), partner
states known, unknown and missing, heartbeats recent, old, in the future, Intune's 'never'
(2000-01-01), null and unreadable, thresholds valid, zero, negative, text and null, and properties
Graph's schema does not have.
"""

from __future__ import annotations

import itertools
import uuid
from collections import Counter
from datetime import UTC, datetime, timedelta
from typing import Any

from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st
from pytest_mock import MockerFixture

from graphsim import GraphSimulator, RawPages
from shared.graph.connectors import reading_from_graph
from shared.graph.entries import MAX_ID, bounded
from shared.heartbeat.health import HealthPolicy, judge
from tests.conftest import Host, body

CONNECTORS = "/deviceManagement/mobileThreatDefenseConnectors"
NOW = datetime(2026, 11, 20, 8, 0, tzinfo=UTC)

odd_text = st.text(
    alphabet=st.characters(codec="utf-8"),  # lone surrogates cannot travel as UTF-8
    min_size=1,
    max_size=40,
)
guids = st.uuids().map(str)
ids = st.one_of(
    guids,
    guids.map(str.upper),
    guids.map(lambda g: g[:8].upper() + g[8:]),
    st.builds(lambda g, t: f"{g}{t}", guids, st.sampled_from(["/x", "#1", "?a=b", "\\y", " ", "|z", "%2F"])),
    odd_text,
    st.text(alphabet="ab/", min_size=201, max_size=400),
)
heartbeats = st.one_of(
    st.none(),
    st.just("2000-01-01T00:00:00Z"),
    st.just("not-a-date"),
    st.floats(min_value=-48, max_value=24 * 40, allow_nan=False).map(
        lambda h: (NOW - timedelta(hours=h)).strftime("%Y-%m-%dT%H:%M:%S.%fZ")
    ),
)
states = st.sampled_from(["enabled", "unresponsive", "notSetUp", "error", "available", "bogusState", None])
thresholds = st.one_of(st.integers(min_value=-2, max_value=30), st.none(), st.just("seven"))
extras = st.dictionaries(st.sampled_from(["futureProperty", "@odata.type", "x"]), st.integers(), max_size=2)


@st.composite
def connector_entry(draw: st.DrawFn) -> Any:
    entry: dict[str, Any] = {
        "partnerState": draw(states),
        "lastHeartbeatDateTime": draw(heartbeats),
        "partnerUnresponsivenessThresholdInDays": draw(thresholds),
        **draw(extras),
    }
    kind = draw(st.sampled_from(["id"] * 8 + ["missing", "blank", "number"]))
    if kind == "id":
        entry["id"] = draw(ids)
    elif kind == "blank":
        entry["id"] = "  "
    elif kind == "number":
        entry["id"] = 42
    return entry


@st.composite
def collections(draw: st.DrawFn) -> RawPages:
    entries: list[Any] = draw(st.lists(connector_entry(), min_size=0, max_size=8))
    entries += draw(st.lists(st.one_of(st.none(), st.integers(), st.text(max_size=5)), max_size=1))
    if entries:  # repeats, as Graph's paging has been seen to send
        entries += draw(st.lists(st.sampled_from(entries), max_size=2))
    cuts = sorted(draw(st.lists(st.integers(0, len(entries)), max_size=5)))
    bounds = [0, *cuts, len(entries)]
    pages = [entries[a:b] for a, b in itertools.pairwise(bounds)]
    links: list[int | None] = [*range(1, len(pages)), None]
    if draw(st.booleans()):  # the last page links back: a cycle, noticed once every page was read
        links[-1] = draw(st.integers(0, len(pages) - 1))
    return RawPages(CONNECTORS, pages, links)


def expected(pages: list[list[Any]]) -> dict[str, str]:
    """The pure rule's verdict per well-formed connector (first entry per id, ids compared
    case-insensitively), by the id MTD Guard keeps (stripped, bounded)."""
    verdicts: dict[str, tuple[str, str]] = {}
    policy = HealthPolicy()
    for item in (e for page in pages for e in page):
        raw_id = item.get("id") if isinstance(item, dict) else None
        if not isinstance(raw_id, str) or not raw_id.strip():
            continue
        kept = bounded(raw_id.strip(), MAX_ID)
        if kept.lower() not in verdicts:
            verdicts[kept.lower()] = (kept, judge(reading_from_graph(item), NOW, policy).health.value)
    return dict(verdicts.values())


def test_every_well_formed_connector_is_judged_served_and_alerted_once(
    host: Host, env: Any, graph: GraphSimulator, mocker: MockerFixture
) -> None:
    from shared.alerting.stored import query_alerts
    from shared.context import services

    mocker.patch("shared.clock.system_now", return_value=NOW)

    @settings(
        max_examples=200,
        deadline=None,
        suppress_health_check=[HealthCheck.function_scoped_fixture, HealthCheck.too_slow],
    )
    @given(raw=collections())
    def one_tenant(raw: RawPages) -> None:
        tenant = str(uuid.uuid4())
        env(TENANT_ID=tenant)  # a fresh partition: nothing from the previous example
        graph.serve_raw_pages(raw)
        result = body(host.http("checks_run", "POST", "/api/checks/heartbeat"))
        assert result["recorded"], result["problems"]
        assert not any(p.startswith("state storage") for p in result["problems"])

        want = expected(raw.pages)
        listed = body(host.http("connectors_list", "GET", "/api/connectors"))["connectors"]
        assert {c["id"]: c["health"] for c in listed} == want

        unresponsive = Counter(
            str(a.details["connectorId"]).lower()
            for a in query_alerts(services().store, tenant)
            if a.details.get("health") == "unresponsive"
        )
        assert unresponsive == Counter(i.lower() for i, h in want.items() if h == "unresponsive")

    one_tenant()
