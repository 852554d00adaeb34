"""The MTD partners Intune knows, by connector id, so people read "Lookout for Work", not a GUID.

Graph returns no partner name: the connector id IS the partner's well-known id. The ids come from
Microsoft365DSC's hard-coded map (see the reference notes); a connector whose id is not listed here
is still monitored, shown as "unknown partner <id>".
"""

from __future__ import annotations

from collections.abc import Callable, Mapping
from dataclasses import dataclass


@dataclass(frozen=True)
class Capability:
    """The platforms a partner serves, as its Microsoft partner page confirms them (``source``)."""

    compliance: frozenset[str]  # platforms whose device compliance it can evaluate
    app_protection: frozenset[str] | None  # None: not confirmed either way
    source: str  # what Microsoft's page says, quoted in refusals


@dataclass(frozen=True)
class Partner:
    """One MTD partner: its well-known connector id (the id of its ``mobileThreatDefenseConnector`` in
    Graph), the slug of its API URLs and its readable name. ``known`` is False for the stand-in
    ``by_id`` makes for an id not in the catalog."""

    id: str
    slug: str  # short name used in URLs: /api/connectors/lookout
    name: str
    # Other names the partner is known by (older product names), as classic CA policies may carry them.
    aliases: tuple[str, ...] = ()
    capability: Capability | None = None  # only where Microsoft's partner pages confirm it
    known: bool = True
    # Other connector ids public sources give for the same partner (which one Intune uses is
    # unconfirmed): recognised by ``by_id``; ``resolve`` of the slug gives ``id``.
    alternate_ids: tuple[str, ...] = ()

    @property
    def names(self) -> tuple[str, ...]:
        """The catalog name first, then the aliases."""
        return (self.name, *self.aliases)


_PARTNERS: tuple[Partner, ...] = (
    Partner(
        "fc780465-2017-40d4-a0c5-307022471b92",
        "defender",
        "Microsoft Defender for Endpoint",
        ("Defender for Endpoint", "Defender ATP", "Windows Defender"),
        Capability(
            frozenset({"android", "ios", "windows"}),
            frozenset({"android", "ios"}),
            "the Intune connector for Defender for Endpoint offers Android, iOS/iPadOS and Windows, "
            "and app protection evaluation on Android and iOS/iPadOS",
        ),
    ),
    Partner("2c7790de-8b02-4814-85cf-e0c59380dee8", "lookout", "Lookout for Work", ("Lookout",)),
    Partner(
        "28fd67fd-b179-4629-a8b0-dad420b697c7",
        "symantec",
        "Symantec Endpoint Protection",
        ("Symantec", "Broadcom"),
    ),
    Partner(
        "d3ddeae8-441f-4681-b80f-aef644f7195a",
        "checkpoint",
        "Check Point Harmony Mobile",
        ("Check Point", "SandBlast"),
    ),
    Partner("08a8455c-48dd-45ff-ad82-7211355354f3", "zimperium", "Zimperium", ("Zimperium",)),
    Partner("8d0ed095-8191-4bd3-8a41-953b22d51ff7", "pradeo", "Pradeo", ("Pradeo",)),
    Partner("860d3ab4-8fd1-45f5-89cd-ecf51e4f92e5", "better", "BETTER Mobile Security", ("BETTER Mobile",)),
    Partner("870b252b-0ef0-4707-8847-50fc571472b3", "sophos", "Sophos", ("Sophos",)),
    Partner(
        "1f58d6d2-02cc-4c80-b008-1bfe7396a10a", "jamf", "Jamf Trust (formerly Wandera)", ("Jamf", "Wandera")
    ),
    Partner(
        "a447eca6-a986-4d3f-9838-5862bf50776c",
        "blackberry",
        "BlackBerry Protect Mobile",
        ("BlackBerry", "Cylance"),
        Capability(
            frozenset({"android", "ios"}),
            None,
            "BlackBerry Protect Mobile integrates with Intune compliance on Android and iOS/iPadOS only",
        ),
    ),
    Partner(
        "4928f0f6-2660-4f69-b4c5-5170ec921f7b", "trendmicro", "Trend Micro Mobile Security", ("Trend Micro",)
    ),
    Partner("bb13fe25-ce1f-45aa-b278-cabbc6b9072e", "sentinelone", "SentinelOne", ("SentinelOne",)),
    Partner(
        "29ee2d98-e795-475f-a0f8-0802dc3384a9",
        "crowdstrike",
        "CrowdStrike Falcon for Mobile",
        ("CrowdStrike",),
    ),
    # UNCONFIRMED which id Intune uses: Microsoft365DSC's map says e6f777f8-..., Maester's catalog and a
    # published script say c2b688fe-.... Both are recognised; the slug (PUT by name) resolves to the first.
    Partner(
        "e6f777f8-e4c2-4a5b-be01-50b5c124bc7f",
        "windows-security-center",
        "Windows Security Center",
        alternate_ids=("c2b688fe-48c0-464b-a89c-67041aa8fcb2",),
    ),
    # The public source lists this id with only 7 hex digits in its first group; kept verbatim so a
    # tenant that really returns it is named, and any well-formed id still works as "unknown".
    Partner("4873197-ffec-4dfc-9816-db65f34c7cb9", "trellix", "Trellix Mobile Security", ("Trellix",)),
    # From Maester's partner catalog only; no Microsoft source confirms this id (unconfirmed).
    Partner("fc06ff9b-e2f9-4221-9a68-465684ee8662", "iverify", "iVerify", ("iVerify",)),
)

_BY_ID = {i.lower(): p for p in _PARTNERS for i in (p.id, *p.alternate_ids)}
_BY_SLUG = {p.slug: p for p in _PARTNERS}


# App protection (devices without enrollment): the partners Microsoft's "Mobile Threat Defense for
# unenrolled devices" page lists, by slug. Intune evaluates app protection on Android and iOS/iPadOS
# only (and Windows MAM, beta, with Defender). Which platform each listed partner supports is not
# stated per partner on that page (unconfirmed beyond "Android and iOS/iPadOS"); a partner NOT
# listed is "not confirmed", never "unsupported". The beta connector's partnerSupports<Platform>Mam
# fields, when a tenant sends them, are the partner's own word and win (partner_supports_mam).
APP_PROTECTION_PARTNERS = frozenset(
    {
        "blackberry",
        "better",
        "checkpoint",
        "jamf",
        "lookout",
        "sentinelone",
        "symantec",
        "trellix",
        "zimperium",
        "defender",
    }
)
APP_PROTECTION_SOURCE = (
    "Microsoft's 'Mobile Threat Defense for unenrolled devices' page lists BlackBerry, BETTER Mobile, "
    "Check Point, Jamf, Lookout, SentinelOne, Symantec, Trellix, Zimperium and Defender for Endpoint"
)
# connector toggle platform (configure's names) -> beta partnerSupports* / partnerMinimumSupported* field
_MAM_FACT = {
    "android": "partnerSupportsAndroidMam",
    "ios": "partnerSupportsIosMam",
    "windows": "partnerSupportsWindowsMam",
}
_MINIMUM_FACT = {
    "android": "partnerMinimumSupportedAndroidVersion",
    "ios": "partnerMinimumSupportedIosVersion",
    "windows": "partnerMinimumSupportedWindowsVersion",
    "mac": "partnerMinimumSupportedMacVersion",
}


def partner_supports_mam(partner: Partner, platform: str, facts: Mapping[str, object]) -> bool | None:
    """Whether ``partner`` evaluates app protection on ``platform`` ("android", "ios", "windows"):
    the beta connector's ``partnerSupports<Platform>Mam`` when sent; else True when Microsoft's list
    names the partner (Android and iOS/iPadOS only); else None (not confirmed either way)."""
    said = facts.get(_MAM_FACT.get(platform, ""))
    if isinstance(said, bool):
        return said
    if partner.slug in APP_PROTECTION_PARTNERS and platform in ("android", "ios"):
        return True
    return None


def minimum_os_version(platform: str, facts: Mapping[str, object]) -> str | None:
    """The partner's minimum supported OS version on ``platform`` ("android", "ios", "windows",
    "mac"), from the beta connector's ``partnerMinimumSupported<Platform>Version``; None when not sent."""
    value = facts.get(_MINIMUM_FACT.get(platform, ""))
    return value if isinstance(value, str) and value else None


def partners() -> tuple[Partner, ...]:
    """Every partner in the catalog, in display order (Defender first)."""
    return _PARTNERS


def by_id(connector_id: str) -> Partner:
    """The partner behind a connector id; an unknown id still gets a readable stand-in."""
    known = _BY_ID.get(connector_id.lower())
    if known:
        return known
    return Partner(connector_id, connector_id.lower(), f"unknown partner {connector_id}", known=False)


def resolve(slug_or_id: str) -> str:
    """A connector id from a catalog slug (``lookout``) or an id given as is (any case)."""
    key = slug_or_id.strip().lower()
    partner = _BY_SLUG.get(key)
    return partner.id if partner else key


def resolve_in(slug_or_id: str, present: Callable[[str], bool]) -> str:
    """The connector id ``slug_or_id`` means in a tenant: for the slug of a partner with several
    public ids (``Partner.alternate_ids``), the first of its ids (default first) that ``present``
    says the tenant has, else the default id; anything else as ``resolve``. ``present`` is asked
    only for such a partner."""
    partner = _BY_SLUG.get(slug_or_id.strip().lower())
    if partner is None or not partner.alternate_ids:
        return resolve(slug_or_id)
    return next((i for i in (partner.id, *partner.alternate_ids) if present(i)), partner.id)


# Words that mark a policy as MTD's without naming a partner.
GENERIC_NAMES = ("Mobile Threat Defense", "MTD")


def partner_of(display_name: str) -> Partner | None:
    """The catalog partner a name mentions (its longest matching name or alias wins), else None."""
    lowered = display_name.casefold()
    best: tuple[int, Partner] | None = None
    for partner in _PARTNERS:
        for name in partner.names:
            if name.casefold() in lowered and (best is None or len(name) > best[0]):
                best = (len(name), partner)
    return best[1] if best else None


def name_patterns() -> tuple[str, ...]:
    """Case-folded globs (``*lookout*``) for every partner name, alias and generic MTD name."""
    names = {n for p in _PARTNERS for n in p.names}
    return tuple(sorted(f"*{n.casefold()}*" for n in (*names, *GENERIC_NAMES)))
