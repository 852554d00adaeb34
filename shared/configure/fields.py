"""Desired connector settings in the admin center's language, and the plan to get Graph there.

Pure rules, no I/O. A configure request names only what it wants managed; every field left out
stays as it is in Intune. The body, per platform and tenant-wide::

    {"android": {"complianceEvaluation": true, "blockOnMissingPartnerData": false,
                 "appProtectionEvaluation": true},
     "ios":     {...the same three...},
     "windows": {"complianceEvaluation": ..., "blockOnMissingPartnerData": ...,
                 "appProtectionEvaluation": ...},          # app protection: beta only
     "mac":     {"complianceEvaluation": ..., "blockOnMissingPartnerData": ...},   # beta only
     "appSync": true, "personalIosAppInventory": false,
     "blockUnsupportedOsVersions": true, "unresponsiveThresholdDays": 7}

``FIELDS`` maps each JSON pointer to its Graph property. Validation is strict: an unknown field,
a wrong type or a value out of range is a ``FieldError`` naming the field by JSON pointer (RFC 6901),
so the caller's ticket can say exactly what to fix.

Intune's rules are checked before any write (``refusals``):
  * app protection (MAM) evaluation may be on for only ONE partner per platform (409, naming the
    partner that holds it);
  * ``mac*`` and Windows app protection exist only on Graph's beta endpoint. They are accepted only
    when GRAPH_API_VERSION=beta; on v1.0 they are refused (422) with that reason, rather than
    silently sending them to beta behind the operator's back or dropping them;
  * a partner's platforms, only where Microsoft's partner pages confirm them (``catalog.Partner.capability``):
    turning on a platform that partner does not serve is refused (422). Turning one off is always
    allowed. Partners not listed are not limited: we do not guess.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass, field
from enum import StrEnum
from typing import Any

from shared import catalog
from shared.json_pointer import FieldError, child

PLATFORMS = ("android", "ios", "windows", "mac")
THRESHOLD_RANGE = (1, 365)  # Intune documents no bounds; a year is the longest that makes sense
# States in which the partner's side is not finished yet (v1.0 now names notSetUp; beta's newer
# neverConfigured reaches v1.0 as unknownFutureValue, judged together with "no heartbeat yet").
PENDING_STATES = frozenset({"notSetUp", "available", "neverConfigured"})


@dataclass(frozen=True)
class Field:
    """One setting of the configure body: its JSON pointer, Graph property and admin-center label."""

    pointer: str  # JSON pointer in the request body, e.g. "/android/complianceEvaluation"
    graph: str  # Graph property name
    label: str  # what the admin center calls it
    integer: bool = False  # False: a boolean toggle
    beta_only: bool = False
    platform: str | None = None  # the platform a toggle belongs to
    mam: bool = False  # an app protection (MAM) evaluation toggle
    # True: turning it off weakens enforcement (drift severity high); the threshold weakens when raised
    enforces: bool = False

    def label_for(self, partner: str) -> str:
        """The label naming the partner, as the admin center reads for that connector:
        "Connect iOS/iPadOS devices to Lookout for Work (compliance evaluation)"."""
        return self.label.replace("the partner", partner)


def _platform_fields(platform: str, title: str, *, mam: bool, mam_beta: bool, beta: bool) -> list[Field]:
    found = [
        Field(
            f"/{platform}/complianceEvaluation",
            f"{platform}Enabled",
            f"Connect {title} devices to the partner (compliance evaluation)",
            beta_only=beta,
            platform=platform,
            enforces=True,
        ),
        Field(
            f"/{platform}/blockOnMissingPartnerData",
            f"{platform}DeviceBlockedOnMissingPartnerData",
            f"Mark {title} devices noncompliant until partner data arrives",
            beta_only=beta,
            platform=platform,
            enforces=True,
        ),
    ]
    if mam:
        found.append(
            Field(
                f"/{platform}/appProtectionEvaluation",
                f"{platform}MobileApplicationManagementEnabled",
                f"App protection policy evaluation for {title} devices",
                beta_only=mam_beta,
                platform=platform,
                mam=True,
                enforces=True,
            )
        )
    return found


FIELDS: tuple[Field, ...] = (
    *_platform_fields("android", "Android", mam=True, mam_beta=False, beta=False),
    *_platform_fields("ios", "iOS/iPadOS", mam=True, mam_beta=False, beta=False),
    *_platform_fields("windows", "Windows", mam=True, mam_beta=True, beta=False),
    *_platform_fields("mac", "macOS", mam=False, mam_beta=False, beta=True),
    Field("/appSync", "allowPartnerToCollectIOSApplicationMetadata", "Enable App Sync for iOS devices"),
    Field(
        "/personalIosAppInventory",
        "allowPartnerToCollectIOSPersonalApplicationMetadata",
        "Send full application inventory data on personally-owned iOS/iPadOS devices",
    ),
    Field(
        "/blockUnsupportedOsVersions",
        "partnerUnsupportedOsVersionBlocked",
        "Block unsupported OS versions",
        enforces=True,
    ),
    Field(
        "/unresponsiveThresholdDays",
        "partnerUnresponsivenessThresholdInDays",
        "Number of days until partner is unresponsive",
        integer=True,
    ),
)
THRESHOLD_PROPERTY = "partnerUnresponsivenessThresholdInDays"
BY_POINTER = {f.pointer: f for f in FIELDS}
BY_GRAPH = {f.graph: f for f in FIELDS}
_PLATFORM_KEYS = {p: [f for f in FIELDS if f.platform == p] for p in PLATFORMS}
_TOP_LEVEL = {f.pointer[1:]: f for f in FIELDS if f.platform is None}


# Partner platforms that Microsoft's partner pages confirm (see the reference notes). Only these
# partners are limited; a partner missing here may turn any platform on.
class InvalidSettings(ValueError):
    """Every problem with a configure body; ``errors`` lists them, each named by its RFC 6901
    pointer (``""``: the whole body)."""

    def __init__(self, errors: list[FieldError]) -> None:
        super().__init__("; ".join(str(e) for e in errors))
        self.errors = errors


def _type_name(value: Any) -> str:
    if value is None:
        return "null"
    if isinstance(value, bool):
        return "a boolean"
    if isinstance(value, int | float):
        return "a number"
    if isinstance(value, str):
        return "a string"
    if isinstance(value, list):
        return "an array"
    return "an object"


def _check_value(spec: Field, value: Any, pointer: str) -> FieldError | None:
    if spec.integer:
        if isinstance(value, bool) or not isinstance(value, int):
            return FieldError(pointer, f"must be a whole number of days, got {_type_name(value)}")
        low, high = THRESHOLD_RANGE
        if not low <= value <= high:
            return FieldError(pointer, f"must be between {low} and {high} days, got {value}")
        return None
    if not isinstance(value, bool):
        return FieldError(pointer, f"must be true or false, got {_type_name(value)}")
    return None


def parse(body: Any, base: str = "") -> dict[str, bool | int]:
    """Graph property -> desired value, from a settings body; raises InvalidSettings.

    ``base`` prefixes the pointers when the settings sit inside a larger payload (webhooks).
    """
    if not isinstance(body, dict):
        raise InvalidSettings([FieldError(base, f"must be a JSON object, got {_type_name(body)}")])
    desired: dict[str, bool | int] = {}
    errors: list[FieldError] = []
    for key, value in body.items():
        pointer = child(base, key)
        if key in _PLATFORM_KEYS:
            _parse_platform(key, value, pointer, desired, errors)
        elif key in _TOP_LEVEL:
            _take(_TOP_LEVEL[key], value, pointer, desired, errors)
        else:
            errors.append(FieldError(pointer, _unknown(key, [*PLATFORMS, *_TOP_LEVEL], None)))
    if errors:
        raise InvalidSettings(errors)
    if not desired:
        raise InvalidSettings([FieldError(base, "names no setting to manage; an empty body changes nothing")])
    return desired


def _parse_platform(
    platform: str, value: Any, pointer: str, desired: dict[str, bool | int], errors: list[FieldError]
) -> None:
    if not isinstance(value, dict):
        errors.append(FieldError(pointer, f"must be a JSON object, got {_type_name(value)}"))
        return
    allowed = {f.pointer.rsplit("/", 1)[1]: f for f in _PLATFORM_KEYS[platform]}
    for name, inner in value.items():
        inner_pointer = child(pointer, name)
        spec = allowed.get(name)
        if spec is None:
            errors.append(FieldError(inner_pointer, _unknown(name, sorted(allowed), platform)))
        else:
            _take(spec, inner, inner_pointer, desired, errors)


def _take(
    spec: Field, value: Any, pointer: str, desired: dict[str, bool | int], errors: list[FieldError]
) -> None:
    if problem := _check_value(spec, value, pointer):
        errors.append(problem)
    else:
        desired[spec.graph] = value


def _unknown(name: str, allowed: list[str], platform: str | None) -> str:
    where = f"for {platform}" if platform else "here"
    if platform == "mac" and name == "appProtectionEvaluation":
        return "is not a setting: Intune has no app protection evaluation for macOS"
    return f"is not a known setting {where}; known: {', '.join(allowed)}"


# -- reading Graph and answering in the body's language ----------------------------------------


def current_values(graph_item: Mapping[str, Any]) -> dict[str, bool | int]:
    """The managed properties Graph reported, each only when it has the expected type."""
    found: dict[str, bool | int] = {}
    for spec in FIELDS:
        value = graph_item.get(spec.graph)
        if not isinstance(value, bool | int):
            continue
        if spec.integer != isinstance(value, bool):  # a threshold must not be a bool, a toggle must
            found[spec.graph] = value
    return found


def connector_settings(toggles: Mapping[str, bool], threshold_days: int | None) -> dict[str, bool | int]:
    """The managed settings of a listed connector (``ConnectorReading.toggles`` and its threshold,
    None when Graph gave none): Graph property -> value, FIELDS' properties only."""
    found: dict[str, bool | int] = {f.graph: toggles[f.graph] for f in FIELDS if f.graph in toggles}
    if threshold_days is not None:
        found[THRESHOLD_PROPERTY] = threshold_days
    return found


def as_settings(values: Mapping[str, Any]) -> dict[str, Any]:
    """Graph properties -> the admin center's shape (the same shape a configure body has)."""
    shaped: dict[str, Any] = {}
    for spec in FIELDS:
        if spec.graph not in values:
            continue
        parts = spec.pointer.strip("/").split("/")
        if len(parts) == 2:
            shaped.setdefault(parts[0], {})[parts[1]] = values[spec.graph]
        else:
            shaped[parts[0]] = values[spec.graph]
    return shaped


# -- the plan ---------------------------------------------------------------------------------


class Action(StrEnum):
    """What a configure request sends to Graph."""

    CREATE = "create"  # POST: the connector does not exist yet
    UPDATE = "update"  # PATCH of only the properties that differ
    NONE = "none"  # already as desired: nothing is sent


@dataclass(frozen=True)
class Change:
    """One setting that changes, in both languages (admin center pointer and Graph property)."""

    field: str  # JSON pointer in the admin center's language
    property: str  # Graph property
    label: str
    before: bool | int | None  # None: the connector does not exist yet (or Graph did not say)
    after: bool | int

    def view(self) -> dict[str, Any]:
        """The change as the API and the audit trail show it (``from``/``to``)."""
        return {
            "field": self.field,
            "property": self.property,
            "label": self.label,
            "from": self.before,
            "to": self.after,
        }


@dataclass(frozen=True)
class Plan:
    """What a configure request will send to Graph, and what Graph should hold afterwards."""

    connector_id: str
    action: Action
    changes: list[Change]
    body: dict[str, Any]  # exactly what is sent to Graph (empty for NONE)
    before: dict[str, bool | int] | None  # None: the connector does not exist
    predicted: dict[str, bool | int]  # what Graph should report afterwards (managed properties)


def plan(connector_id: str, current: Mapping[str, Any] | None, desired: Mapping[str, bool | int]) -> Plan:
    """Create when absent, patch only what differs, or nothing at all."""
    ordered = [f for f in FIELDS if f.graph in desired]
    if current is None:
        changes = [Change(f.pointer, f.graph, f.label, None, desired[f.graph]) for f in ordered]
        body = {"id": connector_id, **{c.property: c.after for c in changes}}
        return Plan(connector_id, Action.CREATE, changes, body, None, dict(desired))
    before = current_values(current)
    changes = [
        Change(f.pointer, f.graph, f.label, before.get(f.graph), desired[f.graph])
        for f in ordered
        if before.get(f.graph) != desired[f.graph]
    ]
    predicted = {**before, **desired}
    if not changes:
        return Plan(connector_id, Action.NONE, [], {}, before, predicted)
    return Plan(
        connector_id, Action.UPDATE, changes, {c.property: c.after for c in changes}, before, predicted
    )


# -- Intune's rules, checked before any write -------------------------------------------------


@dataclass(frozen=True)
class Refusal:
    """One of Intune's rules that refuses the request (409 or 422), before anything is written."""

    status: int  # 409 conflicts with another connector; 422 cannot be done as asked
    kind: str  # problem type suffix
    title: str
    pointer: str  # the field of the request that is refused
    detail: str
    extra: dict[str, Any] = field(default_factory=dict)


def refusals(
    connector_id: str,
    desired: Mapping[str, bool | int],
    *,
    api_version: str,
    others_mam: Mapping[str, list[str]],
    partner_facts: Mapping[str, object] | None = None,
) -> list[Refusal]:
    """What Intune would refuse (or what we refuse on its behalf), all of it at once.

    ``others_mam``: platform -> ids of OTHER connectors that have app protection evaluation on.
    ``partner_facts``: the connector as Graph sent it (beta ``partnerSupports<Platform>Mam``: a
    partner saying false is refused).
    """
    found: list[Refusal] = _mam_refusals(connector_id, desired, partner_facts or {})
    for spec in FIELDS:
        if spec.graph not in desired:
            continue
        if spec.beta_only and api_version != "beta":
            found.append(
                Refusal(
                    422,
                    "beta-required",
                    "Needs the beta endpoint",
                    spec.pointer,
                    f"{spec.pointer} ({spec.graph}) exists only on Microsoft Graph beta, and this "
                    f"app talks to {api_version}. Set GRAPH_API_VERSION=beta to manage it, or leave "
                    "the field out.",
                )
            )
            continue
        if desired[spec.graph] is not True or spec.platform is None:
            continue
        if spec.mam and (holders := others_mam.get(spec.platform)):
            names = [catalog.by_id(h).name for h in holders]
            found.append(
                Refusal(
                    409,
                    "app-protection-taken",
                    "App protection evaluation is taken",
                    spec.pointer,
                    f"Intune allows app protection evaluation on {spec.platform} for only one "
                    f"partner, and {' and '.join(names)} has it. Turn it off there first "
                    f"(PUT /api/connectors/{catalog.by_id(holders[0]).slug} with "
                    f'{{"{spec.platform}": {{"appProtectionEvaluation": false}}}}), then retry.',
                    {"heldBy": [{"id": h, "partner": n} for h, n in zip(holders, names, strict=True)]},
                )
            )
        capability = catalog.by_id(connector_id).capability
        if capability is None:
            continue
        allowed = capability.app_protection if spec.mam else capability.compliance
        if allowed is not None and spec.platform not in allowed:
            what = "app protection evaluation" if spec.mam else "device compliance"
            found.append(
                Refusal(
                    422,
                    "partner-capability",
                    "Not offered by this partner",
                    spec.pointer,
                    f"{catalog.by_id(connector_id).name} does not offer {what} on {spec.platform}: "
                    f"{capability.source}.",
                )
            )
    return found


def _mam_refusals(
    connector_id: str, desired: Mapping[str, bool | int], facts: Mapping[str, object]
) -> list[Refusal]:
    partner = catalog.by_id(connector_id)
    return [
        Refusal(
            422,
            "partner-capability",
            "Not offered by this partner",
            spec.pointer,
            f"{partner.name} does not offer app protection evaluation on {spec.platform}: the connector "
            "itself says so (beta partnerSupports" + f"{spec.platform.capitalize()}Mam = false).",
        )
        for spec in FIELDS
        if spec.mam and spec.platform and desired.get(spec.graph) is True
        if catalog.partner_supports_mam(partner, spec.platform, facts) is False
    ]


def partner_notes(
    connector_id: str, desired: Mapping[str, bool | int], facts: Mapping[str, object]
) -> list[str]:
    """Warnings for a configure answer: app protection asked of a partner Microsoft does not list
    for it (not confirmed, not refused), and the partner's minimum OS version next to each platform
    turned on, when the beta connector sends it."""
    partner = catalog.by_id(connector_id)
    notes = []
    for spec in FIELDS:
        if desired.get(spec.graph) is not True or spec.platform is None:
            continue
        if spec.mam and catalog.partner_supports_mam(partner, spec.platform, facts) is None:
            notes.append(
                f"{spec.pointer}: app protection evaluation by {partner.name} on {spec.platform} is not "
                f"confirmed ({catalog.APP_PROTECTION_SOURCE}); check the partner's documentation."
            )
        elif not spec.mam and (version := catalog.minimum_os_version(spec.platform, facts)):
            notes.append(f"{spec.pointer}: {partner.name} supports {spec.platform} {version} and later.")
    return notes


def mam_holders(connectors: list[tuple[str, Mapping[str, bool]]], connector_id: str) -> dict[str, list[str]]:
    """platform -> ids of the connectors OTHER than ``connector_id`` with MAM evaluation on."""
    held: dict[str, list[str]] = {}
    for other_id, toggles in connectors:
        if other_id.lower() == connector_id.lower():
            continue
        for spec in FIELDS:
            if spec.mam and spec.platform and toggles.get(spec.graph) is True:
                held.setdefault(spec.platform, []).append(other_id)
    return held


# -- what is left after a write -----------------------------------------------------------------


def partner_pending(partner_state: str | None, last_heartbeat: str | None) -> bool:
    """True while the partner's own side is not finished (no heartbeat has ever arrived)."""
    if partner_state in PENDING_STATES:
        return True
    return partner_state == "unknownFutureValue" and not last_heartbeat


def next_steps(connector_id: str, partner_state: str | None, last_heartbeat: str | None) -> list[str]:
    """What the operator still has to do once Intune's side is configured."""
    if not partner_pending(partner_state, last_heartbeat):
        return []
    partner = catalog.by_id(connector_id)
    return [
        f"Finish the set-up on {partner.name}'s side: open the {partner.name} admin console and "
        "connect it to this Intune tenant (Intune shows the connector as "
        f"'{partner_state or 'not set up'}' until the partner has done its part).",
        "The heartbeat monitor shows when the partner connects: watch "
        f"GET /api/connectors/{partner.slug} (health leaves 'notSetUp' with the first heartbeat), "
        "or run POST /api/checks/heartbeat to look now.",
    ]
