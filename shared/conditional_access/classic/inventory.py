"""The inventory of classic policies an admin copied from the Entra portal: validated, then
compared with the baseline. Pure."""

from __future__ import annotations

import hashlib
import json
import re
from collections.abc import Mapping
from dataclasses import dataclass
from datetime import datetime, timedelta
from typing import Any

from shared import catalog
from shared.conditional_access.classic.matching import ClassicChange, find_policy, policy_key
from shared.conditional_access.classic.rows import ClassicPolicy, Drift, PolicyState
from shared.graph.connectors import parse_timestamp
from shared.json_pointer import FieldError, child, pointer

MAX_POLICIES = 500


class InvalidInventory(ValueError):
    """Every problem of a request body (an inventory or a planned removal), each at its RFC 6901
    pointer (``/policies/0/state``; ``""``: the whole body)."""

    def __init__(self, errors: list[FieldError]) -> None:
        super().__init__("; ".join(str(e) for e in errors))
        self.errors = errors


@dataclass(frozen=True)
class InventoryEntry:
    """One classic policy of an imported inventory, validated; ``content_hash`` fingerprints its
    name and details so a later import shows an edit."""

    policy_id: str | None
    display_name: str
    state: PolicyState
    partner_id: str | None
    content_hash: str


@dataclass(frozen=True)
class Inventory:
    """A validated inventory: the classic policies an admin copied from the Entra portal, with when
    (UTC) and by whom it was exported, when the body says so."""

    policies: list[InventoryEntry]
    exported_at: datetime | None = None
    exported_by: str | None = None


_INVENTORY_KEYS = {"exportedAt", "exportedBy", "policies"}
_POLICY_KEYS = {"id", "displayName", "state", "partner", "details"}


def content_hash(display_name: str, details: Any) -> str:
    """A 16-hex-digit fingerprint (SHA-256 prefix) of a policy's display name and details, over
    canonical JSON (sorted keys), so the same content hashes the same whatever its key order."""
    canonical = json.dumps(
        {"displayName": display_name, "details": details}, sort_keys=True, separators=(",", ":")
    )
    return hashlib.sha256(canonical.encode()).hexdigest()[:16]


def parse_inventory(body: Any, now: datetime) -> Inventory:
    """Validate an inventory; raises InvalidInventory listing every problem at its RFC 6901 pointer."""
    if not isinstance(body, dict):
        raise InvalidInventory([FieldError("", "the body must be a JSON object with a 'policies' array")])
    errors = [
        FieldError(pointer(k), f"unknown field (allowed: {', '.join(sorted(_INVENTORY_KEYS))})")
        for k in body
        if k not in _INVENTORY_KEYS
    ]
    exported_at = None
    if "exportedAt" in body:
        raw = body["exportedAt"]
        exported_at = _date_time(raw)
        if exported_at is None:
            errors.append(
                FieldError("/exportedAt", "must be a date-time with its offset, such as 2026-11-20T09:00:00Z")
            )
        elif exported_at > now + timedelta(minutes=5):
            errors.append(FieldError("/exportedAt", "lies in the future"))
        elif exported_at.year < 2015:  # before MTD connectors existed (and before what storage keeps well)
            errors.append(FieldError("/exportedAt", "lies before 2015"))
    exported_by = body.get("exportedBy")
    if "exportedBy" in body and (not isinstance(exported_by, str) or len(exported_by) > 256):
        errors.append(FieldError("/exportedBy", "must be text of at most 256 characters"))
    policies = body.get("policies")
    if not isinstance(policies, list):
        raise InvalidInventory(
            [*errors, FieldError("/policies", "required, an array (empty when no classic policy exists)")]
        )
    if len(policies) > MAX_POLICIES:
        errors.append(FieldError("/policies", f"more than {MAX_POLICIES} entries"))
    entries: list[InventoryEntry] = []
    seen: set[str] = set()
    for index, item in enumerate(policies[:MAX_POLICIES]):
        entry = _entry(item, pointer("policies", index), errors)
        if entry is None:
            continue
        key = policy_key(entry.policy_id, entry.display_name)
        if key in seen:
            errors.append(
                FieldError(
                    pointer("policies", index), f"the same policy is listed twice ({entry.display_name!r})"
                )
            )
        seen.add(key)
        entries.append(entry)
    if errors:
        raise InvalidInventory(errors)
    return Inventory(entries, exported_at, exported_by if isinstance(exported_by, str) else None)


def _entry(item: Any, path: str, errors: list[FieldError]) -> InventoryEntry | None:
    """One policy of the inventory at pointer ``path``; None (problems added to ``errors``) if bad."""
    if not isinstance(item, dict):
        errors.append(FieldError(path, "must be a JSON object"))
        return None
    count = len(errors)
    errors.extend(
        FieldError(child(path, k), f"unknown field (allowed: {', '.join(sorted(_POLICY_KEYS))})")
        for k in item
        if k not in _POLICY_KEYS
    )
    name = item.get("displayName")
    if not isinstance(name, str) or not name.strip() or len(name) > 256:
        errors.append(FieldError(child(path, "displayName"), "required, text of 1 to 256 characters"))
    policy_id = item.get("id")
    if "id" in item and (not isinstance(policy_id, str) or not is_guid(policy_id)):
        errors.append(FieldError(child(path, "id"), "must be the policy's object id (a GUID) when given"))
    state = item.get("state")
    if state not in ("enabled", "disabled"):
        errors.append(FieldError(child(path, "state"), "required, 'enabled' or 'disabled'"))
    partner_id = None
    if "partner" in item:
        raw = item["partner"]
        partner_id = catalog.resolve(raw) if isinstance(raw, str) else None
        if partner_id is None or not catalog.by_id(partner_id).known:
            slugs = ", ".join(p.slug for p in catalog.partners())
            errors.append(
                FieldError(
                    child(path, "partner"),
                    f"not a known partner; use a slug ({slugs}) or a connector id, or leave it out",
                )
            )
    if len(errors) > count:
        return None
    assert isinstance(name, str) and isinstance(state, str)
    return InventoryEntry(
        policy_id=policy_id.strip() if isinstance(policy_id, str) else None,
        display_name=name.strip(),
        state=PolicyState(state),
        partner_id=partner_id,
        content_hash=content_hash(name.strip(), item.get("details")),
    )


GUID_PATTERN = r"^[0-9a-fA-F]{8}-([0-9a-fA-F]{4}-){3}[0-9a-fA-F]{12}$"


def is_guid(value: str) -> bool:
    """Whether ``value`` is a GUID in its 8-4-4-4-12 hex form, the shape of Entra object ids (any case)."""
    return re.fullmatch(GUID_PATTERN, value) is not None


def _date_time(value: Any) -> datetime | None:
    """An RFC 3339 date-time (date, 'T', time, offset); None for anything else."""
    if not isinstance(value, str) or not re.fullmatch(
        r"\d{4}-\d\d-\d\d[Tt]\d\d:\d\d:\d\d(\.\d+)?([Zz]|[+-]\d\d:\d\d)", value
    ):
        return None
    return parse_timestamp(value.upper())


def diff_inventory(
    inventory: Inventory,
    baseline: Mapping[str, ClassicPolicy],
    *,
    first_import: bool,
    by: str,
    now: datetime,
) -> tuple[list[ClassicChange], list[ClassicChange]]:
    """(drift, quiet updates): what the inventory says changed against the baseline.

    The first import only sets the baseline (every entry a quiet update). Later ones are compared:
    a known policy missing from the inventory was deleted; ``disabled`` / details changed; a new
    one was added. Entries with nothing to report are quiet updates that refresh the baseline.
    """
    at = inventory.exported_at or now
    drift: list[ClassicChange] = []
    quiet: list[ClassicChange] = []
    matched: set[str] = set()
    for entry in inventory.policies:
        known = find_policy(baseline, entry.policy_id, entry.display_name)
        if known is not None:
            matched.add(known.key)
        kind: Drift | None = None
        evidence = "listed in the imported inventory"
        if first_import:
            kind = None
        elif known is None or not known.exists:
            kind = Drift.ADDED
        elif entry.state is PolicyState.DISABLED and known.state is not PolicyState.DISABLED:
            kind = Drift.DISABLED
            evidence = f"state {known.state.value} -> disabled in the imported inventory"
        elif known.content_hash is not None and known.content_hash != entry.content_hash:
            kind = Drift.MODIFIED
            evidence = "its name or details differ from the baseline in the imported inventory"
        change = ClassicChange(
            drift=kind or Drift.MODIFIED,
            policy_id=entry.policy_id or (known.policy_id if known else None),
            display_name=entry.display_name,
            at=at,
            source="import",
            by=by,
            evidence=evidence,
            content_hash=entry.content_hash,
            partner_id=entry.partner_id,
            new_state=entry.state,
        )
        (drift if kind is not None else quiet).append(change)
    if not first_import:
        for policy in baseline.values():
            if policy.exists and policy.key not in matched:
                drift.append(
                    ClassicChange(
                        drift=Drift.DELETED,
                        policy_id=policy.policy_id,
                        display_name=policy.display_name,
                        at=at,
                        source="import",
                        by=by,
                        evidence="in the baseline but missing from the imported inventory",
                        new_state=PolicyState.DELETED,
                    )
                )
    return drift, quiet


def refreshed(
    policy: ClassicPolicy | None, change: ClassicChange, *, tenant_id: str, now: datetime
) -> ClassicPolicy:
    """The baseline row after an import entry with nothing to report (no finding)."""
    partner = (
        catalog.by_id(change.partner_id) if change.partner_id else catalog.partner_of(change.display_name)
    )
    if policy is not None and policy.partner_id and not change.partner_id:
        partner = catalog.by_id(policy.partner_id)
    return ClassicPolicy(
        tenant_id=tenant_id,
        key=policy_key(change.policy_id, change.display_name),
        policy_id=change.policy_id,
        display_name=change.display_name,
        state=change.new_state or PolicyState.UNKNOWN,
        partner_id=partner.id if partner else None,
        partner=partner.name if partner else None,
        content_hash=change.content_hash,
        source=policy.source if policy else "import",
        first_seen=policy.first_seen if policy else now,
        updated_at=now,
        last_change=policy.last_change if policy else f"imported by {change.by}",
    )
