"""The status page in a real browser: Playwright driving Debian's Chromium (apt package chromium).

The page is served by the real function through the local host stand-in (scripts/localhost.py)
against Azurite, after the known scenario's eight sweeps (tests/status/known.py). Asserted: no
console error and no Content-Security-Policy violation, the age lines drawn through every stored
observation (tests/status/known.py counts their vertices),
the threshold and warning lines at the heights the scenario implies (as laid out on screen), and a
screenshot saved to .artifacts/status.png (git-ignored).

Without Chromium these tests are skipped, except in CI (CI=true) or under ``make browser``
(BROWSER_TEST=required), where a missing browser is a failure: ``make test`` always runs them.
"""

from __future__ import annotations

import os
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest
from pytest_mock import MockerFixture

from graphsim import GraphSimulator
from scripts.browser import chromium, chromium_missing
from scripts.localhost import FUNCTION_KEY, ApiServer
from shared.context import services
from shared.heartbeat.sweep import history
from tests.conftest import DEFENDER, LOOKOUT, ZIMPERIUM, Host
from tests.status import known

ARTIFACTS = Path(__file__).resolve().parents[2] / ".artifacts"
# Collected in the page before any of its own content runs (Playwright's init scripts are not
# subject to the page's policy): every CSP violation the browser reports.
WATCH_VIOLATIONS = """
window.__violations = [];
document.addEventListener('securitypolicyviolation',
  e => window.__violations.push(e.violatedDirective + ' ' + e.blockedURI));
"""

pytestmark = pytest.mark.browser


def _required() -> bool:
    return bool(os.environ.get("CI")) or os.environ.get("BROWSER_TEST") == "required"


@pytest.fixture
def chromium_present() -> None:
    if missing := chromium_missing():
        if _required():
            pytest.fail(missing)
        pytest.skip(missing + "; outside CI (CI=true) and make browser this test is skipped")


@pytest.fixture
def served(host: Host, functions: dict[str, Any]) -> Iterator[ApiServer]:
    server = ApiServer(functions).start()
    yield server
    server.stop()


@pytest.mark.usefixtures("chromium_present")
def test_the_status_page_draws_each_heartbeat_age_line_under_its_policy(
    served: ApiServer,
    host: Host,
    graph: GraphSimulator,
    tenant_id: str,
    mocker: MockerFixture,
) -> None:
    known.run(host, graph, tenant_id, mocker)
    s = services()
    stored = {
        cid: len(history(s.store, tenant_id, cid, limit=1000)) for cid in (LOOKOUT, DEFENDER, ZIMPERIUM)
    }
    assert stored == known.STORED  # the scenario is what we think it is
    host.timer("ca_drift_monitor")  # stores the enforcement chain's posture: its table is drawn too

    with chromium() as browser:
        _check_page(browser.new_page(), served.url, stored)


def _check_page(page: Any, base: str, stored: dict[str, int]) -> None:
    errors: list[str] = []
    page.on("console", lambda m: errors.append(m.text) if m.type in ("error", "warning") else None)
    page.on("pageerror", lambda e: errors.append(str(e)))
    requests: list[str] = []
    page.on("request", lambda r: requests.append(r.url))
    page.add_init_script(WATCH_VIOLATIONS)
    response = page.goto(f"{base}/api/status?code={FUNCTION_KEY}")
    assert response is not None and response.status == 200
    assert "default-src 'none'" in response.headers["content-security-policy"]
    page.wait_for_load_state("load")

    assert errors == [] and page.evaluate("window.__violations") == []
    assert requests == [f"{base}/api/status?code={FUNCTION_KEY}"]  # nothing else was fetched
    # The stylesheet applied (a blocked one would leave the table borders collapsed to none).
    assert page.eval_on_selector("table", "t => getComputedStyle(t).borderCollapse") == "collapse"
    # Both drift and chain sections are laid out by the same policy-allowed stylesheet.
    chain = page.locator("section[aria-labelledby='chain'] table tbody tr")
    assert chain.count() == 4
    assert (
        page.eval_on_selector("section[aria-labelledby='chain'] .why", "e => getComputedStyle(e).display")
        == "block"
    )
    assert page.locator("#drift + table tbody tr").count() == len(stored)

    for cid in stored:
        chart = page.locator(f"svg[aria-labelledby^='chart-{cid}']")
        drawn = chart.evaluate(
            "svg => [...svg.querySelectorAll('polyline.age')].reduce((n, p) => n + p.points.numberOfItems, 0)"
            " + svg.querySelectorAll('line.gap').length"
        )
        assert drawn == known.DRAWN[cid], cid

    lookout = page.locator(f"svg[aria-labelledby^='chart-{LOOKOUT}']")
    plot = lookout.locator("rect.plot").bounding_box()
    assert plot is not None
    for selector, fraction in (
        ("line.threshold", known.THRESHOLD_FRACTION),
        ("line.warning", known.WARNING_FRACTION),
    ):
        line = lookout.locator(selector).bounding_box()
        assert line is not None
        centre = line["y"] + line["height"] / 2
        assert (plot["y"] + plot["height"] - centre) / plot["height"] == pytest.approx(fraction, abs=0.01)
    # The text alternative names the key figures.
    assert "threshold 2 days" in lookout.locator("desc").text_content().lower()

    ARTIFACTS.mkdir(exist_ok=True)
    page.screenshot(path=str(ARTIFACTS / "status.png"), full_page=True)
    page.emulate_media(media="print")
    assert page.eval_on_selector("a.skip", "a => getComputedStyle(a).display") == "none"
    page.close()
