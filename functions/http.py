"""HTTP plumbing shared by the HTTP functions: JSON bodies and RFC 9457 problem details.

Every HTTP function is wrapped by ``endpoint``: bad settings, unreachable storage and unexpected
faults all become problem+json answers with a useful message, never a stack trace. Unexpected
faults are logged with a correlation id the caller can quote.
"""

from __future__ import annotations

import functools
import json
import logging
import uuid
from collections.abc import Callable
from datetime import datetime
from enum import Enum
from typing import Any
from urllib.parse import urlsplit

import azure.functions as func

from shared import principal, settings
from shared.principal import Role
from shared.settings import SettingsError
from shared.store.state import StoreConflict, StoreError

log = logging.getLogger(__name__)
PROBLEM_BASE = "urn:mtd-guard:problem:"  # problem types are documented in the README


class Problem(Exception):
    """Raise from a handler to answer with problem+json."""

    def __init__(self, status: int, title: str, detail: str, kind: str | None = None, **extra: Any) -> None:
        super().__init__(detail)
        self.status = status
        self.title = title
        self.detail = detail
        self.kind = kind or title.lower().replace(" ", "-")
        self.extra = extra


def _default(value: Any) -> Any:
    if isinstance(value, datetime):
        return value.isoformat().replace("+00:00", "Z")
    if isinstance(value, Enum):
        return value.value
    raise TypeError(f"not JSON serialisable: {type(value).__name__}")


def json_response(body: Any, status: int = 200, headers: dict[str, str] | None = None) -> func.HttpResponse:
    return func.HttpResponse(
        json.dumps(body, default=_default, indent=2),
        status_code=status,
        mimetype="application/json",
        charset="utf-8",
        headers=headers,
    )


def problem_response(problem: Problem, instance: str | None = None) -> func.HttpResponse:
    body: dict[str, Any] = {
        "type": PROBLEM_BASE + problem.kind,
        "title": problem.title,
        "status": problem.status,
        "detail": problem.detail,
        **problem.extra,
    }
    if instance:
        body["instance"] = instance
    return func.HttpResponse(
        json.dumps(body, default=_default, indent=2),
        status_code=problem.status,
        mimetype="application/problem+json",
        charset="utf-8",
    )


Handler = Callable[[func.HttpRequest], func.HttpResponse]


def endpoint(role: Role) -> Callable[[Handler], Handler]:
    """Wrap an HTTP handler: role check (when REQUIRE_ENTRA_ROLE is on), then faults to problems.

    ``role`` is the Entra app role a caller needs when REQUIRE_ENTRA_ROLE=true: READER for reads,
    OPERATOR for anything that changes state or calls Graph. The function key is always required
    on top (auth level FUNCTION), so a route is never open when the role check is off.
    """

    def decorate(handler: Handler) -> Handler:
        @functools.wraps(handler)
        def wrapped(req: func.HttpRequest) -> func.HttpResponse:
            path = _path(req)
            try:
                _authorize(req, role)
                return handler(req)
            except Problem as problem:
                return problem_response(problem, path)
            except SettingsError as exc:
                detail = "MTD Guard is not configured: " + "; ".join(exc.problems)
                return problem_response(Problem(503, "Misconfigured", detail), path)
            except StoreConflict as exc:
                detail = f"{exc}; read the current state and try again"
                return problem_response(Problem(409, "Changed meanwhile", detail), path)
            except StoreError as exc:
                return problem_response(Problem(503, "Storage unavailable", str(exc)), path)
            except Exception:
                return problem_response(_incident(handler.__name__), path)

        return wrapped

    return decorate


def _authorize(req: func.HttpRequest, role: Role) -> None:
    if not settings.require_entra_role():
        return
    caller = principal.from_headers(req.headers)
    if caller is None:
        raise Problem(
            401,
            "Unauthenticated",
            "This API requires Entra ID sign-in (App Service authentication); no principal was presented.",
        )
    if not role.granted_by(caller.roles):
        raise Problem(
            403,
            "Forbidden",
            f"{caller.display} lacks the app role {role.value} that this route needs.",
            requiredRole=role.value,
        )


def _incident(handler_name: str) -> Problem:
    incident = str(uuid.uuid4())
    log.exception("unhandled error in %s (incident %s)", handler_name, incident)
    return Problem(
        500,
        "Internal error",
        f"Something unexpected failed; the function log has the details (incident {incident}).",
        incident=incident,
    )


def _path(req: func.HttpRequest) -> str:
    url: str = req.url
    try:
        return urlsplit(url).path or url
    except ValueError:
        return ""


def query_int(req: func.HttpRequest, name: str, default: int, low: int, high: int) -> int:
    raw = req.params.get(name)
    if raw is None or raw == "":
        return default
    try:
        value = int(raw)
    except ValueError:
        raise Problem(400, "Invalid query parameter", f"{name} must be a whole number, got {raw!r}") from None
    if not low <= value <= high:
        raise Problem(400, "Invalid query parameter", f"{name} must be between {low} and {high}, got {value}")
    return value
