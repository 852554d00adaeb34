"""The finding-kind table: every kind described once, and the API serving its title and docs."""

from __future__ import annotations

from urllib.parse import urlsplit

from graphsim import GraphSimulator
from shared import permissions
from shared.findings.kinds import KINDS, docs_of, title_of
from shared.findings.model import FindingKind
from tests.conftest import LOOKOUT, Host, body
from tests.support.scenarios import connector, load


def test_every_finding_kind_has_metadata() -> None:
    # A new FindingKind without an entry fails here, not in an operator's findings list.
    assert set(KINDS) == set(FindingKind)


def test_each_kind_is_fully_described() -> None:
    for kind, info in KINDS.items():
        assert info.title.strip() and info.remediation.strip(), kind
        assert info.permission is None or info.permission in permissions.PERMISSIONS, kind
        if info.docs is not None:
            url = urlsplit(info.docs)
            assert (url.scheme, url.hostname) == ("https", "learn.microsoft.com"), kind
            assert url.path.startswith("/en-us/"), kind


def test_a_stored_kind_this_version_does_not_know_has_no_title_rather_than_an_error() -> None:
    assert title_of("somethingNewer") is None
    assert docs_of("somethingNewer") is None
    assert title_of(FindingKind.HEARTBEAT.value) == KINDS[FindingKind.HEARTBEAT].title


def test_the_findings_api_serves_each_findings_kind_title_and_docs(
    host: Host, graph: GraphSimulator, tenant_id: str
) -> None:
    load(graph, tenant_id, connector(LOOKOUT, "now-10d"))  # past the 7-day threshold: a finding
    assert host.http("checks_run", "POST", "/api/checks/heartbeat").status_code == 200
    listed = body(host.http("findings_list", "GET", "/api/findings"))["findings"]
    heartbeat = next(f for f in listed if f["kind"] == "heartbeat")
    assert heartbeat["kindTitle"] == "MTD connector heartbeat"
    assert (
        heartbeat["docs"]
        == "https://learn.microsoft.com/en-us/intune/intune-service/protect/mobile-threat-defense"
    )
