"""What the posture of one platform is made of, and how it is stored. Pure.

The enforcement chain of MTD on a platform (Microsoft's Defender for Endpoint integration guide:
four configurations "in concert"): a **connector** evaluating the platform (and healthy), a
**compliance** policy for the platform using the Device Threat Level rule, a **Conditional Access**
policy that lets only compliant devices in; for devices without enrollment, an **app protection**
policy with a maximum allowed device threat level plays the compliance policy's part. Each link is
``ok``, ``broken``, ``cannotSee`` (MTD Guard may not read it: a permission, a v1.0 read) or
``notNeeded`` (no connector asks for it). ``weakestLink`` is the first broken link in chain
order, else the first one that cannot be seen.

One row per platform (``posture|<platform>``), replaced by every chain run, so GET /api/posture
and the status page read the last snapshot without calling Graph.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from datetime import datetime
from enum import StrEnum

from shared.store.rows import RowKind

# Conditional Access platform names (conditions.platforms) -> the admin center's names
PLATFORMS = {"android": "Android", "iOS": "iOS/iPadOS", "windows": "Windows", "macOS": "macOS"}


class LinkState(StrEnum):
    """One link of the chain on one platform."""

    OK = "ok"
    BROKEN = "broken"
    CANNOT_SEE = "cannotSee"
    NOT_NEEDED = "notNeeded"


class LinkName(StrEnum):
    """The links, in chain order."""

    CONNECTOR = "connector"
    COMPLIANCE = "compliance"
    CONDITIONAL_ACCESS = "conditionalAccess"
    APP_PROTECTION = "appProtection"


@dataclass(frozen=True)
class Link:
    """A link's state and why, in plain words ("cannot see: grant X" when a permission is missing)."""

    name: LinkName
    state: LinkState
    reason: str


@dataclass(frozen=True)
class ConnectorEntry:
    """A connector evaluating the platform, with the health the heartbeat monitor last stored."""

    connector_id: str
    partner: str
    compliance: bool  # its <platform>Enabled toggle is on
    app_protection: bool  # its <platform>MobileApplicationManagementEnabled toggle is on
    health: str | None  # heartbeat Health value; None: not swept yet
    health_reason: str | None = None
    minimum_os_version: str | None = None  # beta partnerMinimumSupported<Platform>Version, if sent


@dataclass(frozen=True)
class ComplianceEntry:
    """A compliance policy of the platform."""

    policy_id: str
    display_name: str
    policy_type: str  # the admin center's words, e.g. "Android Enterprise personally-owned work profile"
    threat_rule: bool | None  # the Device Threat Level rule on with a real level; None: cannot see
    required_level: str | None
    assigned: bool


@dataclass(frozen=True)
class CaEntry:
    """A Conditional Access policy offering compliantDevice on the platform, and its verdict."""

    policy_id: str
    display_name: str
    enforces: bool
    reasons: list[str] = field(default_factory=list)  # why it only seems to
    scope: list[str] = field(default_factory=list)  # what an enforcing one leaves out


@dataclass(frozen=True)
class AppProtectionEntry:
    """An app protection policy of the platform (beta reads only)."""

    policy_id: str
    display_name: str
    max_threat_level: str | None
    remediation_action: str | None
    assigned: bool


@dataclass(frozen=True)
class PlatformPosture:
    """Row ``posture|<platform>``: the whole chain on one platform at ``checked_at`` (UTC)."""

    tenant_id: str
    platform: str  # CA platform name: android | iOS | windows | macOS
    label: str
    checked_at: datetime
    links: list[Link]
    connectors: list[ConnectorEntry]
    compliance_policies: list[ComplianceEntry]
    ca_policies: list[CaEntry]
    app_protection_policies: list[AppProtectionEntry]
    weakest_link: LinkName | None  # None: every link is ok or not needed
    weakest_reason: str


POSTURE_ROWS = RowKind(
    PlatformPosture,
    "posture",
    key=lambda p: p.platform.lower(),
    layout="the enforcement chain of one platform as last checked (GET /api/posture)",
)


@dataclass(frozen=True)
class Posture:
    """Every platform's chain, as last stored (``checked_at``: the oldest platform's check)."""

    tenant_id: str
    checked_at: datetime
    platforms: list[PlatformPosture]


_ORDER = (LinkName.CONNECTOR, LinkName.COMPLIANCE, LinkName.CONDITIONAL_ACCESS, LinkName.APP_PROTECTION)


def weakest(links: list[Link], label: str) -> tuple[LinkName | None, str]:
    """The first broken link in chain order, else the first that cannot be seen, with its reason;
    (None, why all is well) otherwise."""
    by_name = {link.name: link for link in links}
    for state in (LinkState.BROKEN, LinkState.CANNOT_SEE):
        for name in _ORDER:
            link = by_name.get(name)
            if link is not None and link.state is state:
                return name, link.reason
    if all(link.state is LinkState.NOT_NEEDED for link in links):
        return None, f"{label}: no MTD connector evaluates this platform, so there is no chain to check."
    return None, f"{label}: every link of the chain is in place."
