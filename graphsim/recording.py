"""What clients sent, so tests can assert on calls (paging followed, $top used, PATCH body).

A request is recorded just BEFORE its response is written: a client that has its answer
can therefore rely on finding the request in the log, with no race against the server.
"""

from __future__ import annotations

import threading
from dataclasses import dataclass
from typing import Any


@dataclass(frozen=True)
class RecordedRequest:
    """One Graph request as the simulator saw it (control ``/_sim`` requests excluded)."""

    method: str
    version: str | None  # "v1.0" | "beta" | None (no known version prefix)
    path: str  # without the version prefix, percent-decoding left to the router
    query: dict[str, list[str]]
    headers: dict[str, str]  # lower-case names; a repeated header keeps its last value
    body: bytes
    json: Any  # the parsed body, None when empty or not JSON
    status: int | None  # the status answered; None when a "drop" fault closed the socket

    def to_json(self) -> dict[str, Any]:
        """The ``GET /_sim/requests`` form: body as text, everything else as is."""
        return {
            "method": self.method,
            "version": self.version,
            "path": self.path,
            "query": self.query,
            "headers": self.headers,
            "body": self.body.decode("utf-8", errors="replace"),
            "json": self.json,
            "status": self.status,
        }


class RequestLog:
    """Append-only, thread-safe list of ``RecordedRequest``."""

    def __init__(self) -> None:
        self._lock = threading.Lock()
        self._entries: list[RecordedRequest] = []

    def append(self, entry: RecordedRequest) -> None:
        with self._lock:
            self._entries.append(entry)

    def snapshot(self) -> list[RecordedRequest]:
        with self._lock:
            return list(self._entries)

    def clear(self) -> None:
        with self._lock:
            self._entries.clear()
