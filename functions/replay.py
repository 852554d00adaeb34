"""Idempotent HTTP writes: the same key within 24 h gets the first response, and runs once.

The key is the ``Idempotency-Key`` header, else Jira's ``X-Atlassian-Webhook-Identifier`` (stable
across Jira's retries). The first delivery claims the key by inserting its row (Table Storage
refuses a second insert), runs, and keeps its response; a replay answers that response with
``Idempotent-Replayed: true``. A delivery that arrives while the first still runs waits for it
briefly, then gets 409 with ``Retry-After``. The same key with a different request (method, path,
query or body) is refused with 422. A 5xx, or an answer with ``Retry-After`` (busy, throttled), is not
kept: the claim is released so a retry runs again, which is safe because a configure request is
desired state (a re-run only writes what differs).
"""

from __future__ import annotations

import hashlib
import json
import time
from collections.abc import Callable
from typing import TYPE_CHECKING
from urllib.parse import urlsplit

import azure.functions as func

from functions.http import Problem, problem_response
from functions.http.callers import KEY_HEADERS
from functions.http.endpoint import request_path
from shared.clock import now_utc
from shared.context import services

if TYPE_CHECKING:
    from shared.store.changes import StoredResponse

REPLAYED_HEADER = "Idempotent-Replayed"
WAIT_SECONDS = 10.0
_POLL_SECONDS = 0.2
_MAX_KEY = 255


def idempotency_key(req: func.HttpRequest) -> str | None:
    """The request's idempotency key, stripped: ``Idempotency-Key``, else
    ``X-Atlassian-Webhook-Identifier``; None when neither header is present.

    Raises Problem 400 ``Invalid idempotency key`` when the first header present is blank, longer
    than 255 characters or not printable.
    """
    for name in KEY_HEADERS:
        raw = req.headers.get(name)
        if raw is None:
            continue
        key = str(raw).strip()
        if not key or len(key) > _MAX_KEY or not key.isprintable():
            raise Problem(
                400,
                "Invalid idempotency key",
                f"{name} must be 1 to {_MAX_KEY} printable characters.",
            )
        return key
    return None


def run_as_problem(req: func.HttpRequest, run: Callable[[], func.HttpResponse]) -> func.HttpResponse:
    """The handler's answer, with a raised Problem turned into its problem+json response."""
    try:
        return run()
    except Problem as problem:
        return problem_response(problem, request_path(req))


def idempotent(req: func.HttpRequest, scope: str, run: Callable[[], func.HttpResponse]) -> func.HttpResponse:
    """``run()``'s answer, run at most once per idempotency key and ``scope`` (``api``,
    ``hooks/<source>``) within 24 h; without a key ``run()`` simply runs.

    A replay answers the kept response with ``Idempotent-Replayed: true``. A delivery that finds
    the first still running polls for up to 10 s, then answers 409 ``Request in progress`` with
    ``Retry-After: 2``. Raises Problem 400 for an invalid key and 422 ``Idempotency key reused``
    for the same key with another method, path, query or body. A 5xx answer, one with
    ``Retry-After``, or an exception releases the claim so that a retry runs again.
    """
    key = idempotency_key(req)
    if key is None:
        return run()
    from shared.store.changes import ChangeStore, ClaimState, StoredResponse, key_row

    s = services()
    store = ChangeStore(s.store)
    tenant = s.settings.tenant_id
    row = key_row(scope, key)
    query = json.dumps(sorted(req.params.items()))
    fingerprint = hashlib.sha256(
        b"\n".join(
            [req.method.upper().encode(), urlsplit(req.url).path.encode(), query.encode(), req.get_body()]
        )
    ).hexdigest()
    deadline = time.monotonic() + WAIT_SECONDS
    while True:
        claim = store.claim(tenant, row, fingerprint, now_utc())
        if claim.state is ClaimState.CLAIMED:
            break
        if claim.state is ClaimState.DONE and claim.response is not None:
            return _replay(claim.response)
        if claim.state is ClaimState.MISMATCH:
            raise Problem(
                422,
                "Idempotency key reused",
                "This idempotency key was already used within 24 hours for a different request "
                "(another method, path, query or body). Use a new key for a new request.",
            )
        if time.monotonic() >= deadline:
            response = problem_response(
                Problem(
                    409,
                    "Request in progress",
                    "An earlier delivery with this idempotency key is still being processed; "
                    "retry shortly to get its result.",
                ),
                request_path(req),
            )
            response.headers["Retry-After"] = "2"
            return response
        time.sleep(_POLL_SECONDS)
    try:
        response = run_as_problem(req, run)
    except BaseException:
        store.release(tenant, row)
        raise
    if response.status_code >= 500 or "Retry-After" in response.headers:
        store.release(tenant, row)  # transient: a retry with the same key runs again
        return response
    store.complete(
        tenant,
        row,
        StoredResponse(response.status_code, response.get_body(), response.mimetype or "application/json"),
        now_utc(),
    )
    return response


def _replay(stored: StoredResponse) -> func.HttpResponse:
    return func.HttpResponse(
        stored.body,
        status_code=stored.status,
        mimetype=stored.content_type,
        charset="utf-8",
        headers={**stored.headers, REPLAYED_HEADER: "true"},
    )
