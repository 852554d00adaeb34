"""Shapes every part of the API shares: times, pages, problem details, delivery reports."""

from __future__ import annotations

from datetime import datetime
from typing import Annotated, Any, Literal, NotRequired, TypedDict

from msgspec import Meta

from shared.job_runs import Freshness

SCHEMAS = "#/components/schemas/"


def ref(name: str) -> dict[str, Any]:
    """A JSON Schema reference to a component that is not generated from a type here."""
    return {"$ref": SCHEMAS + name}


# An instant in UTC, ISO 8601 with a Z suffix (functions/http/problems.py encodes every datetime so).
Time = Annotated[datetime, Meta(tz=True)]
Token = Annotated[str | None, Meta(description="pass back as ?continuationToken= for the next page")]


class ProblemError(TypedDict):
    """One bad field of a request: where it is (pointer) and what is wrong with it. For a query
    parameter the pointer is /<name> (the query read as one JSON object) and a parameter member
    names it.
    """

    pointer: Annotated[
        str,
        Meta(
            description="RFC 6901 JSON pointer into the request body, or into the query read as one "
            "JSON object of its parameters (/since)"
        ),
    ]
    detail: str
    parameter: NotRequired[Annotated[str, Meta(description="the query parameter, for query problems")]]


class Problem(TypedDict):
    """RFC 9457 problem details. Routes add members such as errors[] (each with a JSON pointer),
    ticket, requiredRole, heldBy or incident."""

    type: Annotated[str, Meta(description="urn:mtd-guard:problem:<kind>")]
    title: str
    status: Annotated[int, Meta(ge=400, le=599)]
    detail: str
    instance: NotRequired[str]
    ticket: NotRequired[str | None]
    errors: NotRequired[list[ProblemError]]


class DeliveryReport(TypedDict):
    """What the run delivered to the alert channels (counts of deliveries, and why some failed)."""

    delivered: int
    failed: int
    errors: list[str]


class JobHealth(TypedDict):
    """One timer job in GET /api/health: its last successful run (UTC; null: none yet) and
    ``stale`` once two scheduled runs after it have passed."""

    lastSuccess: datetime | None
    status: Freshness


class Liveness(TypedDict):
    """GET /api/health: ``ok`` (200), else why not (503): ``misconfigured`` (settings problems,
    counted, not listed: the route is anonymous), ``storageUnavailable`` (the state store did not
    answer a read within seconds), ``stale`` (a timer job stopped succeeding). ``jobs`` is keyed by
    job: heartbeatSweep, caDrift, alertOutbox (empty when storage was not read)."""

    status: Literal["ok", "misconfigured", "storageUnavailable", "stale"]
    configurationProblems: int
    storage: Literal["ok", "unreachable", "notChecked"]
    jobs: dict[str, JobHealth]
