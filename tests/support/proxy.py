"""A counting (and optionally delaying) HTTP reverse proxy in front of Azurite or the Graph simulator.

Tests point the app at ``proxy.url`` instead of the real endpoint and read how many requests (and
connections) went through: round trips are a behaviour, counted here, never timed. ``make bench``
uses the same proxy with ``delay`` seconds added before each answer to show what latency costs.

Requests are forwarded whole (method, path, headers, body) over one keep-alive connection per
client connection, so Shared Key signatures (which do not cover the host's port) stay valid.
"""

from __future__ import annotations

import http.client
import threading
import time
from collections.abc import Callable
from dataclasses import dataclass
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from types import TracebackType
from typing import Any
from urllib.parse import urlsplit

HOLD_LIMIT = 10.0  # seconds a held request waits for its event before going on anyway
_HOP_BY_HOP = {"connection", "keep-alive", "transfer-encoding", "proxy-connection", "upgrade"}


@dataclass(frozen=True)
class Forwarded:
    """One request the proxy forwarded: what it was, and when it started and ended (monotonic)."""

    method: str
    path: str
    status: int
    started: float
    ended: float


def sequential(requests: list[Forwarded]) -> int:
    """Round trips a caller waited for one after another: requests that overlapped in time count
    once (the longest chain of requests, each starting after the previous one ended)."""
    chain = 0
    end = float("-inf")
    for request in sorted(requests, key=lambda r: r.ended):
        if request.started >= end:
            chain += 1
            end = request.ended
    return chain


class CountingProxy:
    """``with CountingProxy("http://127.0.0.1:10002") as proxy: ... proxy.requests``.

    ``url`` is the proxy's root with the target's path kept (``http://127.0.0.1:<port>/<path>``).
    ``delay`` seconds are waited before each answer is sent back (a slow network, one way)."""

    def __init__(self, target: str, *, delay: float = 0.0) -> None:
        parts = urlsplit(target)
        self._target_host = parts.hostname or "127.0.0.1"
        self._target_port = parts.port or 80
        self._path = parts.path.rstrip("/")
        self.delay = delay
        self._lock = threading.Lock()
        self._log: list[Forwarded] = []
        self.connections = 0
        self.arrived = threading.Event()  # set by the first request since start or clear()
        self.waited_out: list[str] = []  # held requests released by the timeout, not by their event
        self._hold: tuple[Callable[[str, str], bool], threading.Event] | None = None
        proxy = self

        class Handler(_Handler):
            owner = proxy

        self._server = ThreadingHTTPServer(("127.0.0.1", 0), Handler)
        self._server.daemon_threads = True
        self._server.block_on_close = False
        self._thread = threading.Thread(target=self._server.serve_forever, daemon=True)

    @property
    def url(self) -> str:
        """Where to send requests instead of the target."""
        return f"http://127.0.0.1:{self._server.server_address[1]}{self._path}"

    @property
    def requests(self) -> list[Forwarded]:
        """Every request forwarded so far, in the order they ended (a snapshot)."""
        with self._lock:
            return list(self._log)

    def clear(self) -> None:
        """Forget the requests counted so far."""
        with self._lock:
            self._log.clear()
            self.arrived.clear()
            self.waited_out.clear()

    def hold(self, matching: Callable[[str, str], bool], until: threading.Event) -> None:
        """Forward requests ``matching(method, path)`` only once ``until`` is set (at most
        ``HOLD_LIMIT`` seconds, then named in ``waited_out``): proves, without a clock, that a
        caller had sent another request before this one was answered."""
        self._hold = (matching, until)

    def held(self, method: str, path: str) -> None:
        if self._hold is not None and self._hold[0](method, path) and not self._hold[1].wait(HOLD_LIMIT):
            with self._lock:
                self.waited_out.append(f"{method} {path}")

    def sequential(self) -> int:
        """Round trips through this proxy waited for one after another (see ``sequential``)."""
        return sequential(self.requests)

    def record(self, forwarded: Forwarded) -> None:
        with self._lock:
            self._log.append(forwarded)

    def connected(self) -> None:
        with self._lock:
            self.connections += 1

    def target(self) -> http.client.HTTPConnection:
        return http.client.HTTPConnection(self._target_host, self._target_port, timeout=60)

    def start(self) -> CountingProxy:
        self._thread.start()
        return self

    def stop(self) -> None:
        self._server.shutdown()
        self._server.server_close()

    def __enter__(self) -> CountingProxy:
        return self.start()

    def __exit__(self, *exc: object | TracebackType) -> None:
        self.stop()


class _Handler(BaseHTTPRequestHandler):
    protocol_version = "HTTP/1.1"
    # Headers and body leave in two writes: with Nagle's algorithm on, the body waits for the
    # client's delayed ACK (about 40 ms on Linux), which would be counted as the app's time.
    disable_nagle_algorithm = True
    owner: CountingProxy

    def setup(self) -> None:
        super().setup()
        self.owner.connected()
        self._upstream: http.client.HTTPConnection | None = None

    def finish(self) -> None:
        super().finish()
        if self._upstream is not None:
            self._upstream.close()

    def log_message(self, format: str, *args: Any) -> None:
        pass  # quiet: tests read the log instead

    def _forward(self) -> None:
        started = time.monotonic()
        self.owner.arrived.set()
        self.owner.held(self.command, self.path)
        length = int(self.headers.get("Content-Length") or 0)
        body = self.rfile.read(length) if length else None
        headers = {k: v for k, v in self.headers.items() if k.lower() not in _HOP_BY_HOP}
        if self._upstream is None:
            self._upstream = self.owner.target()
        try:
            self._upstream.request(self.command, self.path, body=body, headers=headers)
            answer = self._upstream.getresponse()
        except (OSError, http.client.HTTPException):  # the target dropped a kept-alive connection
            self._upstream.close()
            self._upstream.request(self.command, self.path, body=body, headers=headers)
            answer = self._upstream.getresponse()
        content = answer.read()
        if self.owner.delay:
            time.sleep(self.owner.delay)
        # Logged before the answer leaves: a caller that got its answer always finds the request
        # counted (logged after, it could land after the caller's next ``clear()``).
        self.owner.record(Forwarded(self.command, self.path, answer.status, started, time.monotonic()))
        self.send_response(answer.status, answer.reason)
        for name, value in answer.getheaders():
            if name.lower() not in _HOP_BY_HOP and name.lower() != "content-length":
                self.send_header(name, value)
        self.send_header("Content-Length", str(len(content)))
        self.end_headers()
        self.wfile.write(content)
        self.wfile.flush()

    do_GET = do_POST = do_PUT = do_PATCH = do_DELETE = do_MERGE = _forward
