"""Local stand-ins for the network failures the real services and networks show: an endpoint that
accepts connections and never answers, and one that answers a byte at a time.

Both are real TCP servers on 127.0.0.1 (a free port each), so the product's own HTTP stacks
(httpx for Graph and the channels, requests for Table Storage) meet them exactly as they would meet
a stuck load balancer or a trickling proxy.
"""

from __future__ import annotations

import socket
import threading
import time
from typing import Any


class _Server:
    """A TCP server handing each connection to ``serve`` on its own daemon thread."""

    def __init__(self) -> None:
        self._listener = socket.create_server(("127.0.0.1", 0))
        self.port = self._listener.getsockname()[1]
        self.url = f"http://127.0.0.1:{self.port}"
        self.connections = 0
        self._stopping = threading.Event()
        self._held: list[socket.socket] = []

    def __enter__(self) -> Any:
        threading.Thread(target=self._accept, daemon=True).start()
        return self

    def __exit__(self, *exc: object) -> None:
        self._stopping.set()
        self._listener.close()
        for conn in self._held:
            conn.close()

    def _accept(self) -> None:
        while not self._stopping.is_set():
            try:
                conn, _ = self._listener.accept()
            except OSError:
                return
            self.connections += 1
            self._held.append(conn)
            threading.Thread(target=self.serve, args=(conn,), daemon=True).start()

    def serve(self, conn: socket.socket) -> None:
        raise NotImplementedError

    def wait(self, seconds: float) -> bool:
        """Sleep ``seconds`` unless stopped meanwhile; True while still running."""
        return not self._stopping.wait(seconds)


class SilentServer(_Server):
    """Accepts every connection, reads what is sent, never answers."""

    def serve(self, conn: socket.socket) -> None:
        while self.wait(0.5):
            pass


class TrickleServer(_Server):
    """Answers every request ``200`` with a JSON ``body``, the body one byte every ``interval``
    seconds: every single read is quick, the whole answer takes ``len(body) * interval``."""

    def __init__(self, body: bytes, interval: float) -> None:
        super().__init__()
        self.body = body
        self.interval = interval

    def serve(self, conn: socket.socket) -> None:
        conn.settimeout(5)
        try:
            conn.recv(65536)  # the request (small, one read is enough for these clients)
            head = (
                "HTTP/1.1 200 OK\r\nContent-Type: application/json\r\n"
                f"Content-Length: {len(self.body)}\r\n\r\n"
            )
            conn.sendall(head.encode())
            for byte in self.body:
                if not self.wait(self.interval):
                    return
                conn.sendall(bytes([byte]))
        except OSError:
            return


def wall(start: float) -> float:
    """Seconds since ``start`` (``time.monotonic()``)."""
    return time.monotonic() - start
