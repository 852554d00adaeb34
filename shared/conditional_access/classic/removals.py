"""Planned removals of classic policies: an announcement validated into a ``PlannedRemoval``. Pure."""

from __future__ import annotations

import uuid
from datetime import datetime, timedelta
from typing import Any

from shared import catalog
from shared.conditional_access.classic.inventory import InvalidInventory, is_guid
from shared.conditional_access.classic.rows import PlannedRemoval

MAX_REMOVAL_DAYS = 90
DEFAULT_REMOVAL_DAYS = 30
_REMOVAL_KEYS = {"policyId", "displayName", "partner", "ticket", "note", "expiresInDays"}


def parse_removal(body: Any, *, tenant_id: str, who: str, now: datetime) -> PlannedRemoval:
    """Validate an announcement; raises InvalidInventory (same shape of errors) on problems."""
    if not isinstance(body, dict):
        raise InvalidInventory(["$: must be a JSON object"])
    errors = [
        f"$.{k}: unknown field (allowed: {', '.join(sorted(_REMOVAL_KEYS))})"
        for k in body
        if k not in _REMOVAL_KEYS
    ]
    texts: dict[str, str | None] = {}
    for name, limit in (("policyId", 64), ("displayName", 256), ("ticket", 128), ("note", 1000)):
        value = body.get(name)
        if name in body and (not isinstance(value, str) or not value.strip() or len(value) > limit):
            errors.append(f"$.{name}: must be text of 1 to {limit} characters")
            value = None
        texts[name] = value.strip() if isinstance(value, str) else None
    if texts["policyId"] and not is_guid(str(body["policyId"])):
        errors.append("$.policyId: must be the policy's object id (a GUID)")
    partner_id = None
    if "partner" in body:
        raw = body["partner"]
        partner_id = catalog.resolve(raw) if isinstance(raw, str) else None
        if partner_id is None or not catalog.by_id(partner_id).known:
            errors.append("$.partner: not a known partner slug or connector id")
            partner_id = None
    days = body.get("expiresInDays", DEFAULT_REMOVAL_DAYS)
    if isinstance(days, bool) or not isinstance(days, int) or not 1 <= days <= MAX_REMOVAL_DAYS:
        errors.append(f"$.expiresInDays: a whole number of days from 1 to {MAX_REMOVAL_DAYS}")
        days = DEFAULT_REMOVAL_DAYS
    if not (texts["policyId"] or texts["displayName"] or partner_id) and not errors:
        errors.append("$: name what will be removed: policyId, displayName or partner (at least one)")
    if errors:
        raise InvalidInventory(errors)
    return PlannedRemoval(
        tenant_id=tenant_id,
        id=str(uuid.uuid4()),
        announced_by=who,
        announced_at=now,
        expires_at=now + timedelta(days=days),
        policy_id=texts["policyId"].lower() if texts["policyId"] else None,
        display_name=texts["displayName"],
        partner_id=partner_id,
        ticket=texts["ticket"],
        note=texts["note"],
    )
