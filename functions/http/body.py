"""Reading a JSON request body: one size limit, one depth limit, one answer for a body that is
not JSON. ``check_limits`` runs in the ``endpoint`` decorator before any route's work (an
idempotency claim, a signature check, a storage read), ``read_json`` when the route reads it."""

from __future__ import annotations

import json
import re
from typing import Any

import azure.functions as func

from functions.http.problems import FieldError, Problem, invalid

MAX_BODY = 1_000_000  # bytes; an inventory of 500 classic policies with details fits comfortably
# Arrays and objects inside each other; the deepest body any route takes (a Jira webhook's issue
# fields, an inventory policy's details) nests under 10. Python's parser fails with RecursionError
# (a 500) near 1,000.
MAX_DEPTH = 32

_STRING = re.compile(rb'"[^"\\]*(?:\\.[^"\\]*)*"')  # a JSON string: its brackets are not nesting
_NOT_BRACKETS = bytes(b for b in range(256) if b not in b"[]{}")


def nesting(raw: bytes) -> int:
    """How deep arrays and objects nest in ``raw`` (JSON text, valid or not), counted up to
    ``MAX_DEPTH + 1`` (deeper is not counted further)."""
    if raw.count(b"[") + raw.count(b"{") <= MAX_DEPTH:
        return 0 if b"[" not in raw and b"{" not in raw else 1  # cannot be deeper than the limit
    brackets = _STRING.sub(b"", raw).translate(None, _NOT_BRACKETS)
    depth = peak = 0
    for byte in brackets:
        depth += 1 if byte in b"[{" else -1
        if depth > peak:
            peak = depth
            if peak > MAX_DEPTH:
                break
    return peak


def check_limits(raw: bytes, *, max_bytes: int = MAX_BODY) -> None:
    """Raise the problem of a body too large (413 ``Body too large``) or nested deeper than
    ``MAX_DEPTH`` (400 ``Invalid JSON``, pointer ``""``); cheap: nothing is parsed."""
    if len(raw) > max_bytes:
        raise Problem(413, "Body too large", f"The body may be at most {max_bytes} bytes.")
    if nesting(raw) > MAX_DEPTH:
        raise invalid(
            "Invalid JSON",
            [FieldError("", f"The request body is nested deeper than {MAX_DEPTH} arrays and objects.")],
        )


def read_json(req: func.HttpRequest, *, max_bytes: int = MAX_BODY) -> Any:
    """The body parsed as JSON (any JSON value, ``null`` included; the route checks its shape).

    Errors: 413 ``Body too large`` above ``max_bytes``; 400 ``Invalid JSON`` (pointer ``""``, the
    whole body) when it is not UTF-8 JSON, an empty body included, or nests deeper than
    ``MAX_DEPTH``.
    """
    raw = req.get_body() or b""
    check_limits(raw, max_bytes=max_bytes)
    try:
        return json.loads(raw)
    except json.JSONDecodeError as exc:
        why = f"{exc.msg} at line {exc.lineno} column {exc.colno}"
    except (ValueError, UnicodeDecodeError):
        why = "not UTF-8 text"
    raise invalid("Invalid JSON", [FieldError("", f"The request body must be JSON: {why}.")])


def no_body(req: func.HttpRequest, hint: str) -> None:
    """Raise 400 ``Unexpected body`` (pointer ``""``) when a route that takes no body was sent one:
    ignoring it would let ``{"dryRun": false}`` look accepted while only a preview ran. ``hint``
    says what to do instead (e.g. the query parameter)."""
    if (req.get_body() or b"").strip():
        raise invalid("Unexpected body", [FieldError("", f"This request takes no body; {hint}.")])
