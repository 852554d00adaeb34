"""A small local HTTP front for the Functions app, standing in for the Functions host in tests.

The real host (Core Tools) cannot be installed here. This adapter does what the host does for
HTTP triggers, from the same metadata the host indexes (``function.json`` bindings): matches the
route template and method, checks the function key for non-anonymous routes (401 with an empty
body, as the host answers), builds an ``azure.functions.HttpRequest`` (route parameters, query,
headers, raw body) and writes the function's ``HttpResponse`` back. Used to fuzz the served
OpenAPI document with schemathesis over real HTTP.
"""

from __future__ import annotations

import asyncio
import json
import re
import threading
import time
from dataclasses import dataclass
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from typing import Any
from urllib.parse import parse_qsl, unquote, urlsplit

import azure.functions as func

ROUTE_PREFIX = "/api/"
FUNCTION_KEY = "local-test-function-key"


@dataclass(frozen=True)
class Route:
    name: str
    methods: frozenset[str]
    pattern: re.Pattern[str]
    anonymous: bool
    call: Any


def _compile(template: str) -> re.Pattern[str]:
    """'connectors/{partner}' -> a regex with named groups; '{name:constraint}' keeps the name."""
    parts = []
    for piece in re.split(r"(\{[^}]+\})", template.strip("/")):
        if piece.startswith("{"):
            name = piece[1:-1].split(":")[0].rstrip("?")
            parts.append(f"(?P<{name}>[^/]+)")
        else:
            parts.append(re.escape(piece))
    return re.compile("^" + "".join(parts) + "$", re.IGNORECASE)


def routes(functions: dict[str, Any]) -> list[Route]:
    found = []
    for name, fn in functions.items():
        bindings = json.loads(fn.get_function_json())["bindings"]
        trigger = next((b for b in bindings if b.get("type") == "httpTrigger"), None)
        if trigger is None:
            continue
        found.append(
            Route(
                name=name,
                methods=frozenset(m.upper() for m in trigger.get("methods") or ["GET", "POST"]),
                pattern=_compile(trigger.get("route") or name),
                anonymous=str(trigger.get("authLevel", "function")).lower() == "anonymous",
                call=fn.get_user_function(),
            )
        )
    return found


class ApiServer:
    def __init__(self, functions: dict[str, Any]) -> None:
        self.routes = routes(functions)
        self.stats: dict[str, list[float]] = {}  # function name -> [calls, seconds]
        outer = self

        class Handler(BaseHTTPRequestHandler):
            protocol_version = "HTTP/1.1"
            # Headers and body go out in two writes: with Nagle's algorithm the body waits for the
            # client's delayed ACK (~40 ms a request on keep-alive connections).
            disable_nagle_algorithm = True

            def do_GET(self) -> None:
                outer._serve(self)

            def __getattr__(self, name: str) -> Any:
                if name.startswith("do_"):  # any other method (QUERY, TRACE, ...): 405 like the host
                    return self.do_GET
                raise AttributeError(name)

            def log_message(self, format: str, *args: Any) -> None:
                pass

        self._server = ThreadingHTTPServer(("127.0.0.1", 0), Handler)
        self._server.daemon_threads = True
        self.url = f"http://127.0.0.1:{self._server.server_address[1]}"
        self._thread = threading.Thread(target=self._server.serve_forever, daemon=True)

    def start(self) -> ApiServer:
        self._thread.start()
        return self

    def stop(self) -> None:
        self._server.shutdown()
        self._server.server_close()

    def _serve(self, h: BaseHTTPRequestHandler) -> None:
        length = int(h.headers.get("Content-Length") or 0)
        raw = h.rfile.read(length) if length else b""
        split = urlsplit(h.path)
        if not split.path.lower().startswith(ROUTE_PREFIX):
            return _write(h, 404, b"", None, {})
        route_path = unquote(split.path[len(ROUTE_PREFIX) :])
        params = dict(parse_qsl(split.query, keep_blank_values=True))
        matched = [(r, m) for r in self.routes if (m := r.pattern.match(route_path))]
        if not matched:
            return _write(h, 404, b"", None, {})
        allowed = [(r, m) for r, m in matched if h.command in r.methods]
        if not allowed:
            return _write(h, 405, b"", None, {})
        route, match = allowed[0]
        headers = {k: v for k, v in h.headers.items()}
        if not route.anonymous:
            key = h.headers.get("x-functions-key") or params.get("code")
            if key != FUNCTION_KEY:  # the host answers 401 with no body
                return _write(h, 401, b"", None, {})
        req = func.HttpRequest(
            h.command,
            f"http://localhost{split.path}" + (f"?{split.query}" if split.query else ""),
            headers=headers,
            params=params,
            route_params={k: unquote(v) for k, v in match.groupdict().items()},
            body=raw,
        )
        started = time.perf_counter()
        response = route.call(req)
        if asyncio.iscoroutine(response):
            response = asyncio.run(response)
        stat = self.stats.setdefault(route.name, [0, 0.0])
        stat[0] += 1
        stat[1] += time.perf_counter() - started
        content_type = None
        if response.mimetype:
            content_type = response.mimetype + (f"; charset={response.charset}" if response.charset else "")
        return _write(
            h, response.status_code, response.get_body() or b"", content_type, dict(response.headers)
        )


def _write(
    h: BaseHTTPRequestHandler, status: int, body: bytes, content_type: str | None, headers: dict[str, str]
) -> None:
    h.send_response(status)
    if content_type and body:
        h.send_header("Content-Type", content_type)
    for name, value in headers.items():
        if name.lower() not in ("content-type", "content-length"):
            h.send_header(name, value)
    h.send_header("Content-Length", str(len(body)))
    h.end_headers()
    if h.command != "HEAD":
        h.wfile.write(body)
