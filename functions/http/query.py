"""Query parameters as data: one rule for every route, every problem reported at once.

A route declares its parameters once, as a ``QuerySpec`` of ``Param`` values (name, type, default,
description); ``QuerySpec.parse`` reads a request with it and ``Param.openapi()`` describes the
parameter for the OpenAPI document. The rules, the same on every route:

- absent: the parameter's default (``None``: no filter);
- empty (``?limit=``) or blank: refused - a template variable left blank is a mistake, not "any";
- given twice (``?since=a&since=b``): refused, whichever the host would keep;
- unknown (``?sinse=``): refused, naming the parameters the route takes (``code``, the function key,
  is the host's and always allowed);
- times (``since``, ``until``): ISO 8601 / RFC 3339; ``T`` and ``Z`` in either case (RFC 3339
  section 5.6); no offset means UTC; answered normalised to UTC;
- enums: the values of the Python enum, exactly; ``many=True`` takes comma-separated values.

Every problem of a request is one ``errors`` entry (one per parameter, pointer ``/<name>``) of a
single 400 ``Invalid query parameter`` problem. A continuation token is checked last, against the
route and the filters it was issued for (functions/http/tokens.py).
"""

from __future__ import annotations

import re
from collections import Counter
from collections.abc import Callable, Mapping
from dataclasses import dataclass, field
from datetime import UTC, datetime
from enum import StrEnum
from typing import Any
from urllib.parse import parse_qsl, urlsplit

import azure.functions as func

from functions.http import tokens
from functions.http.problems import FieldError, invalid, json_pointer

HOST_PARAMETERS = frozenset({"code"})  # the function key: read by the Functions host, never by us
TOKEN = "continuationToken"  # noqa: S105 - a query parameter name, not a secret
TIME_EXAMPLE = "2026-01-31T08:00:00Z"
Schema = dict[str, Any]


@dataclass(frozen=True)
class Param:
    """One query parameter. ``parse`` turns its (non-empty, stripped) text into its value or raises
    ValueError with a sentence naming it; ``filter`` says a continuation token is bound to it."""

    name: str
    description: str = ""

    @property
    def filter(self) -> bool:
        """True: continuation tokens are bound to this parameter's value (see ``QuerySpec.filters``)."""
        return True

    @property
    def default(self) -> Any:
        """The value when the parameter is absent; None (no filter) unless a subclass says otherwise."""
        return None

    def parse(self, raw: str) -> Any:
        """The value of ``raw`` (non-empty, stripped); the base class takes any text as given."""
        return raw

    def schema(self) -> Schema:
        """The JSON Schema of the value (OpenAPI ``schema``); the base class: a non-empty string."""
        return {"type": "string", "minLength": 1}

    def openapi(self) -> Schema:
        """The OpenAPI 3.1 parameter object."""
        return {
            "name": self.name,
            "in": "query",
            "required": False,
            "schema": self.schema(),
            "description": self.description,
        }


@dataclass(frozen=True)
class Text(Param):
    """Free text, optionally matching ``pattern`` in full (``example`` shows a good value)."""

    pattern: re.Pattern[str] | None = None
    example: str = ""
    max_length: int = 256

    def parse(self, raw: str) -> str:
        """``raw`` as given; ValueError when over ``max_length`` or not matching ``pattern`` in full."""
        if len(raw) > self.max_length:
            raise ValueError(f"{self.name} must be at most {self.max_length} characters")
        if self.pattern is not None and not self.pattern.fullmatch(raw):
            raise ValueError(f"{self.name} {raw[:100]!r} is not like {self.example}")
        return raw

    def schema(self) -> Schema:
        """A string of 1 to ``max_length`` characters, with ``pattern`` anchored unless it ignores case."""
        schema: Schema = {"type": "string", "minLength": 1, "maxLength": self.max_length}
        if self.pattern is None or self.pattern.flags & re.IGNORECASE:
            return schema  # JSON Schema patterns (ECMA 262) have no flags: a case-blind one cannot be said
        return {**schema, "pattern": f"^(?:{self.pattern.pattern})$"}


@dataclass(frozen=True)
class Flag(Param):
    """true or false (also 1 or 0, any case); absent: false."""

    @property
    def default(self) -> bool:
        """False: an absent flag is off."""
        return False

    def parse(self, raw: str) -> bool:
        """True for true or 1, False for false or 0 (any case); ValueError for anything else."""
        text = raw.lower()
        if text in ("true", "1"):
            return True
        if text in ("false", "0"):
            return False
        raise ValueError(f"{self.name} must be true or false, got {raw!r}")

    def schema(self) -> Schema:
        """A JSON Schema boolean."""
        return {"type": "boolean"}


@dataclass(frozen=True)
class Count(Param):
    """A whole number from ``low`` to ``high``; absent: ``fallback``. Not a filter (page sizes)."""

    low: int = 1
    high: int = 200
    fallback: int = 50

    @property
    def filter(self) -> bool:
        """False: the page size may change from page to page under one token."""
        return False

    @property
    def default(self) -> int:
        """``fallback``: the page size when none is asked for."""
        return self.fallback

    def parse(self, raw: str) -> int:
        """``raw`` as an int; ValueError when it is not a whole number or not from ``low`` to ``high``."""
        try:
            value = int(raw)
        except ValueError:
            raise ValueError(f"{self.name} must be a whole number, got {raw!r}") from None
        if not self.low <= value <= self.high:
            raise ValueError(f"{self.name} must be between {self.low} and {self.high}, got {value}")
        return value

    def schema(self) -> Schema:
        """An integer from ``low`` to ``high`` inclusive, defaulting to ``fallback``."""
        return {"type": "integer", "minimum": self.low, "maximum": self.high, "default": self.fallback}


@dataclass(frozen=True)
class Choice(Param):
    """One value of ``enum`` (its member), or with ``many`` a comma-separated set of them."""

    enum: type[StrEnum] = field(kw_only=True)
    many: bool = False

    def _values(self) -> list[str]:
        return [m.value for m in self.enum]

    def parse(self, raw: str) -> Any:
        """The enum member ``raw`` names, or with ``many`` a frozenset of the members it lists (spaces
        around commas ignored); ValueError listing the allowed values when any is not one of them.
        """
        wanted = [v.strip() for v in raw.split(",")] if self.many else [raw]
        unknown = [v for v in wanted if v not in self._values()]
        if unknown or not any(wanted):
            several = " (or several, comma-separated)" if self.many else ""
            raise ValueError(f"{self.name} must be one of {', '.join(self._values())}{several}, got {raw!r}")
        members = [self.enum(v) for v in wanted]
        return frozenset(members) if self.many else members[0]

    def schema(self) -> Schema:
        """One of the enum's values; with ``many``, a pattern of comma-separated values."""
        if not self.many:
            return {"type": "string", "enum": self._values()}
        one = "|".join(re.escape(v) for v in self._values())
        return {"type": "string", "pattern": f"^({one})(,({one}))*$"}


@dataclass(frozen=True)
class Moment(Param):
    """An ISO 8601 / RFC 3339 time, answered as an aware UTC datetime."""

    def parse(self, raw: str) -> datetime:
        """``raw`` as an aware UTC datetime (``parse_time``); ValueError when it is not ISO 8601."""
        return parse_time(raw, self.name)

    def schema(self) -> Schema:
        """A JSON Schema ``date-time`` string (RFC 3339)."""
        return {"type": "string", "format": "date-time"}


@dataclass(frozen=True)
class Token(Param):
    """``continuationToken``: ``position`` checks the keyset position a token carries (raises
    ValueError, TypeError or KeyError on a shape this route never issued)."""

    name: str = TOKEN
    description: str = "from the previous page; keep the same filters"
    position: Callable[[Any], Any] = field(default=lambda p: p)

    @property
    def filter(self) -> bool:
        """False: the token is not one of the filters it is bound to."""
        return False


def parse_time(raw: str, name: str) -> datetime:
    """``raw`` as an aware UTC datetime; ValueError naming ``name`` when it is not an ISO 8601 time.

    RFC 3339 section 5.6 lets ``T`` and ``Z`` be lower case; without an offset the time is UTC.
    """
    try:
        parsed = datetime.fromisoformat(raw.upper().replace("Z", "+00:00"))
    except ValueError:
        raise ValueError(
            f"{name} must be an ISO 8601 time such as {TIME_EXAMPLE}, got {raw[:100]!r}"
        ) from None
    try:
        return (parsed if parsed.tzinfo else parsed.replace(tzinfo=UTC)).astimezone(UTC)
    except OverflowError:  # 9999-12-31T23:59:59-14:00 is after the last UTC time Python can hold
        raise ValueError(
            f"{name} is outside the years 1 to 9999 once read as UTC, got {raw[:100]!r}"
        ) from None


@dataclass(frozen=True)
class Query:
    """The parsed query of one request: ``query[name]`` is each declared parameter's value (its
    default when absent); ``after`` the token's position (None: first page)."""

    spec: QuerySpec
    values: Mapping[str, Any]
    after: Any = None

    def __getitem__(self, name: str) -> Any:
        return self.values[name]

    def next_token(self, position: Any) -> str:
        """The token of the page after ``position``, bound to this request's route and filters."""
        return tokens.encode(position, self.spec.scope, self.spec.filters(self.values))


@dataclass(frozen=True)
class QuerySpec:
    """The query parameters one route takes; ``scope`` (the route's function name) binds its tokens."""

    scope: str
    params: tuple[Param, ...] = ()

    def filters(self, values: Mapping[str, Any]) -> dict[str, Any]:
        """The values a token is bound to: each filter parameter's name -> its value (None: absent)."""
        return {p.name: values.get(p.name) for p in self.params if p.filter}

    def openapi(self) -> list[Schema]:
        """The OpenAPI parameter objects of this route's query, in declaration order."""
        return [p.openapi() for p in self.params]

    def parse(self, req: func.HttpRequest) -> Query:
        """Every declared parameter's value; one 400 problem listing every bad parameter otherwise."""
        errors: dict[str, str] = {}
        given = _given(req)
        values: dict[str, Any] = {}
        token: str | None = None
        for param in self.params:
            raw = given.pop(param.name, None)
            values[param.name] = param.default
            if raw is None:
                continue
            try:
                text = _single(param.name, raw)
                if isinstance(param, Token):
                    token = text
                else:
                    values[param.name] = param.parse(text)
            except ValueError as exc:
                errors[param.name] = str(exc)
        for name in sorted(given):
            errors[name] = self._unknown(name)
        # A token is checked even when other parameters are bad, against its filters only when
        # they could all be read.
        after = None if token is None else self._position(token, None if errors else values, errors)
        if errors:
            raise invalid(
                "Invalid query parameter",
                [FieldError(json_pointer(n), d, parameter=n) for n, d in errors.items()],
            )
        return Query(self, values, after)

    def _unknown(self, name: str) -> str:
        takes = ", ".join(p.name for p in self.params) or "no query parameters"
        return f"{name} is not a parameter of this route; it takes {takes}"

    def _position(self, token: str, values: dict[str, Any] | None, errors: dict[str, str]) -> Any:
        param = next(p for p in self.params if isinstance(p, Token))
        filters = None if values is None else self.filters(values)
        try:
            return param.position(tokens.decode(token, self.scope, filters))
        except tokens.TokenError as exc:
            errors[param.name] = f"{param.name} {exc}"
        except (ValueError, TypeError, KeyError, IndexError):
            errors[param.name] = f"{param.name} is not one this API returned"
        return None


def _given(req: func.HttpRequest) -> dict[str, list[str]]:
    """Each query parameter's values as the URL has them (the host's ``params`` keep only one of a
    repeated parameter), falling back to ``params`` when the URL carries no query."""
    try:
        pairs = parse_qsl(urlsplit(req.url).query, keep_blank_values=True)
    except ValueError:
        pairs = []
    counts = Counter(name for name, _ in pairs)
    given: dict[str, list[str]] = {}
    for name, value in req.params.items():
        if name not in HOST_PARAMETERS:
            given[name] = [value] * max(counts[name], 1)
    return given


def _single(name: str, raw: list[str]) -> str:
    if len(raw) > 1:
        raise ValueError(f"{name} is given {len(raw)} times: give it once")
    text = raw[0].strip()
    if not text:
        raise ValueError(f"{name} is empty: leave it out or give a value")
    return text


NO_QUERY = QuerySpec("none")  # a route that takes no query parameters
