"""Pure: the enforcement chain per platform as the status page says it, from the stored posture.

The posture is what the chain run stored (``shared.posture.stored.posture_of``, the snapshot
GET /api/posture serves): per platform (Android, iOS/iPadOS, Windows, macOS) each link's state
and reason, and the weakest link. Every state is a word as well as a colour; "cannot see" (MTD
Guard may not read the link: the reason says which permission to grant) has its own word and tone,
never those of ok or broken, so a blind spot is neither a false pass nor a false alarm.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime

from shared.posture.model import LinkName, LinkState, PlatformPosture, Posture

# The columns, in the order a person reads the chain: who reports, what judges the device (enrolled:
# compliance policy; without enrollment: app protection), what lets only those devices in.
LINKS: tuple[tuple[LinkName, str], ...] = (
    (LinkName.CONNECTOR, "Connector"),
    (LinkName.COMPLIANCE, "Compliance policy with Device Threat Level"),
    (LinkName.APP_PROTECTION, "App protection"),
    (LinkName.CONDITIONAL_ACCESS, "Conditional Access"),
)
LINK_WORDS = dict(LINKS)
STATE_WORDS: dict[LinkState, tuple[str, str]] = {
    LinkState.OK: ("ok", "good"),
    LinkState.BROKEN: ("broken", "bad"),
    LinkState.CANNOT_SEE: ("cannot see", "blind"),
    LinkState.NOT_NEEDED: ("not applicable", "quiet"),
}
NOT_CHECKED = "Not checked yet: the enforcement chain has not been read since deployment."


@dataclass(frozen=True)
class LinkCell:
    """One link of one platform: its state in words, its tone, and why."""

    state: str
    tone: str
    reason: str


@dataclass(frozen=True)
class ChainLine:
    """One platform's row: its links in ``LINKS`` order and its weakest link."""

    platform: str  # the admin center's name: Android, iOS/iPadOS, Windows, macOS
    checked_at: datetime
    links: tuple[LinkCell, ...]
    weakest: str  # "Conditional Access" / "none"
    weakest_tone: str
    weakest_reason: str


@dataclass(frozen=True)
class ChainSection:
    """The section: ``lines`` per platform, or ``not_checked`` words when no posture is stored."""

    checked_at: datetime | None
    lines: tuple[ChainLine, ...]
    not_checked: str
    columns: tuple[str, ...] = tuple(name for _, name in LINKS)  # the links' headers, in order


def _plain(reason: str, *said: str) -> str:
    """``reason`` without the words its row and cell already say ("Android: ", "cannot see: "),
    its first letter capitalised: the row header names the platform, the state word the state."""
    for prefix in said:
        if reason.lower().startswith(prefix.lower()):
            reason = reason[len(prefix) :]
    return reason[:1].upper() + reason[1:]


def _cell(platform: PlatformPosture, name: LinkName) -> LinkCell:
    link = next((x for x in platform.links if x.name is name), None)
    if link is None:  # a snapshot stored before this link was judged
        return LinkCell("not checked", "quiet", "This link was not part of the stored check.")
    state, tone = STATE_WORDS.get(link.state, (str(link.state), "blind"))
    return LinkCell(state, tone, _plain(link.reason, f"{platform.label}: ", "cannot see: "))


def chain_line(platform: PlatformPosture) -> ChainLine:
    """One platform's chain; the weakest link's tone is its own state's (a broken link is bad, a
    link that cannot be seen is a blind spot)."""
    weakest = next((x for x in platform.links if x.name is platform.weakest_link), None)
    tone = STATE_WORDS[weakest.state][1] if weakest and weakest.state in STATE_WORDS else "good"
    return ChainLine(
        platform=platform.label,
        checked_at=platform.checked_at,
        links=tuple(_cell(platform, name) for name, _ in LINKS),
        weakest=LINK_WORDS.get(platform.weakest_link, str(platform.weakest_link))
        if platform.weakest_link
        else "none",
        weakest_tone=tone,
        weakest_reason=_plain(platform.weakest_reason, f"{platform.label}: "),
    )


def chain_section(posture: Posture | None) -> ChainSection:
    """The section for the stored ``posture`` (None: no chain run stored one yet)."""
    if posture is None or not posture.platforms:
        return ChainSection(None, (), NOT_CHECKED)
    return ChainSection(posture.checked_at, tuple(chain_line(p) for p in posture.platforms), "")
