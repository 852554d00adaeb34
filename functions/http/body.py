"""Reading a JSON request body: one size limit, one answer for a body that is not JSON."""

from __future__ import annotations

import json
from typing import Any

import azure.functions as func

from functions.http.problems import FieldError, Problem, invalid

MAX_BODY = 1_000_000  # bytes; an inventory of 500 classic policies with details fits comfortably


def read_json(req: func.HttpRequest, *, max_bytes: int = MAX_BODY) -> Any:
    """The body parsed as JSON (any JSON value, ``null`` included; the route checks its shape).

    Errors: 413 ``Body too large`` above ``max_bytes``; 400 ``Invalid JSON`` (pointer ``""``, the
    whole body) when it is not UTF-8 JSON, an empty body included.
    """
    raw = req.get_body() or b""
    if len(raw) > max_bytes:
        raise Problem(413, "Body too large", f"The body may be at most {max_bytes} bytes.")
    try:
        return json.loads(raw)
    except json.JSONDecodeError as exc:
        why = f"{exc.msg} at line {exc.lineno} column {exc.colno}"
    except (ValueError, UnicodeDecodeError):
        why = "not UTF-8 text"
    raise invalid("Invalid JSON", [FieldError("", f"The request body must be JSON: {why}.")])
