"""Refused: a request a capability will not carry out (unknown partner, concurrent change, a
setting Intune refuses, Graph failed), with the HTTP status and problem type it answers with.

Standard library only: the HTTP toolkit (functions/http/callers.py) shapes refusals into
problem+json and imports this at function_app import, before any capability is loaded."""

from __future__ import annotations

from typing import Any


class Refused(Exception):
    """The request cannot be carried out; shaped into problem+json by the functions layer.

    ``status`` is the HTTP status (400, 404, 409, 422, 502, 503), ``kind`` the problem type
    (``urn:mtd-guard:problem:<kind>``), ``retry_after`` seconds for ``Retry-After`` (None: none),
    ``extra`` members added to the problem's body."""

    def __init__(
        self,
        status: int,
        kind: str,
        title: str,
        detail: str,
        retry_after: int | None = None,
        **extra: Any,
    ) -> None:
        super().__init__(detail)
        self.status = status
        self.kind = kind
        self.title = title
        self.detail = detail
        self.retry_after = retry_after
        self.extra = extra
