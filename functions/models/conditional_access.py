"""Conditional Access drift answers and bodies: POST /api/checks/ca-drift, /api/ca/classic-baseline
(PUT, GET) and POST /api/ca/planned-removals."""

from __future__ import annotations

from typing import Annotated, Any, TypedDict

import msgspec
from msgspec import Meta

from functions.models.alerts import Alert
from functions.models.common import DeliveryReport, Time
from shared.conditional_access.classic.rows import Drift, PolicyState
from shared.conditional_access.settings import ClassicSource

Source = Annotated[ClassicSource, Meta(description="where MTD Guard learned of it")]
ObjectId = Annotated[str, Meta(pattern="^[0-9a-fA-F]{8}-([0-9a-fA-F]{4}-){3}[0-9a-fA-F]{12}$")]
Name = Annotated[str, Meta(min_length=1, max_length=256)]


class ClassicChange(TypedDict):
    """A change to a classic policy, from the directory audit log or an inventory import."""

    drift: Drift
    policyId: str | None
    displayName: str
    at: Time
    by: Annotated[str | None, Meta(description="who did it (audit) or who imported the inventory")]
    source: Source
    auditEventId: str | None
    evidence: Annotated[str, Meta(description="how it was recognised and what changed")]


class ClassicPolicy(TypedDict):
    """A classic Conditional Access policy as MTD Guard knows it."""

    key: Annotated[
        str, Meta(description='the object id (lower case), or "name-<hash>" when only the name is known')
    ]
    policyId: str | None
    displayName: str
    state: PolicyState
    partnerId: str | None
    partner: str | None
    contentHash: Annotated[str | None, Meta(description="of the imported details; null when only audited")]
    source: Source
    firstSeen: Time
    updatedAt: Time
    lastChange: str | None


class PlannedRemoval(TypedDict):
    """An announced removal of classic policies: their deletion is info, not high, until it expires."""

    id: str
    policyId: str | None
    displayName: str | None
    partnerId: str | None
    partner: str | None
    ticket: str | None
    note: str | None
    announcedBy: str
    announcedAt: Time
    expiresAt: Time
    usedAt: Annotated[Time | None, Meta(description="when a deletion last counted as planned because of it")]


class AuditLogRead(TypedDict):
    """The directory audit log window this run read."""

    since: Time
    until: Time
    events: Annotated[int, Meta(description="returned by Graph")]
    matched: Annotated[int, Meta(description="changed something")]
    alreadyProcessed: Annotated[int, Meta(description="skipped: processed by an earlier run")]
    cursor: Annotated[Time | None, Meta(description="where the next run starts")]
    complete: bool


class ClassicSummary(TypedDict):
    """The classic-policy half of a drift check: where changes are learnt from, how many classic
    policies are known to exist, the audit log window read (null: not read) and the changes found.
    """

    source: Source
    knownPolicies: int
    auditLog: AuditLogRead | None
    changes: list[ClassicChange]


class ModernSummary(TypedDict):
    """The modern-policy half of a drift check: policies read, the ids of those requiring a compliant
    device, the ids that stopped enforcing MTD (drifted), and which platforms a policy covers.
    """

    policies: Annotated[int | None, Meta(description="modern policies read (null: could not read)")]
    requiringCompliantDevice: list[str]
    drifted: list[str]
    coverage: Annotated[dict[str, bool], Meta(description="platform -> a policy enforces MTD")]


class CaDriftResult(TypedDict):
    """A Conditional Access drift check just run."""

    tenantId: str
    checkedAt: Time
    ok: bool
    recorded: bool
    problems: list[str]
    classic: ClassicSummary
    modern: ModernSummary
    alertsRaised: list[Alert]
    delivery: DeliveryReport


class ClassicImportResult(TypedDict):
    """An inventory import: the baseline as it now stands and what changed since the last one."""

    tenantId: str
    importedAt: Time
    firstImport: bool
    policies: list[ClassicPolicy]
    changes: list[ClassicChange]
    resolvedFindings: list[str]
    alertsRaised: list[Alert]
    problems: list[str]


class LastImport(TypedDict):
    """The last classic inventory import: when, by whom, how many policies, and when the inventory
    was copied from the portal (exportedAt; null when the import did not say).
    """

    importedAt: Time
    importedBy: str
    policies: int
    exportedAt: Time | None


class AuditLogState(TypedDict):
    """How far the directory audit log has been read (readUpTo; null before the first read) and
    how many days Entra ID keeps its events (AUDIT_LOG_RETENTION_DAYS).
    """

    readUpTo: Time | None
    retentionDays: int


class ClassicBaseline(TypedDict):
    """What MTD Guard knows of the classic policies, and how it learns of changes."""

    tenantId: str
    source: Source
    policies: list[ClassicPolicy]
    lastImport: LastImport | None
    auditLog: AuditLogState
    plannedRemovals: list[PlannedRemoval]


# -- request bodies --


class InventoryPolicy(msgspec.Struct, forbid_unknown_fields=True):
    """One classic policy as the Entra portal shows it: name and state, and where known its object
    id, partner and any other details.
    """

    displayName: Name
    state: Annotated[
        str, Meta(extra_json_schema={"enum": [PolicyState.ENABLED.value, PolicyState.DISABLED.value]})
    ]
    id: Annotated[ObjectId, Meta(description="the policy's object id, when the portal shows it")] | (
        msgspec.UnsetType
    ) = msgspec.UNSET
    partner: Annotated[str, Meta(description="catalog slug or connector id")] | msgspec.UnsetType = (
        msgspec.UNSET
    )
    details: Annotated[Any, Meta(description="anything else the portal shows; hashed to detect edits")] | (
        msgspec.UnsetType
    ) = msgspec.UNSET


class ClassicInventory(msgspec.Struct, forbid_unknown_fields=True):
    """Classic CA policies copied from Entra admin center > Protection > Conditional Access >
    Classic policies (no API lists them). docs/conditional-access.md."""

    policies: Annotated[list[InventoryPolicy], Meta(max_length=500)]
    exportedAt: Annotated[Time, Meta(description="when you looked")] | msgspec.UnsetType = msgspec.UNSET
    exportedBy: Annotated[str, Meta(max_length=256)] | msgspec.UnsetType = msgspec.UNSET


class PlannedRemovalRequest(msgspec.Struct, forbid_unknown_fields=True):
    """Which classic policies will be removed: by id, by name, or all of one partner's."""

    policyId: ObjectId | msgspec.UnsetType = msgspec.UNSET
    displayName: Name | msgspec.UnsetType = msgspec.UNSET
    partner: Annotated[str, Meta(description="every classic policy of this partner (slug or id)")] | (
        msgspec.UnsetType
    ) = msgspec.UNSET
    ticket: Annotated[str, Meta(min_length=1, max_length=128)] | msgspec.UnsetType = msgspec.UNSET
    note: Annotated[str, Meta(min_length=1, max_length=1000)] | msgspec.UnsetType = msgspec.UNSET
    expiresInDays: Annotated[int, Meta(ge=1, le=90)] = 30


# The body must name at least one of policyId, displayName, partner.
PlannedRemovalBody = Annotated[
    PlannedRemovalRequest,
    Meta(extra_json_schema={"anyOf": [{"required": [k]} for k in ("policyId", "displayName", "partner")]}),
]
