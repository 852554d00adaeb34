"""``$filter`` and ``$orderby`` for the collections that declare them, the way Graph treats them.

A collection opts in through its ``ResourceType`` (``filterable``: property path -> operators;
``orderable``; ``default_order``). Anything a collection does not declare is a 400, never
silently ignored: a client relying on an option Graph does not support for that collection must
fail here too.

The grammar is the OData subset Graph's reporting and directory APIs document::

    expr       := term (('and' | 'or') term)*        'and' binds tighter than 'or'
    term       := 'not' term | '(' expr ')' | path op literal | 'startswith(' path ',' literal ')'
    op         := eq | ne | gt | ge | lt | le
    literal    := 'text' (quote doubled: 'it''s') | 2024-01-01T00:00:00Z | 12 | true | false | null

Comparisons of ``Edm.DateTimeOffset`` properties are by instant (``2024-01-01T00:00:00Z`` equals
``2024-01-01T00:00:00.0000000Z``); strings compare case-insensitively, as Entra ID does.
"""

from __future__ import annotations

import re
from collections.abc import Callable, Sequence
from dataclasses import dataclass
from datetime import datetime
from typing import Any

from graphsim.odata import GraphError
from graphsim.resources import DATETIME, ResourceType
from graphsim.timestamps import parse_datetime_offset

Entity = dict[str, Any]
Predicate = Callable[[Entity], bool]

COMPARISONS = frozenset({"eq", "ne", "gt", "ge", "lt", "le"})
STARTSWITH = "startswith"

_TOKEN = re.compile(
    r"""\s*(?:
        (?P<string>'(?:[^']|'')*')
      | (?P<lparen>\()
      | (?P<rparen>\))
      | (?P<comma>,)
      | (?P<word>[A-Za-z0-9_./:+\-]+)
    )""",
    re.VERBOSE,
)


@dataclass(frozen=True)
class _Token:
    kind: str  # string | lparen | rparen | comma | word
    text: str


def _invalid(clause: str, why: str) -> GraphError:
    return GraphError(400, f"Invalid filter clause: {why} (in '{clause}').")


def _tokens(clause: str) -> list[_Token]:
    found: list[_Token] = []
    position = 0
    while position < len(clause):
        if clause[position:].strip() == "":
            break
        match = _TOKEN.match(clause, position)
        if match is None or match.end() == position:
            raise _invalid(clause, f"unexpected character at position {position}")
        kind = match.lastgroup
        assert kind is not None
        found.append(_Token(kind, match.group(kind)))
        position = match.end()
    return found


class _Parser:
    def __init__(self, rt: ResourceType, clause: str) -> None:
        self.rt = rt
        self.clause = clause
        self.tokens = _tokens(clause)
        self.at = 0

    def parse(self) -> Predicate:
        if not self.tokens:
            raise _invalid(self.clause, "the filter is empty")
        predicate = self._or()
        if self.at != len(self.tokens):
            raise _invalid(self.clause, f"unexpected '{self.tokens[self.at].text}'")
        return predicate

    # -- grammar --

    def _or(self) -> Predicate:
        parts = [self._and()]
        while self._word_is("or"):
            self.at += 1
            parts.append(self._and())
        return parts[0] if len(parts) == 1 else (lambda e: any(p(e) for p in parts))

    def _and(self) -> Predicate:
        parts = [self._term()]
        while self._word_is("and"):
            self.at += 1
            parts.append(self._term())
        return parts[0] if len(parts) == 1 else (lambda e: all(p(e) for p in parts))

    def _term(self) -> Predicate:
        token = self._next("a condition")
        if token.kind == "lparen":
            inner = self._or()
            self._expect("rparen", "')'")
            return inner
        if token.kind != "word":
            raise _invalid(self.clause, f"expected a condition, found '{token.text}'")
        if token.text.lower() == "not":
            negated = self._term()
            return lambda e: not negated(e)
        if token.text.lower() == STARTSWITH and self._peek_kind() == "lparen":
            self.at += 1
            path = self._path(self._next("a property").text, STARTSWITH)
            self._expect("comma", "','")
            prefix = self._literal(path)
            self._expect("rparen", "')'")
            return _startswith(path, prefix)
        path_text = token.text
        operator = self._next("an operator").text.lower()
        if operator not in COMPARISONS:
            raise _invalid(self.clause, f"'{operator}' is not a supported operator")
        path = self._path(path_text, operator)
        return _compare(path, operator, self._literal(path), self._is_datetime(path))

    # -- pieces --

    def _path(self, text: str, operator: str) -> str:
        allowed = self.rt.filterable.get(text)
        if allowed is None:
            raise _invalid(self.clause, f"filtering on '{text}' is not supported")
        if operator not in allowed:
            raise _invalid(self.clause, f"operator '{operator}' is not supported for '{text}'")
        return text

    def _is_datetime(self, path: str) -> bool:
        prop = self.rt.find_property(path.split("/", maxsplit=1)[0])
        return prop is not None and "/" not in path and prop.edm_type == DATETIME

    def _literal(self, path: str) -> Any:
        token = self._next("a value")
        if token.kind == "string":
            return token.text[1:-1].replace("''", "'")
        if token.kind != "word":
            raise _invalid(self.clause, f"expected a value, found '{token.text}'")
        lowered = token.text.lower()
        if lowered in ("true", "false"):
            return lowered == "true"
        if lowered == "null":
            return None
        if self._is_datetime(path):
            moment = parse_datetime_offset(token.text)
            if moment is None:
                raise _invalid(self.clause, f"'{token.text}' is not a DateTimeOffset")
            return moment
        try:
            return int(token.text)
        except ValueError:
            raise _invalid(self.clause, f"'{token.text}' is not a value (quote text values)") from None

    def _next(self, what: str) -> _Token:
        if self.at >= len(self.tokens):
            raise _invalid(self.clause, f"expected {what} at the end")
        token = self.tokens[self.at]
        self.at += 1
        return token

    def _expect(self, kind: str, shown: str) -> None:
        token = self._next(shown)
        if token.kind != kind:
            raise _invalid(self.clause, f"expected {shown}, found '{token.text}'")

    def _peek_kind(self) -> str | None:
        return self.tokens[self.at].kind if self.at < len(self.tokens) else None

    def _word_is(self, word: str) -> bool:
        return (
            self.at < len(self.tokens)
            and self.tokens[self.at].kind == "word"
            and self.tokens[self.at].text.lower() == word
        )


def _value_at(entity: Entity, path: str) -> Any:
    value: Any = entity
    for part in path.split("/"):
        if not isinstance(value, dict):
            return None
        value = value.get(part)
    return value


def _comparable(value: Any, as_datetime: bool) -> Any:
    if as_datetime and isinstance(value, str):
        return parse_datetime_offset(value)
    if isinstance(value, str):
        return value.casefold()
    return value


def _compare(path: str, operator: str, literal: Any, as_datetime: bool) -> Predicate:
    wanted = literal.casefold() if isinstance(literal, str) else literal

    def check(entity: Entity) -> bool:
        have = _comparable(_value_at(entity, path), as_datetime)
        if operator == "eq":
            return bool(have == wanted)
        if operator == "ne":
            return bool(have != wanted)
        if have is None or wanted is None or type(have) is not type(wanted):
            return False  # OData: an ordering comparison with null (or a type mismatch) is false
        ordered = {"gt": have > wanted, "ge": have >= wanted, "lt": have < wanted, "le": have <= wanted}
        return bool(ordered[operator])

    return check


def _startswith(path: str, prefix: Any) -> Predicate:
    if not isinstance(prefix, str):
        raise GraphError(400, f"Invalid filter clause: startswith needs a text value for '{path}'.")
    wanted = prefix.casefold()

    def check(entity: Entity) -> bool:
        have = _value_at(entity, path)
        return isinstance(have, str) and have.casefold().startswith(wanted)

    return check


def parse_filter(rt: ResourceType, clause: str) -> Predicate:
    """A predicate over stored entities; 400 (``GraphError``) for anything unsupported."""
    return _Parser(rt, clause).parse()


def parse_orderby(rt: ResourceType, clause: str) -> list[tuple[str, bool]]:
    """``[(property, descending)]`` from ``"activityDateTime desc, id"``."""
    keys: list[tuple[str, bool]] = []
    for part in clause.split(","):
        words = part.split()
        if not words or len(words) > 2:
            raise GraphError(400, f"Invalid $orderby clause '{clause}'.")
        name = words[0]
        direction = words[1].lower() if len(words) == 2 else "asc"
        if name not in rt.orderable or direction not in ("asc", "desc"):
            raise GraphError(400, f"Ordering by '{part.strip()}' is not supported.")
        keys.append((name, direction == "desc"))
    return keys


def _sort_value(rt: ResourceType, entity: Entity, name: str) -> tuple[int, Any]:
    value = entity.get(name)
    prop = rt.find_property(name)
    if prop is not None and prop.edm_type == DATETIME and isinstance(value, str):
        moment: datetime | None = parse_datetime_offset(value)
        return (0, moment.timestamp()) if moment else (1, value)
    if value is None:
        return (2, "")
    return (1, str(value).casefold())


def order(rt: ResourceType, entities: list[Entity], keys: Sequence[tuple[str, bool]]) -> list[Entity]:
    """Stable multi-key sort; the last key is applied first, as usual."""
    result = list(entities)
    for name, descending in reversed(keys):
        result.sort(key=lambda e, n=name: _sort_value(rt, e, n), reverse=descending)  # type: ignore[misc]
    return result


def apply(
    rt: ResourceType, entities: list[Entity], filter_clause: str | None, orderby: str | None
) -> list[Entity]:
    """The entities a list request returns, filtered and ordered, before paging."""
    if filter_clause is not None:
        predicate = parse_filter(rt, filter_clause)
        entities = [e for e in entities if predicate(e)]
    keys = parse_orderby(rt, orderby) if orderby is not None else list(rt.default_order)
    return order(rt, entities, keys) if keys else entities
