"""The enforcement chain per platform: GET /api/posture."""

from __future__ import annotations

from typing import Annotated, TypedDict

from msgspec import Meta

from functions.models.common import Time
from shared.posture.model import LinkName, LinkState


class Link(TypedDict):
    """One link of the chain: its state and why, in plain words."""

    name: LinkName
    state: Annotated[LinkState, Meta(description="cannotSee: a permission or a v1.0 read hides it")]
    reason: str


class PostureConnector(TypedDict):
    """A connector evaluating the platform, with the health the heartbeat monitor stored."""

    id: str
    partner: str
    evaluatesCompliance: bool
    evaluatesAppProtection: bool
    health: Annotated[str | None, Meta(description="null: not checked by the heartbeat monitor yet")]
    healthReason: str | None
    minimumOsVersion: Annotated[str | None, Meta(description="beta partnerMinimumSupported*Version, if sent")]


class PostureCompliancePolicy(TypedDict):
    """A device compliance policy of the platform."""

    id: str
    displayName: str
    policyType: str
    deviceThreatLevelRule: Annotated[bool | None, Meta(description="null: cannot see (Graph v1.0)")]
    requiredLevel: str | None
    assigned: bool


class PostureCaPolicy(TypedDict):
    """A Conditional Access policy offering compliantDevice on the platform, and its verdict."""

    id: str
    displayName: str
    enforces: bool
    onlySeemsBecause: list[str]
    scope: Annotated[list[str], Meta(description="what an enforcing policy leaves out")]


class PostureAppProtectionPolicy(TypedDict):
    """An app protection policy of the platform (read through Graph beta only)."""

    id: str
    displayName: str
    maximumAllowedDeviceThreatLevel: str | None
    mobileThreatDefenseRemediationAction: str | None
    assigned: bool


class PlatformPosture(TypedDict):
    """The whole chain on one platform."""

    platform: str
    label: str
    checkedAt: Time
    weakestLink: LinkName | None
    weakestReason: str
    links: list[Link]
    connectors: list[PostureConnector]
    compliancePolicies: list[PostureCompliancePolicy]
    conditionalAccessPolicies: list[PostureCaPolicy]
    appProtectionPolicies: list[PostureAppProtectionPolicy]


class Posture(TypedDict):
    """Every platform's enforcement chain as the last Conditional Access check stored it."""

    tenantId: str
    checkedAt: Annotated[Time | None, Meta(description="null: no check has run yet")]
    platforms: list[PlatformPosture]
