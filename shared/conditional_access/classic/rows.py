"""Classic-policy state as stored: policies, the audit cursor, processed events, imports and
planned removals, each with its row kind (table ``mtdguardstate``, the tenant's partition). Pure data."""

from __future__ import annotations

from dataclasses import dataclass, field
from datetime import datetime
from enum import StrEnum

from shared import catalog
from shared.store.rows import RowKind, Write, safe_key

AUDIT_CURSOR = "directoryAudits"  # the cursor row's name
IMPORT_NAME = "classic"  # the import record's name


class Drift(StrEnum):
    """The kind of change made to a classic policy (the ``drift`` of its finding and alert)."""

    ADDED = "added"
    MODIFIED = "modified"
    DISABLED = "disabled"
    DELETED = "deleted"


class PolicyState(StrEnum):
    """A classic policy's state as last known to MTD Guard."""

    ENABLED = "enabled"
    DISABLED = "disabled"
    DELETED = "deleted"
    UNKNOWN = "unknown"  # learned from an audit event that did not say


@dataclass(frozen=True)
class ClassicPolicy:
    """What MTD Guard knows of one classic policy: row ``classic|<key>``."""

    tenant_id: str
    key: str  # the policy's object id (lower case), or "name-<hash>" when only its name is known
    policy_id: str | None
    display_name: str
    state: PolicyState
    partner_id: str | None  # the MTD partner it belongs to, when known
    partner: str | None
    content_hash: str | None  # of the imported details; None when only audit events are known
    source: str  # "import" | "audit": where MTD Guard first learned of it
    first_seen: datetime
    updated_at: datetime
    last_change: str | None = None  # e.g. "deleted by admin@contoso.com (event Directory_...)"

    @property
    def exists(self) -> bool:
        """Whether the policy is still present (not known to be deleted)."""
        return self.state is not PolicyState.DELETED


CLASSIC_POLICY_ROWS = RowKind(
    ClassicPolicy,
    "classic",
    key=lambda p: safe_key(p.key),
    layout="baseline of a classic MTD policy (state, partner, content hash); key: policy id or name-hash",
)


@dataclass(frozen=True)
class AuditCursor:
    """How far the audit log has been read: row ``cursor|<name>``.

    Every event with ``activityDateTime`` before ``position`` was processed; the next read starts
    at ``position`` minus the overlap, and events already processed there are skipped by id.
    """

    tenant_id: str
    name: str
    position: datetime
    updated_at: datetime


AUDIT_CURSOR_ROWS = RowKind(
    AuditCursor,
    "cursor",
    key=lambda c: c.name,
    layout="how far the directory audit log has been read (cursor|directoryAudits)",
)


@dataclass(frozen=True)
class ProcessedEvent:
    """An audit event that changed something: row ``auditevent|<event id>``.

    Written with ``insert`` (never upsert) in the same batch as the changes the event caused: the
    batch of a second run processing the same event fails as a whole, so no event counts twice.
    """

    tenant_id: str
    event_id: str
    activity_at: datetime
    processed_at: datetime
    outcome: str


PROCESSED_EVENT_ROWS = RowKind(
    ProcessedEvent,
    "auditevent",
    key=lambda e: safe_key(e.event_id),
    layout="an audit event that changed something; inserted in the batch of its changes",
    write=Write.INSERT,
)


@dataclass(frozen=True)
class BaselineImport:
    """The last inventory import: row ``import|<name>``."""

    tenant_id: str
    name: str
    imported_at: datetime
    imported_by: str
    policies: int
    exported_at: datetime | None = None


BASELINE_IMPORT_ROWS = RowKind(
    BaselineImport, "import", key=lambda i: i.name, layout="the last classic policy inventory import"
)


@dataclass(frozen=True)
class PlannedRemoval:
    """A removal announced beforehand: row ``removal|<id>``. Covers deletions inside its window."""

    tenant_id: str
    id: str
    announced_by: str
    announced_at: datetime
    expires_at: datetime
    policy_id: str | None = None
    display_name: str | None = None
    partner_id: str | None = None
    ticket: str | None = None
    note: str | None = None
    used_at: datetime | None = None  # when a deletion last counted as planned because of it
    used_by: list[str] = field(default_factory=list)  # the policies whose deletion it covered

    def covers(self, policy: ClassicPolicy, at: datetime) -> bool:
        """Whether this removal makes the deletion of ``policy`` at ``at`` (UTC) a planned one:
        ``at`` falls between the announcement and the expiry, and the policy matches by id, by name (any
        case) or by partner."""
        if not self.announced_at <= at <= self.expires_at:
            return False  # announced after the fact, or long expired
        if self.policy_id and policy.policy_id and self.policy_id.lower() == policy.policy_id.lower():
            return True
        if self.display_name and self.display_name.casefold() == policy.display_name.casefold():
            return True
        return bool(self.partner_id and policy.partner_id and self.partner_id == policy.partner_id)

    @property
    def target(self) -> str:
        """What the removal covers, in words, e.g. "policy <id>, 'MTD Lookout', every classic
        policy of Lookout for Work"."""
        parts = [
            f"policy {self.policy_id}" if self.policy_id else "",
            f"'{self.display_name}'" if self.display_name else "",
            f"every classic policy of {catalog.by_id(self.partner_id).name}" if self.partner_id else "",
        ]
        return ", ".join(p for p in parts if p)


PLANNED_REMOVAL_ROWS = RowKind(
    PlannedRemoval, "removal", key=lambda r: r.id, layout="a planned removal of classic policies"
)
