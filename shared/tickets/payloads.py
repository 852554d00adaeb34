"""What a ticketing system's webhook asks for: its payload mapped to one MTD Guard action.

Pure rules, no I/O. Three callers, one vocabulary (``action``: ``configure`` | ``check`` |
``acknowledge``; ``partner`` + ``settings`` (+ ``dryRun``) for configure; ``findingId`` (+ ``note``)
for acknowledge). They differ in where the ticket reference comes from and how values arrive:

``generic``     ``{"action", "ticket", "partner", "settings", "dryRun", "findingId", "note"}``;
                strict: any other field is a 400.
``jira``        Jira Automation "Send web request" custom body (or a Jira admin webhook):
                ticket = ``issue.key``; ``action`` may also come from the URL's ``?action=``
                (an admin webhook cannot shape its body); other fields of Jira's payload are
                ignored. ``settings`` may be a JSON object or JSON text (a smart value of a text
                field), ``dryRun`` true/false or "true"/"false".
``servicenow``  Outbound REST message with ``${...}`` variables: ticket = ``number`` (else
                ``sys_id``); values arrive as text, so the same string forms are accepted; other
                fields are ignored.
"""

from __future__ import annotations

import hashlib
import hmac
import json
from dataclasses import dataclass
from enum import StrEnum
from typing import Any

from shared.audit.entries import AuditAction
from shared.configure.fields import InvalidSettings
from shared.json_pointer import FieldError

_ACTIONS = {
    "configure": AuditAction.CONFIGURE,
    "check": AuditAction.CHECK,
    "acknowledge": AuditAction.ACKNOWLEDGE,
    "ack": AuditAction.ACKNOWLEDGE,
}
_GENERIC_FIELDS = frozenset({"action", "ticket", "partner", "settings", "dryRun", "findingId", "note"})
_MAX_TEXT = 2000


class HookSource(StrEnum):
    """Who calls ``POST /api/hooks/{source}``: the ``{source}`` path segment."""

    JIRA = "jira"
    SERVICENOW = "servicenow"
    GENERIC = "generic"


@dataclass(frozen=True)
class HookRequest:
    """The one action a ticket webhook asks for, validated by ``parse``: ``ticket`` is the caller's
    reference (Jira issue key, ServiceNow number), recorded on the audit entry; ``partner``,
    ``settings`` and ``dry_run`` are for configure, ``finding_id`` and ``note`` for acknowledge."""

    source: HookSource
    action: AuditAction
    ticket: str | None
    partner: str | None = None
    settings: Any = None
    dry_run: bool = False
    finding_id: str | None = None
    note: str | None = None


def ticket_of(source: HookSource, payload: Any) -> str | None:
    """The caller's ticket reference, read leniently (also for answering a payload that fails)."""
    if not isinstance(payload, dict):
        return None
    candidates: list[Any] = []
    if source is HookSource.JIRA:
        issue = payload.get("issue")
        candidates.append(issue.get("key") if isinstance(issue, dict) else None)
    elif source is HookSource.SERVICENOW:
        candidates += [payload.get("number"), payload.get("sys_id")]
    candidates.append(payload.get("ticket"))
    for value in candidates:
        if isinstance(value, str) and value.strip() and len(value) <= 200 and value.isprintable():
            return value.strip()
    return None


def parse(source: HookSource, payload: Any, query_action: str | None = None) -> HookRequest:
    """The action a payload asks for; raises InvalidSettings naming each bad field by pointer."""
    if not isinstance(payload, dict):
        raise InvalidSettings([FieldError("", "the payload must be a JSON object")])
    errors: list[FieldError] = []
    if source is HookSource.GENERIC:
        errors += [FieldError(f"/{k}", _unknown_field()) for k in payload if k not in _GENERIC_FIELDS]
    lenient = source is not HookSource.GENERIC
    # The route checks ?action= with the other query parameters; a bad one never gets here.
    raw_action = payload.get("action", query_action if lenient else None)
    action = _ACTIONS.get(raw_action.strip().lower()) if isinstance(raw_action, str) else None
    if action is None:
        where = "" if "action" in payload or not lenient else " (in the body, or ?action= for jira)"
        words = f"must be one of configure, check, acknowledge{where}; got {raw_action!r}"
        errors.append(FieldError("/action", words))
    if source is HookSource.GENERIC and "ticket" in payload and ticket_of(source, payload) is None:
        errors.append(FieldError("/ticket", "must be text of at most 200 printable characters"))
    dry_run = _flag(payload, "dryRun", lenient, errors)
    partner = _text(payload, "partner", errors)
    finding_id = _text(payload, "findingId", errors)
    note = _text(payload, "note", errors)
    settings = payload.get("settings")
    if lenient and isinstance(settings, str):
        try:
            settings = json.loads(settings)
        except ValueError:
            errors.append(FieldError("/settings", "is text but not JSON; give a JSON object"))
    if action is AuditAction.CONFIGURE:
        if partner is None and "/partner" not in {e.pointer for e in errors}:
            errors.append(FieldError("/partner", "is required to configure: a partner name or connector id"))
        if settings is None:
            errors.append(FieldError("/settings", "is required to configure: the desired settings object"))
    if (
        action is AuditAction.ACKNOWLEDGE
        and finding_id is None
        and "/findingId" not in {e.pointer for e in errors}
    ):
        errors.append(FieldError("/findingId", "is required to acknowledge: the id of the finding"))
    if errors:
        raise InvalidSettings(errors)
    assert action is not None
    return HookRequest(
        source=source,
        action=action,
        ticket=ticket_of(source, payload),
        partner=partner,
        settings=settings,
        dry_run=dry_run,
        finding_id=finding_id,
        note=note,
    )


def _unknown_field() -> str:
    return "is not a known field; known: " + ", ".join(sorted(_GENERIC_FIELDS))


def _text(payload: dict[str, Any], name: str, errors: list[FieldError]) -> str | None:
    value = payload.get(name)
    if value is None or value == "":
        return None
    if not isinstance(value, str) or len(value) > _MAX_TEXT:
        errors.append(FieldError(f"/{name}", f"must be text of at most {_MAX_TEXT} characters"))
        return None
    return value.strip() or None


def _flag(payload: dict[str, Any], name: str, lenient: bool, errors: list[FieldError]) -> bool:
    value = payload.get(name, False)
    if isinstance(value, bool):
        return value
    if lenient and isinstance(value, str) and value.strip().lower() in ("true", "false", ""):
        return value.strip().lower() == "true"
    errors.append(FieldError(f"/{name}", "must be true or false"))
    return False


def signature_valid(secret: str, body: bytes, header: str | None) -> bool:
    """Jira's ``X-Hub-Signature: sha256=<hex>`` over the raw body, compared in constant time."""
    if not header:
        return False
    expected = "sha256=" + hmac.new(secret.encode(), body, hashlib.sha256).hexdigest()
    return hmac.compare_digest(expected.encode(), header.strip().encode())
