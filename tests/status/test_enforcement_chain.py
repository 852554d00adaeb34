"""Pure: what the status page says of the enforcement chain per platform, from a stored posture."""

from __future__ import annotations

from dataclasses import replace
from datetime import UTC, datetime

from shared.posture.model import Link, LinkName, LinkState, PlatformPosture, Posture
from shared.status import view
from shared.status.enforcement_chain import chain_line, chain_section
from tests.status.test_view import stored

CHECKED = datetime(2026, 11, 29, 11, 0, tzinfo=UTC)
GRANT = "cannot see: grant the application permission DeviceManagementApps.Read.All"


def platform(
    name: str, label: str, states: dict[LinkName, LinkState], weakest: LinkName | None = None
) -> PlatformPosture:
    links = [Link(n, s, f"{label}: the {n.value} link is {s.value}") for n, s in states.items()]
    reason = next(
        (x.reason for x in links if x.name is weakest), f"{label}: every link of the chain is in place."
    )
    return PlatformPosture("t", name, label, CHECKED, links, [], [], [], [], weakest, reason)


WHOLE = {
    LinkName.CONNECTOR: LinkState.OK,
    LinkName.COMPLIANCE: LinkState.OK,
    LinkName.CONDITIONAL_ACCESS: LinkState.OK,
    LinkName.APP_PROTECTION: LinkState.NOT_NEEDED,
}


def test_no_stored_posture_says_not_checked_yet() -> None:
    section = view.build(stored()).chain
    assert section.lines == () and section.not_checked.startswith("Not checked yet")


def test_each_link_reads_as_a_word_in_the_order_a_person_reads_the_chain() -> None:
    line = chain_line(platform("android", "Android", WHOLE))
    assert [c.state for c in line.links] == ["ok", "ok", "not applicable", "ok"]
    # app protection in the third column; the row names the platform, so the reason does not repeat it
    assert line.links[2].reason == "The appProtection link is notNeeded"
    assert (line.weakest, line.weakest_tone) == ("none", "good")
    assert line.weakest_reason == "Every link of the chain is in place."


def test_a_broken_link_is_the_weakest_with_its_reason() -> None:
    states = {**WHOLE, LinkName.CONDITIONAL_ACCESS: LinkState.BROKEN}
    line = chain_line(platform("windows", "Windows", states, LinkName.CONDITIONAL_ACCESS))
    assert (line.links[3].state, line.links[3].tone) == ("broken", "bad")
    assert (line.weakest, line.weakest_tone) == ("Conditional Access", "bad")
    assert line.weakest_reason == "The conditionalAccess link is broken"


def test_cannot_see_is_never_shown_as_ok_or_broken() -> None:
    whole = platform("iOS", "iOS/iPadOS", WHOLE)
    blind = Link(LinkName.APP_PROTECTION, LinkState.CANNOT_SEE, GRANT)
    p = replace(
        whole,
        links=[*whole.links[:3], blind],
        weakest_link=LinkName.APP_PROTECTION,
        weakest_reason=GRANT,
    )
    line = chain_line(p)
    cell = line.links[2]
    assert cell.state == "cannot see"
    assert cell.reason == "Grant the application permission DeviceManagementApps.Read.All"
    assert cell.tone not in ("good", "bad") and line.weakest_tone == cell.tone
    assert line.weakest == "App protection" and line.weakest_reason == "C" + GRANT[1:]


def test_the_page_keeps_the_stored_platform_order_and_when_it_was_checked() -> None:
    posture = Posture(
        "t",
        CHECKED,
        [platform(n, label, WHOLE) for n, label in (("android", "Android"), ("macOS", "macOS"))],
    )
    section = chain_section(posture)
    assert [p.platform for p in section.lines] == ["Android", "macOS"]
    assert section.checked_at == CHECKED and section.not_checked == ""
    assert section.columns == (
        "Connector",
        "Compliance policy with Device Threat Level",
        "App protection",
        "Conditional Access",
    )
