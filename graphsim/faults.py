"""Fault injection: make chosen requests fail the ways the real service (or network) does.

JSON form (scenario ``faults`` list, ``POST /_sim/faults``)::

    {"method": "GET",                 # optional; default: any method
     "path": "/deviceManagement/mobileThreatDefenseConnectors",
                                      # optional prefix of the path WITHOUT /v1.0 or /beta
     "kind": "status",                # status | slow | malformed | drop
     "status": 429,                   # kind=status: the HTTP status (required)
     "retryAfter": 1,                 # optional, whole seconds -> Retry-After header
     "code": "TooManyRequests",       # optional; default from the status
     "message": "...",                # optional
     "delaySeconds": 2.5,             # kind=slow: sleep before answering normally
     "times": 1}                      # how many matching requests it hits; null/absent = forever

Faults are tried in order; the first one that matches and has hits left wins.
"""

from __future__ import annotations

import threading
from dataclasses import dataclass
from typing import Any, Literal

FaultKind = Literal["status", "slow", "malformed", "drop"]
FAULT_KINDS: tuple[FaultKind, ...] = ("status", "slow", "malformed", "drop")

_JSON_KEYS = {
    "method": "method",
    "path": "path",
    "kind": "kind",
    "status": "status",
    "retryAfter": "retry_after",
    "code": "code",
    "message": "message",
    "delaySeconds": "delay_seconds",
    "times": "times",
}


class FaultError(ValueError):
    """A fault definition that cannot work; the message names the offending field."""


def _int_at_least(value: Any, low: int, high: int | None = None) -> bool:
    """JSON integers only (``True`` is an int in Python, not in JSON), within bounds."""
    if isinstance(value, bool) or not isinstance(value, int):
        return False
    return value >= low and (high is None or value <= high)


@dataclass(frozen=True)
class Fault:
    """One injected failure. Validated on construction so a typo fails the test setup,
    not silently the test itself."""

    kind: FaultKind
    method: str | None = None
    path: str | None = None
    status: int | None = None
    retry_after: int | None = None
    code: str | None = None
    message: str | None = None
    delay_seconds: float = 0.0
    times: int | None = None  # None: every matching request, forever

    def __post_init__(self) -> None:
        problem = self._problem()
        if problem:
            raise FaultError(problem)
        if self.method is not None:
            object.__setattr__(self, "method", self.method.upper())

    def _problem(self) -> str | None:
        """What is wrong with this definition, in the JSON field names users write."""
        delay = self.delay_seconds
        checks = (
            (
                self.kind in FAULT_KINDS,
                f"kind must be one of {', '.join(FAULT_KINDS)}, not {self.kind!r}",
            ),
            (
                self.kind != "status" or _int_at_least(self.status, 400, 599),
                f"a 'status' fault needs an HTTP error status 400-599, not {self.status!r}",
            ),
            (
                self.method is None or (isinstance(self.method, str) and self.method.isalpha()),
                f"method must be an HTTP method name, not {self.method!r}",
            ),
            (
                self.path is None or (isinstance(self.path, str) and self.path.startswith("/")),
                f"path must start with '/' (no version prefix), not {self.path!r}",
            ),
            (
                # Retry-After is delta-seconds; kiota ignores anything but an integer or date.
                self.retry_after is None or _int_at_least(self.retry_after, 0),
                f"retryAfter must be a whole number of seconds >= 0, not {self.retry_after!r}",
            ),
            (
                not isinstance(delay, bool) and isinstance(delay, int | float) and delay >= 0,
                f"delaySeconds must be a number >= 0, not {delay!r}",
            ),
            (
                self.times is None or _int_at_least(self.times, 1),
                f"times must be an integer >= 1 or null (forever), not {self.times!r}",
            ),
        )
        return next((message for ok, message in checks if not ok), None)

    def matches(self, method: str, path: str) -> bool:
        """``path`` excludes the version prefix; Graph paths are case-insensitive."""
        if self.method is not None and method.upper() != self.method:
            return False
        return self.path is None or path.lower().startswith(self.path.lower())

    @classmethod
    def from_json(cls, data: Any) -> Fault:
        """Build from the camelCase JSON form; keys starting with ``_`` are comments."""
        if not isinstance(data, dict):
            raise FaultError("a fault must be a JSON object")
        unknown = [k for k in data if k not in _JSON_KEYS and not k.startswith("_")]
        if unknown:
            raise FaultError(f"unknown fault field {unknown[0]!r} (known: {', '.join(_JSON_KEYS)})")
        if "kind" not in data:
            raise FaultError("a fault needs a 'kind'")
        kwargs = {_JSON_KEYS[k]: v for k, v in data.items() if k in _JSON_KEYS}
        if kwargs.get("delay_seconds") is None:
            kwargs.pop("delay_seconds", None)
        try:
            return cls(**kwargs)
        except TypeError as exc:  # e.g. a field of the wrong JSON type reaching a comparison
            raise FaultError(str(exc)) from exc

    def to_json(self) -> dict[str, Any]:
        out = {json_key: getattr(self, attr) for json_key, attr in _JSON_KEYS.items()}
        return {k: v for k, v in out.items() if v is not None}


@dataclass
class _Armed:
    fault: Fault
    remaining: int | None  # None: unlimited


class FaultSet:
    """The active faults with their remaining hit counts, consumed atomically.

    Two concurrent requests must never both consume the last hit of a ``times: 1`` fault,
    hence the lock around match-and-decrement.
    """

    def __init__(self, faults: list[Fault] | None = None) -> None:
        self._lock = threading.Lock()
        self._armed = [_Armed(f, f.times) for f in faults or []]

    def add(self, fault: Fault) -> None:
        with self._lock:
            self._armed.append(_Armed(fault, fault.times))

    def replace(self, faults: list[Fault]) -> None:
        with self._lock:
            self._armed = [_Armed(f, f.times) for f in faults]

    def clear(self) -> None:
        self.replace([])

    def take(self, method: str, path: str) -> Fault | None:
        """The fault this request triggers, if any, spending one of its hits."""
        with self._lock:
            for armed in self._armed:
                if armed.remaining == 0 or not armed.fault.matches(method, path):
                    continue
                if armed.remaining is not None:
                    armed.remaining -= 1
                return armed.fault
        return None
