"""The pure parts of the HTTP toolkit: RFC 6901 pointers, times, enums and the token codec."""

from __future__ import annotations

import base64
import json
from datetime import UTC, datetime
from typing import Any

import pytest
from hypothesis import given
from hypothesis import strategies as st

from functions.http import tokens
from functions.http.problems import json_pointer
from functions.http.query import Choice, Count, QuerySpec, Token, parse_time
from shared.findings.model import Severity

JSON = st.recursive(
    st.none() | st.booleans() | st.integers() | st.text(max_size=8),
    lambda inner: st.lists(inner, max_size=3),
    max_leaves=6,
)


def test_pointers_follow_the_examples_of_rfc_6901() -> None:
    # RFC 6901 section 5: "/a~1b" -> "a/b", "/m~0n" -> "m~n", "" -> the whole document.
    assert json_pointer("a/b") == "/a~1b"
    assert json_pointer("m~n") == "/m~0n"
    assert json_pointer("~1") == "/~01"  # "~" escaped first, so "~1" does not turn into "/"
    assert json_pointer() == ""
    assert json_pointer("policies", 0, "id") == "/policies/0/id"


@given(st.lists(st.text(max_size=6), max_size=4))
def test_a_pointer_reads_back_to_its_tokens(parts: list[str]) -> None:
    pointer = json_pointer(*parts)
    read = [t.replace("~1", "/").replace("~0", "~") for t in pointer.split("/")[1:]]
    assert read == parts


@pytest.mark.parametrize(
    "raw",
    [
        "2026-01-31T08:00:00Z",
        "2026-01-31t08:00:00z",
        "2026-01-31T09:00:00+01:00",
        "2026-01-31T08:00:00",
        "2026-01-31 08:00:00Z",
        "2026-01-31T03:00:00.000-05:00",
    ],
)
def test_every_spelling_of_one_moment_reads_as_the_same_utc_time(raw: str) -> None:
    assert parse_time(raw, "since") == datetime(2026, 1, 31, 8, tzinfo=UTC)


@pytest.mark.parametrize("raw", ["yesterday", "2026-13-01T00:00:00Z", "8:00", "2026-01-31T08:00:00ZZ"])
def test_a_time_that_is_not_iso_8601_is_refused_naming_the_parameter(raw: str) -> None:
    with pytest.raises(ValueError, match=r"^until must be an ISO 8601 time such as 2026-01-31T08:00:00Z"):
        parse_time(raw, "until")


def test_enum_parameters_take_the_python_enum_values_exactly() -> None:
    one = Choice("severity", enum=Severity)
    assert one.parse("high") is Severity.HIGH
    with pytest.raises(ValueError, match="severity must be one of high, warning, info, got 'High'"):
        one.parse("High")
    many = Choice("severity", enum=Severity, many=True)
    assert many.parse("info, warning") == {Severity.INFO, Severity.WARNING}
    with pytest.raises(ValueError, match=r"\(or several, comma-separated\)"):
        many.parse("info,,warning")
    assert one.openapi()["schema"] == {"type": "string", "enum": ["high", "warning", "info"]}


def test_a_spec_describes_its_parameters_for_the_openapi_document() -> None:
    spec = QuerySpec("x", (Count("limit", "page size", low=1, high=500, fallback=50), Token()))
    assert spec.openapi() == [
        {
            "name": "limit",
            "in": "query",
            "required": False,
            "schema": {"type": "integer", "minimum": 1, "maximum": 500, "default": 50},
            "description": "page size",
        },
        {
            "name": "continuationToken",
            "in": "query",
            "required": False,
            "schema": {"type": "string", "minLength": 1},
            "description": "from the previous page; keep the same filters",
        },
    ]


@given(position=JSON, severity=st.sampled_from(list(Severity)), since=st.datetimes(timezones=st.just(UTC)))
def test_a_token_gives_back_its_position_for_the_same_route_and_filters(
    position: Any, severity: Severity, since: datetime
) -> None:
    filters = {"severity": severity, "since": since, "kind": frozenset({"b", "a"})}
    token = tokens.encode(position, "alerts_list", filters)
    assert tokens.decode(token, "alerts_list", {**filters, "kind": frozenset({"a", "b"})}) == position
    with pytest.raises(tokens.TokenError) as other:
        tokens.decode(token, "alerts_list", {**filters, "severity": None})
    assert other.value.other_filters
    with pytest.raises(tokens.TokenError, match="for this route"):
        tokens.decode(token, "audit_list", filters)


def _b64(raw: bytes) -> str:
    return base64.urlsafe_b64encode(raw).decode()


@given(
    st.text(max_size=40)
    | st.binary(max_size=30).map(_b64)
    | JSON.map(lambda v: _b64(json.dumps(v).encode()))
    | st.just(_b64(b'{"v": 1, "s": "alerts_list"}'))
)
def test_any_other_text_is_refused_as_a_token_never_a_crash(text: str) -> None:
    with pytest.raises(tokens.TokenError, match="is not one this API returned"):
        tokens.decode(text, "alerts_list", {})
