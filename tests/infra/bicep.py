"""A small reader for the parts of our Bicep files the infra tests check: params, their decorators
and defaults, and `var` values (objects, arrays, strings, numbers, booleans; anything else is kept
as the raw expression text).

No Bicep compiler exists on these machines and pycep-parser conflicts with the app's pins, so the
tests read the templates themselves. `make infra-check` (scripts/infra_check.py) additionally
parses every file with pycep-parser and cross-checks the app-settings keys found here against
pycep's view, so this reader cannot silently drift from the real grammar.
"""

from __future__ import annotations

import re
from dataclasses import dataclass, field
from pathlib import Path

_IDENT = re.compile(r"[A-Za-z_][A-Za-z0-9_]*")
_INT = re.compile(r"-?[0-9]+")
_OPEN = {"(": ")", "[": "]", "{": "}"}
_CLOSE = {")", "]", "}"}


@dataclass(frozen=True)
class Str:
    """A string literal; interpolations stay as written, e.g. '${vault.uri}secrets/x/'."""

    value: str

    @property
    def interpolated(self) -> bool:
        return "${" in self.value


@dataclass(frozen=True)
class Expr:
    """Anything that is not a literal: an identifier, a function call, a ternary..."""

    text: str


Value = dict[str, "Value"] | list["Value"] | Str | Expr | int | bool | None


@dataclass
class Param:
    name: str
    type: str
    default: Value = None
    has_default: bool = False
    decorators: dict[str, Value] = field(default_factory=dict)

    @property
    def description(self) -> str | None:
        value = self.decorators.get("description")
        return value.value if isinstance(value, Str) else None


@dataclass
class BicepFile:
    path: Path
    params: dict[str, Param]
    variables: dict[str, Value]
    text: str  # comments removed

    def var(self, name: str) -> Value:
        if name not in self.variables:
            raise AssertionError(f"{self.path}: no `var {name}`")
        return self.variables[name]

    def object_var(self, name: str) -> dict[str, Value]:
        value = self.var(name)
        if not isinstance(value, dict):
            raise AssertionError(f"{self.path}: `var {name}` is not an object literal")
        return value


class BicepSyntaxError(ValueError):
    pass


class _Reader:
    def __init__(self, text: str, path: Path) -> None:
        self.text = text
        self.path = path
        self.pos = 0

    # -- low level ---------------------------------------------------------------------------

    def error(self, message: str) -> BicepSyntaxError:
        line = self.text.count("\n", 0, self.pos) + 1
        return BicepSyntaxError(f"{self.path}:{line}: {message}")

    def peek(self, n: int = 1) -> str:
        return self.text[self.pos : self.pos + n]

    def at_end(self) -> bool:
        return self.pos >= len(self.text)

    def skip_spaces(self) -> None:
        while not self.at_end() and self.text[self.pos] in " \t\r":
            self.pos += 1

    def skip_blank(self, commas: bool = False) -> None:
        while not self.at_end() and (
            self.text[self.pos] in " \t\r\n" or (commas and self.text[self.pos] == ",")
        ):
            self.pos += 1

    def ident(self) -> str:
        match = _IDENT.match(self.text, self.pos)
        if not match:
            raise self.error(f"expected an identifier at {self.peek(20)!r}")
        self.pos = match.end()
        return match.group()

    def string_end(self, start: int) -> int:
        """Index just past the string literal starting at `start` (a quote)."""
        text = self.text
        if text.startswith("'''", start):
            end = text.find("'''", start + 3)
            if end < 0:
                raise self.error("unterminated multi-line string")
            return end + 3
        i = start + 1
        while i < len(text):
            char = text[i]
            if char == "\\":
                i += 2
                continue
            if char == "'":
                return i + 1
            if text.startswith("${", i):
                i = self.balanced_end(i + 1)
                continue
            if char == "\n":
                break
            i += 1
        raise self.error("unterminated string")

    def balanced_end(self, start: int) -> int:
        """Index just past the bracket group opening at `start`, skipping nested strings."""
        text = self.text
        stack = [_OPEN[text[start]]]
        i = start + 1
        while i < len(text):
            char = text[i]
            if char == "'":
                i = self.string_end(i)
                continue
            if char in _OPEN:
                stack.append(_OPEN[char])
            elif char in _CLOSE:
                if char != stack.pop():
                    raise self.error(f"mismatched {char!r}")
                if not stack:
                    return i + 1
            i += 1
        raise self.error("unbalanced brackets")

    def expression_end(self, start: int) -> int:
        """Index where the expression starting at `start` ends: a newline, ',' or a closing
        bracket at depth 0 (brackets opened inside the expression may span lines)."""
        text = self.text
        i = start
        while i < len(text):
            char = text[i]
            if char == "'":
                i = self.string_end(i)
                continue
            if char in _OPEN:
                i = self.balanced_end(i)
                continue
            if char in "\n," or char in _CLOSE:
                return i
            i += 1
        return i

    # -- values ------------------------------------------------------------------------------

    def value(self) -> Value:
        self.skip_spaces()
        start = self.pos
        char = self.peek()
        if char == "{":
            return self.object()
        if char == "[" and not self.text.startswith("[for ", self.pos):
            return self.array()
        literal: Value
        if char == "'":
            end = self.string_end(start)
            raw = self.text[start:end]
            literal = Str(raw[3:-3] if raw.startswith("'''") else _unescape(raw[1:-1]))
        elif match := _INT.match(self.text, start):
            end = match.end()
            literal = int(match.group())
        elif match := re.compile(r"(true|false|null)\b").match(self.text, start):
            end = match.end()
            literal = {"true": True, "false": False, "null": None}[match.group(1)]
        else:
            end = -1
            literal = None
        expr_end = self.expression_end(start)
        if end >= 0 and not self.text[end:expr_end].strip():
            self.pos = end
            return literal
        self.pos = expr_end
        text = self.text[start:expr_end].strip()
        if not text:
            raise self.error("expected a value")
        return Expr(text)

    def object(self) -> dict[str, Value]:
        self.pos += 1  # {
        result: dict[str, Value] = {}
        while True:
            self.skip_blank(commas=True)
            if self.peek() == "}":
                self.pos += 1
                return result
            if self.peek() == "'":
                end = self.string_end(self.pos)
                key = _unescape(self.text[self.pos + 1 : end - 1])
                self.pos = end
            else:
                key = self.ident()
            self.skip_spaces()
            if self.peek() != ":":
                raise self.error(f"expected ':' after key {key!r}")
            self.pos += 1
            if key in result:
                raise self.error(f"duplicate key {key!r}")
            result[key] = self.value()

    def array(self) -> list[Value]:
        self.pos += 1  # [
        result: list[Value] = []
        while True:
            self.skip_blank(commas=True)
            if self.peek() == "]":
                self.pos += 1
                return result
            result.append(self.value())

    # -- statements --------------------------------------------------------------------------

    def file(self) -> tuple[dict[str, Param], dict[str, Value]]:
        params: dict[str, Param] = {}
        variables: dict[str, Value] = {}
        decorators: dict[str, Value] = {}
        while True:
            self.skip_blank()
            if self.at_end():
                return params, variables
            if self.peek() == "@":
                self.pos += 1
                name = self.ident()
                if self.peek() != "(":
                    raise self.error(f"expected '(' after @{name}")
                end = self.balanced_end(self.pos)
                inner = _Reader(self.text[self.pos + 1 : end - 1].strip(), self.path)
                decorators[name] = inner.value() if inner.text else None
                self.pos = end
                continue
            keyword = self.ident()
            self.skip_spaces()
            if keyword == "param":
                name = self.ident()
                self.skip_spaces()
                type_end = self.expression_end(self.pos)
                declared = self.text[self.pos : type_end].strip()
                type_name, _, default_text = declared.partition("=")
                param = Param(name, type_name.strip(), decorators=decorators)
                if default_text.strip():
                    self.pos += declared.index("=") + 1
                    param.default = self.value()
                    param.has_default = True
                else:
                    self.pos = type_end
                params[name] = param
            elif keyword == "var":
                name = self.ident()
                self.skip_spaces()
                if self.peek() != "=":
                    raise self.error(f"expected '=' after var {name}")
                self.pos += 1
                variables[name] = self.value()
            else:  # resource, module, output, targetScope, extension...: skip the statement
                self.pos = self.expression_end(self.pos)
                if not self.at_end() and self.peek() in _CLOSE:
                    raise self.error(f"unexpected {self.peek()!r}")
            decorators = {}


def _unescape(raw: str) -> str:
    return re.sub(r"\\(.)", lambda m: {"n": "\n", "t": "\t", "r": "\r"}.get(m[1], m[1]), raw)


def strip_comments(text: str) -> str:
    """Remove // and /* */ comments (not inside strings), keeping line numbers."""
    out: list[str] = []
    i = 0
    in_string = False
    while i < len(text):
        if in_string:
            if text[i] == "\\":
                out.append(text[i : i + 2])
                i += 2
                continue
            if text[i] == "'":
                in_string = False
            out.append(text[i])
            i += 1
        elif text.startswith("//", i):
            end = text.find("\n", i)
            i = len(text) if end < 0 else end
        elif text.startswith("/*", i):
            end = text.find("*/", i + 2)
            end = len(text) if end < 0 else end + 2
            out.append("\n" * text.count("\n", i, end))
            i = end
        else:
            if text[i] == "'":
                in_string = True
            out.append(text[i])
            i += 1
    return "".join(out)


def read(path: Path) -> BicepFile:
    text = strip_comments(path.read_text(encoding="utf-8"))
    params, variables = _Reader(text, path).file()
    return BicepFile(path, params, variables, text)


def param_reference(value: Value, file: BicepFile) -> Param | None:
    """The param an app-setting value comes from, for the forms main.bicep uses:
    `name`, `string(name)` or `name ? 'x' : 'y'` (a bool param); None for anything else."""
    source = param_source(value, file)
    return source[0] if source else None


def param_source(value: Value, file: BicepFile) -> tuple[Param, str | None] | None:
    """(param, the app-setting string its default produces, or None without a literal default)."""
    if not isinstance(value, Expr):
        return None
    text = value.text
    if match := re.fullmatch(r"([A-Za-z_]\w*)", text):
        form = "plain"
    elif match := re.fullmatch(r"string\(\s*([A-Za-z_]\w*)\s*\)", text):
        form = "string"
    elif match := re.fullmatch(r"([A-Za-z_]\w*)\s*\?\s*'([^']*)'\s*:\s*'([^']*)'", text):
        form = "ternary"
    else:
        return None
    param = file.params.get(match.group(1))
    if param is None:
        return None
    default = param.default if param.has_default else None
    rendered: str | None = None
    if form == "ternary":
        if isinstance(default, bool):
            rendered = match.group(2) if default else match.group(3)
    elif isinstance(default, Str) and not default.interpolated:
        rendered = default.value
    elif isinstance(default, bool):
        rendered = str(default)  # what ARM's string() makes of a bool: 'True' / 'False'
    elif isinstance(default, int):
        rendered = str(default)
    return param, rendered
