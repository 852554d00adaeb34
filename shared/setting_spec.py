"""What an app setting is (``SettingSpec``) and the parsers that turn its text into a typed value.

Pure and light: every capability declares its settings with these in its own ``settings.py``, and
``shared/settings.py`` (the registry) concatenates them. A spec carries its parser and its one
default; nothing else in the code writes a setting's default again (the Bicep sets the same value,
checked by tests/infra/test_settings_sync.py).

A parser is ``(setting name, text) -> value`` and raises ``SettingProblem`` (a ``ValueError``) whose
text is one sentence an operator can act on, starting with the setting's name.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass
from ipaddress import ip_address
from typing import Any, Generic, TypeVar, cast
from urllib.parse import urlsplit

from shared import ncrontab  # light itself: it imports croniter only when a schedule is checked
from shared.logs import redact_url

T = TypeVar("T")
Parser = Callable[[str, str], T]  # (setting name, text as set) -> typed value; raises SettingProblem


class SettingProblem(ValueError):
    """A setting's value is unusable; ``str(problem)`` is the sentence shown to the operator."""


@dataclass(frozen=True)
class SettingSpec(Generic[T]):
    """One app setting: its name in the environment, docs/settings.md description, parser and default.

    ``default`` is text, parsed like a set value (so docs/settings.md and Bicep show it as written);
    None means no default: required when ``required``, else simply unset. ``secret``: a Key Vault
    reference in Azure, never logged or returned. ``host``: also read by the Functions host or an
    Azure SDK. ``absent_if_unresolved``: a secret whose feature is simply off when the vault has no
    such secret (an optional alert channel), so an unresolved reference counts as unset.
    """

    name: str
    description: str
    parse: Parser[T]
    default: str | None = None
    required: bool = False
    secret: bool = False
    host: bool = False
    absent_if_unresolved: bool = False

    def read(self, text: str) -> T:
        """The typed value of ``text``; raises ``SettingProblem`` (or the parser's ValueError).

        A schedule equal to its default is taken as it is: every default is proven valid by
        tests/settings/test_registry.py, and checking it again would import the NCRONTAB parser
        (about 25 ms) on every cold start for nothing.
        """
        if self.parse is schedule and text == self.default:
            return cast(T, text)
        return self.parse(self.name, text)

    def problem(self, text: str) -> str | None:
        """The sentence saying why ``text`` is unusable, or None when it parses.

        The default has none without being parsed: every default is proven valid by
        tests/settings/test_registry.py, and parsing it again would import the rules some parsers
        use (alert routing, classic-policy matching: about 25 ms) when function_app.py checks the
        settings at import.
        """
        if text == self.default:
            return None
        try:
            self.read(text)
        except ValueError as exc:  # SettingProblem, or a rule parser's ValueError with its sentence
            return str(exc)
        return None


class Reader:
    """Typed values of settings, given each spec's effective text (default applied, a secret whose
    Key Vault reference did not resolve as None). Values are assumed valid: call after the
    registry's ``problems()`` found nothing, or a ``SettingProblem`` escapes."""

    def __init__(self, text: Callable[[SettingSpec[Any]], str | None]) -> None:
        self._text = text

    @classmethod
    def defaults(cls) -> Reader:
        """Every setting at its default (nothing set in the environment)."""
        return cls(lambda spec: spec.default)

    def optional(self, spec: SettingSpec[T]) -> T | None:
        """The value, or None when the setting is unset and has no default."""
        text = self._text(spec)
        return None if text is None else spec.read(text)

    def __call__(self, spec: SettingSpec[T]) -> T:
        """The value of a setting that has a default or is required; LookupError when unset."""
        text = self._text(spec)
        if text is None:
            raise LookupError(f"{spec.name} is not set")
        return spec.read(text)


def checked(problem: str | None) -> None:
    """Raise ``SettingProblem(problem)`` when a rule module's check found one."""
    if problem:
        raise SettingProblem(problem)


# -- parsers --------------------------------------------------------------------------------------


def text(name: str, value: str) -> str:
    """Any text, as set (surrounding blanks are stripped by the registry)."""
    return value


def integer(low: int, high: int) -> Parser[int]:
    """A whole number in ``low..high`` (both included)."""

    def parse(name: str, value: str) -> int:
        try:
            number = int(value)
        except ValueError:
            raise SettingProblem(f"{name} {value!r} is not a whole number") from None
        if not low <= number <= high:
            raise SettingProblem(f"{name} {number} is outside {low}..{high}")
        return number

    return parse


def choice(*options: str) -> Parser[str]:
    """One of ``options``, exactly as written."""

    def parse(name: str, value: str) -> str:
        if value not in options:
            raise SettingProblem(f"{name} {value!r} is not {' or '.join(options)}")
        return value

    return parse


def boolean(name: str, value: str) -> bool:
    """``true`` or ``false``, in any case."""
    if value.lower() not in ("true", "false"):
        raise SettingProblem(f"{name} {value!r} is not true or false")
    return value.lower() == "true"


def is_loopback(host: str) -> bool:
    """``localhost`` or a loopback IP address (127.0.0.0/8, ::1)."""
    if host == "localhost":
        return True
    try:
        return ip_address(host).is_loopback
    except ValueError:
        return False


def url(*, allow_loopback_http: bool) -> Parser[str]:
    """An absolute https:// URL (plain http:// only for a loopback host when allowed), as set.
    A problem shows the URL with its user info and query values redacted (``redact_url``): they
    may be credentials (a webhook's ``?token=``, ``user:password@``)."""

    def parse(name: str, value: str) -> str:
        try:
            parts = urlsplit(value)
            hostname = parts.hostname
        except ValueError:  # e.g. an unclosed IPv6 bracket
            raise SettingProblem(f"{name} {redact_url(value)!r} is not an absolute https:// URL") from None
        if parts.scheme == "https" and hostname:
            return value
        shown = redact_url(value)
        if parts.scheme == "http" and hostname and allow_loopback_http:
            if is_loopback(hostname):
                return value
            raise SettingProblem(
                f"{name} {shown!r} must use https (plain http is only accepted for a loopback address)"
            )
        raise SettingProblem(f"{name} {shown!r} is not an absolute https:// URL")

    return parse


def secret_url(name: str, value: str) -> str:
    """Like ``url``, but a problem never repeats the value: a webhook URL with a token is a secret."""
    try:
        return url(allow_loopback_http=True)(name, value)
    except SettingProblem:
        raise SettingProblem(
            f"{name} is not an absolute https:// URL (the value is a secret and is not shown)"
        ) from None


def listing(name: str, value: str) -> str:
    """A comma-separated list naming at least one item, as set."""
    if not any(part.strip() for part in value.split(",")):
        raise SettingProblem(f"{name} names nothing")
    return value


def schedule(name: str, value: str) -> str:
    """An Azure Functions NCRONTAB schedule the host runs on Flex Consumption (``shared.ncrontab``),
    as set: the host reads it itself (``%NAME%`` in the timer trigger)."""
    try:
        ncrontab.normalize(value)
    except ncrontab.ScheduleError as exc:
        raise SettingProblem(f"{name} {value!r} {exc}") from None
    return value
