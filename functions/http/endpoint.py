"""The one decorator every HTTP function wears: time budget, role check, query check, faults to
problem+json.

Bad settings, unreachable storage and unexpected faults all become problem+json answers with a
useful message, never a stack trace. Unexpected faults are logged with a correlation id the caller
can quote.
"""

from __future__ import annotations

import functools
import logging
import uuid
from collections.abc import Callable
from urllib.parse import urlsplit

import azure.functions as func

from functions.http.body import check_limits
from functions.http.problems import Problem, problem_response
from functions.http.query import NO_QUERY, QuerySpec
from shared import deadline, principal, settings, startup
from shared.principal import Role
from shared.settings import SettingsError
from shared.store.errors import StoreConflict, StoreError

log = logging.getLogger(__name__)
Handler = Callable[[func.HttpRequest], func.HttpResponse]


def endpoint(role: Role, query: QuerySpec | None = None) -> Callable[[Handler], Handler]:
    """Wrap an HTTP handler: a time budget (HTTP_BUDGET_SECONDS, shared/deadline.py) for every Graph,
    storage and channel call it makes, role check (when REQUIRE_ENTRA_ROLE is on), then faults to
    problems.

    ``role`` is the Entra app role a caller needs when REQUIRE_ENTRA_ROLE=true: READER for reads,
    OPERATOR for anything that changes state or calls Graph. The function key is always required
    on top (auth level FUNCTION), so a route is never open when the role check is off.

    ``query`` declares the route's query parameters; the handler reads them with ``query.parse``.
    Without one the route takes none, and any parameter given is a 400 (the same rule as for an
    unknown parameter of a route that takes some). The wrapped handler keeps it as ``.query``.
    """
    spec = query or NO_QUERY

    def decorate(handler: Handler) -> Handler:
        @functools.wraps(handler)
        def wrapped(req: func.HttpRequest) -> func.HttpResponse:
            path = request_path(req)
            with (
                startup.first_invocation(),
                deadline.budget(settings.time_budget(settings.HTTP_BUDGET_SECONDS)),
            ):
                return _answer(req, path)

        def _answer(req: func.HttpRequest, path: str) -> func.HttpResponse:
            try:
                _authorize(req, role)
                check_limits(req.get_body() or b"")  # before any work: a claim, a read, a signature
                if query is None:
                    NO_QUERY.parse(req)
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

        wrapped.query = spec  # type: ignore[attr-defined]
        return wrapped

    return decorate


def trusted_principal(req: func.HttpRequest) -> principal.Principal | None:
    """The caller App Service authentication vouches for; None when it is off (the headers are then
    anyone's to send, and no name or role is taken from them) or no principal was presented."""
    return principal.from_headers(req.headers) if settings.platform_authentication() else None


def _authorize(req: func.HttpRequest, role: Role) -> None:
    if not settings.require_entra_role():
        return
    if problem := settings.authentication_problem():
        raise Problem(503, "Misconfigured", "MTD Guard is not configured: " + problem)
    caller = trusted_principal(req)
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


def request_path(req: func.HttpRequest) -> str:
    """The request's path (``instance`` of its problems); "" when the URL cannot be read."""
    url: str = req.url
    try:
        return urlsplit(url).path or url
    except ValueError:
        return ""
