"""A local stand-in for the Azure Functions host: HTTP routing, function keys, timers on schedule.

The real host (Azure Functions Core Tools, ``func start``) is what runs the app in Azure and is
the one to use when it can be installed. This adapter serves ``make serve``, ``make demo`` and
the API tests from the same metadata the host indexes (each function's ``function.json``
bindings):

* HTTP triggers under ``/api/<route>``: route templates and methods matched as the host does
  (404 empty body for no route, 405 for a known route and another method), the function key
  checked for non-anonymous routes (``x-functions-key`` header or ``?code=``; 401 with an empty
  body, as the host answers), an ``azure.functions.HttpRequest`` built (route parameters, query,
  headers, raw body) and the function's ``HttpResponse`` written back. An exception in a
  function is logged and answered 500 with an empty body, as the host does.
* Non-HTTP functions on demand: ``POST /admin/functions/<name>`` with a JSON body (``{}`` or
  ``{"input": ...}``), as documented in "Manually run a non HTTP-triggered function" (Microsoft
  Learn). Like Core Tools, no master key is asked for locally. Unlike the host, the answer (202)
  comes once the run has finished, so a script can read its results right after.
* Timer triggers fired on their NCRONTAB schedules (``{second} {minute} {hour} {day} {month}
  {day-of-week}``, UTC); ``%NAME%`` schedules are read from the app setting NAME (its registered
  default when unset), as the host resolves them.
"""

from __future__ import annotations

import asyncio
import json
import logging
import os
import re
import threading
import time
from collections.abc import Callable, Mapping
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from typing import Any
from urllib.parse import parse_qsl, unquote, urlsplit

import azure.functions as func
from azure.functions.timer import TimerRequest

from shared import ncrontab

ROUTE_PREFIX = "/api/"
ADMIN_PREFIX = "/admin/functions/"
# The function key this stand-in accepts. Local only: in Azure every app has its own keys.
FUNCTION_KEY = "local-function-key"

log = logging.getLogger("mtd_guard.localhost")
_PAST_DUE = timedelta(seconds=5)  # a timer this late for its occurrence runs with past_due=True


@dataclass(frozen=True)
class Route:
    name: str
    methods: frozenset[str]
    template: str
    pattern: re.Pattern[str]
    anonymous: bool
    call: Any


@dataclass(frozen=True)
class Timer:
    name: str
    schedule: str  # as bound: "0 */5 * * * *" or an app setting reference "%HEARTBEAT_SCHEDULE%"
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


def _trigger(fn: Any) -> dict[str, Any]:
    bindings: list[dict[str, Any]] = json.loads(fn.get_function_json())["bindings"]
    return next(b for b in bindings if str(b.get("type", "")).endswith("Trigger"))


def routes(functions: Mapping[str, Any]) -> list[Route]:
    """Every HTTP-triggered function, as the host indexes it (default methods GET and POST)."""
    found = []
    for name, fn in functions.items():
        trigger = _trigger(fn)
        if trigger["type"] != "httpTrigger":
            continue
        template = (trigger.get("route") or name).strip("/")
        found.append(
            Route(
                name=name,
                methods=frozenset(m.upper() for m in trigger.get("methods") or ["GET", "POST"]),
                template=template,
                pattern=_compile(template),
                anonymous=str(trigger.get("authLevel", "function")).lower() == "anonymous",
                call=fn.get_user_function(),
            )
        )
    return found


def timers(functions: Mapping[str, Any]) -> list[Timer]:
    return [
        Timer(name, str(trigger["schedule"]), fn.get_user_function())
        for name, fn in functions.items()
        if (trigger := _trigger(fn))["type"] == "timerTrigger"
    ]


def resolve_schedule(schedule: str, env: Mapping[str, str] | None = None) -> str:
    """'%HEARTBEAT_SCHEDULE%' -> the app setting's value, else its registered default.

    Raises ValueError naming the setting when neither exists, or when the expression is not a
    six-field NCRONTAB expression.
    """
    from shared import settings

    expression = schedule
    if match := re.fullmatch(r"%(\w+)%", schedule):
        name = match.group(1)
        value = (os.environ if env is None else env).get(name, "").strip()
        if not value:
            try:
                value = settings.raw(name, env) or ""
            except KeyError:
                value = ""
        if not value:
            raise ValueError(f"the schedule {schedule} names the app setting {name}, which is not set")
        expression = value
    try:  # the app's own check (shared/ncrontab.py): what the settings refuse, serve refuses too
        ncrontab.normalize(expression)
    except ncrontab.ScheduleError as exc:
        raise ValueError(f"the schedule {expression!r} {exc}") from None
    return expression


def next_run(expression: str, after: datetime) -> datetime:
    """The first occurrence of an NCRONTAB expression strictly after ``after`` (UTC), read as the
    Functions host reads it (shared/ncrontab.py)."""
    return ncrontab.next_occurrence(ncrontab.normalize(expression), after)


def invoke(call: Any, *args: Any) -> Any:
    result = call(*args)
    if asyncio.iscoroutine(result):
        result = asyncio.run(result)
    return result


class TimerScheduler:
    """Fires each timer function at its schedule's next occurrences, in one background thread."""

    def __init__(self, found: list[Timer], env: Mapping[str, str] | None = None) -> None:
        self.expressions = {t.name: resolve_schedule(t.schedule, env) for t in found}
        self._timers = found
        self._stop = threading.Event()
        self._thread = threading.Thread(target=self._loop, name="timers", daemon=True)
        self.next_runs: dict[str, datetime] = {}

    def start(self) -> TimerScheduler:
        now = datetime.now(UTC)
        self.next_runs = {t.name: next_run(self.expressions[t.name], now) for t in self._timers}
        self._thread.start()
        return self

    def stop(self) -> None:
        self._stop.set()
        if self._thread.is_alive():
            self._thread.join(timeout=5)

    def _loop(self) -> None:
        by_name = {t.name: t for t in self._timers}
        while self.next_runs:
            name, due = min(self.next_runs.items(), key=lambda item: item[1])
            if self._stop.wait(max(0.0, (due - datetime.now(UTC)).total_seconds())):
                return
            # A run that overran the next occurrence is "past due", as the host reports it.
            past_due = datetime.now(UTC) - due > _PAST_DUE
            log.info("timer %s fired (schedule %s)", name, self.expressions[name])
            run_timer(by_name[name], past_due=past_due)
            self.next_runs[name] = next_run(self.expressions[name], datetime.now(UTC))


def run_timer(timer: Timer, *, past_due: bool = False) -> bool:
    """Run a timer function once; False (and the error logged, as the host logs it) if it raised."""
    started = time.perf_counter()
    try:
        invoke(timer.call, TimerRequest(past_due=past_due))
    except Exception:
        log.exception("%s failed", timer.name)
        return False
    log.info("%s finished in %.0f ms", timer.name, (time.perf_counter() - started) * 1000)
    return True


class ApiServer:
    """``ApiServer(functions).start()``; ``.url`` (``http://127.0.0.1:PORT``), ``.stop()``.

    ``on_request(method, path, status, seconds)`` is called after each request (``make serve``
    prints them); ``stats`` holds calls and seconds per function.
    """

    def __init__(
        self,
        functions: Mapping[str, Any],
        *,
        host: str = "127.0.0.1",
        port: int = 0,
        key: str = FUNCTION_KEY,
        on_request: Callable[[str, str, int, float], None] | None = None,
    ) -> None:
        self.routes = routes(functions)
        self.timers = {t.name.lower(): t for t in timers(functions)}
        self.http_names = {r.name.lower() for r in self.routes}
        self.key = key
        self.on_request = on_request
        self.stats: dict[str, list[float]] = {}  # function name -> [calls, seconds]
        outer = self

        class Handler(BaseHTTPRequestHandler):
            protocol_version = "HTTP/1.1"
            # Headers and body go out in two writes: with Nagle's algorithm the body waits for the
            # client's delayed ACK (~40 ms a request on keep-alive connections).
            disable_nagle_algorithm = True

            def do_GET(self) -> None:
                started = time.perf_counter()
                status = outer._serve(self)
                if outer.on_request:
                    outer.on_request(self.command, self.path, status, time.perf_counter() - started)

            def __getattr__(self, name: str) -> Any:
                if name.startswith("do_"):  # any other method (QUERY, TRACE, ...): 405 like the host
                    return self.do_GET
                raise AttributeError(name)

            def log_message(self, format: str, *args: Any) -> None:
                pass

        self._server = ThreadingHTTPServer((host, port), Handler)
        self._server.daemon_threads = True
        self.url = f"http://{host}:{self._server.server_address[1]}"
        self._thread = threading.Thread(target=self._server.serve_forever, daemon=True)

    def start(self) -> ApiServer:
        self._thread.start()
        return self

    def stop(self) -> None:
        if self._thread.is_alive():  # shutdown() waits for serve_forever, which may never have started
            self._server.shutdown()
        self._server.server_close()

    def _serve(self, h: BaseHTTPRequestHandler) -> int:
        length = int(h.headers.get("Content-Length") or 0)
        raw = h.rfile.read(length) if length else b""
        split = urlsplit(h.path)
        path = split.path.lower()
        if path.startswith(ADMIN_PREFIX):
            return self._admin(h, unquote(split.path[len(ADMIN_PREFIX) :]))
        if not path.startswith(ROUTE_PREFIX):
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
        if not route.anonymous:
            key = h.headers.get("x-functions-key") or params.get("code")
            if key != self.key:  # the host answers 401 with no body
                return _write(h, 401, b"", None, {})
        req = func.HttpRequest(
            h.command,
            f"http://localhost{split.path}" + (f"?{split.query}" if split.query else ""),
            headers=dict(h.headers.items()),
            params=params,
            route_params={k: unquote(v) for k, v in match.groupdict().items()},
            body=raw,
        )
        started = time.perf_counter()
        try:
            response = invoke(route.call, req)
        except Exception:
            log.exception("%s failed", route.name)
            return _write(h, 500, b"", None, {})
        stat = self.stats.setdefault(route.name, [0, 0.0])
        stat[0] += 1
        stat[1] += time.perf_counter() - started
        content_type = None
        if response.mimetype:
            content_type = response.mimetype + (f"; charset={response.charset}" if response.charset else "")
        return _write(
            h, response.status_code, response.get_body() or b"", content_type, dict(response.headers)
        )

    def _admin(self, h: BaseHTTPRequestHandler, name: str) -> int:
        """POST /admin/functions/<name>: run a non-HTTP function now (202), as the host does."""
        if h.command != "POST":
            return _write(h, 405, b"", None, {})
        timer = self.timers.get(name.lower())
        if timer is None:
            # The host only runs non-HTTP functions this way; it answers 404 for anything else.
            return _write(h, 404, b"", None, {})
        return _write(h, 202 if run_timer(timer) else 500, b"", None, {})


def _write(
    h: BaseHTTPRequestHandler, status: int, body: bytes, content_type: str | None, headers: dict[str, str]
) -> int:
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
    return status
