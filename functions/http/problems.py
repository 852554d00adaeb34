"""RFC 9457 problem details and JSON answers: the shapes every HTTP function answers with.

A ``Problem`` raised anywhere under ``functions.http.endpoint`` becomes an
``application/problem+json`` answer. Problems about request fields carry ``errors``: one entry per
field, each ``{"pointer": <RFC 6901 JSON pointer>, "detail": <sentence>}``. A body field is pointed
to inside the body (``/android/bogus``); a query parameter inside the query read as one JSON object
of its parameters (``/since``), and its entry also names it: ``"parameter": "since"``.
"""

from __future__ import annotations

import json
from collections.abc import Iterable
from dataclasses import dataclass
from datetime import datetime
from enum import Enum
from typing import Any

import azure.functions as func

from shared.json_pointer import pointer as json_pointer

__all__ = ["FieldError", "Problem", "invalid", "json_pointer", "json_response", "problem_response"]
PROBLEM_BASE = "urn:mtd-guard:problem:"  # problem types are documented in docs/http-api.md


class Problem(Exception):
    """Raise from a handler to answer with problem+json.

    ``kind`` names the problem type (``urn:mtd-guard:problem:<kind>``; default: the title in kebab
    case); ``extra`` members are added to the body as given (``errors``, ``ticket``, ...).
    """

    def __init__(self, status: int, title: str, detail: str, kind: str | None = None, **extra: Any) -> None:
        super().__init__(detail)
        self.status = status
        self.title = title
        self.detail = detail
        self.kind = kind or title.lower().replace(" ", "-")
        self.extra = extra


@dataclass(frozen=True)
class FieldError:
    """One bad field of a request: where (RFC 6901 pointer), what is wrong, and for query
    parameters the parameter's name."""

    pointer: str
    detail: str
    parameter: str | None = None

    @property
    def sentence(self) -> str:
        """The detail as it reads in the problem's ``detail``: query details name their parameter,
        body details are prefixed with their pointer (none for the whole body)."""
        return (
            self.detail
            if self.parameter is not None or not self.pointer
            else f"{self.pointer}: {self.detail}"
        )

    def view(self) -> dict[str, str]:
        """Its ``errors`` entry: ``{"pointer", "detail"}``, plus ``"parameter"`` for a query parameter."""
        shown = {"pointer": self.pointer, "detail": self.detail}
        return shown if self.parameter is None else {**shown, "parameter": self.parameter}


def invalid(title: str, errors: Iterable[FieldError], **extra: Any) -> Problem:
    """A 400 listing every bad field at once; ``detail`` joins their sentences."""
    found = list(errors)
    detail = "; ".join(e.sentence for e in found)
    return Problem(400, title, detail, errors=[e.view() for e in found], **extra)


def _default(value: Any) -> Any:
    if isinstance(value, datetime):
        return value.isoformat().replace("+00:00", "Z")
    if isinstance(value, Enum):
        return value.value
    raise TypeError(f"not JSON serialisable: {type(value).__name__}")


def json_response(body: Any, status: int = 200, headers: dict[str, str] | None = None) -> func.HttpResponse:
    """``body`` as indented JSON (datetimes as RFC 3339 UTC with ``Z``, enums as their values)."""
    return func.HttpResponse(
        json.dumps(body, default=_default, indent=2),
        status_code=status,
        mimetype="application/json",
        charset="utf-8",
        headers=headers,
    )


def problem_response(problem: Problem, instance: str | None = None) -> func.HttpResponse:
    """The problem+json answer of ``problem``; ``instance`` is the request path."""
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
